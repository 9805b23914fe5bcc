// The Node host's backend: `--backend webgpu|wasm|auto` (hosts/shared/select-backend.ts).
// Under auto the WebGPU probe is skipped when no hardware Vulkan driver is
// installed, so a GPU-less machine never starts Dawn (which busy-polls a core).
import { selectBackend } from '../shared/select-backend.js';
import type { HostBackend, HostBackendOptions } from '../shared/host.js';
import { createNodeGpu, type NodeGpu } from './device.js';
import { hasHardwareIcd } from './vulkan-env.js';
import { createNodeWasm } from './wasm.js';
import { withTestFaults } from './test-faults.js';

export interface NodeBackend extends HostBackend {
  gpu: NodeGpu | null;
}

export type NodeBackendOptions = HostBackendOptions;

export async function createNodeBackend(opts: NodeBackendOptions = {}): Promise<NodeBackend> {
  const sel = await selectBackend(opts.backend ?? 'auto', {
    webgpu: () => createNodeGpu({ backend: opts.webgpu }),
    wasm: () => createNodeWasm({ threads: opts.threads }),
    noHardware: () => {
      const preset = process.env.VK_DRIVER_FILES || process.env.VK_ICD_FILENAMES;
      if (preset) return /lvp|lavapipe|swiftshader/i.test(preset) ? `VK_ICD_FILENAMES selects a software Vulkan driver (${preset})` : null;
      return hasHardwareIcd() ? null : 'no GPU or hardware Vulkan driver on this machine';
    },
  });
  const gpu = sel.gpu;
  if (gpu && opts.threads !== undefined) sel.why += ` (--threads ${opts.threads} ignored: it sets the Wasm core's threads)`;
  const device: Record<string, string | number> = { backend: sel.backend.kind, adapter: sel.backend.description, why: sel.why };
  if (gpu) device.driver = gpu.driver.note;
  if (sel.backend.kind === 'wasm') device.threads = (sel.backend as { threads?: number }).threads ?? 1;
  return {
    backend: withTestFaults(sel.backend),
    gpu,
    why: sel.why,
    device,
    saveTuning: () => gpu?.saveTuning(),
    kernelChoices: () => (gpu ? Object.fromEntries(gpu.backend.tuner.choices) : {}),
  };
}
