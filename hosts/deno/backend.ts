// The Deno host of the shared CLI (hosts/node/cli.ts) and of mod.ts:
// `--backend webgpu|wasm|auto` on Deno's navigator.gpu (wgpu) or the Wasm
// core on Deno Workers, by the same rule as Node (hosts/shared/select-backend.ts).
// The Vulkan driver is picked as on Node (hosts/node/vulkan-env.ts: a GPU's,
// else the project's lavapipe, else SwiftShader) by setting VK_ICD_FILENAMES
// before wgpu creates its instance; Node's LD_LIBRARY_PATH re-exec is not
// done here (needed only where system libraries cannot load lavapipe).
import { selectBackend } from '../shared/select-backend.js';
import type { CliHost, HostBackend, HostBackendOptions } from '../shared/host.js';
import { withTestFaults } from '../node/test-faults.js';
import { configureVulkanEnv, type DriverChoice } from '../node/vulkan-env.js';
import { loadTuneCache, saveTuneCache, tuneKey } from '../node/tune-cache.js';
import { createDenoGpu } from './device.js';
import { createDenoWasm } from './wasm.js';

declare const Deno: { args: string[]; version: { deno: string } };

export async function createDenoBackend(opts: HostBackendOptions = {}): Promise<HostBackend> {
  // A resumed run brings the kernels it started with; otherwise the per-adapter cache, filled once the adapter is known.
  const tuneCache = opts.webgpu?.tuneCache ?? new Map<string, string>();
  let driver: DriverChoice | null = null;
  const sel = await selectBackend(opts.backend ?? 'auto', {
    webgpu: async () => {
      driver = configureVulkanEnv();
      const gpu = await createDenoGpu({ ...opts.webgpu, tuneCache });
      if (!opts.webgpu?.tuneCache) for (const [k, v] of loadTuneCache(tuneKey(gpu.backend.description))) tuneCache.set(k, v);
      return gpu;
    },
    wasm: () => createDenoWasm({ threads: opts.threads }),
  });
  const gpu = sel.gpu;
  if (gpu && opts.threads !== undefined) sel.why += ` (--threads ${opts.threads} ignored: it sets the Wasm core's threads)`;
  const device: Record<string, string | number> = { backend: sel.backend.kind, adapter: sel.backend.description, why: sel.why };
  if (gpu) device.driver = `${(driver as DriverChoice | null)?.note ?? 'system Vulkan'}; wgpu (Deno ${Deno.version.deno})`;
  if (sel.backend.kind === 'wasm') device.threads = (sel.backend as { threads?: number }).threads ?? 1;
  return {
    backend: withTestFaults(sel.backend),
    why: sel.why,
    device,
    // The same cache file as Node ($EOSLAB_CACHE or ~/.cache/eoslab/autotune.json): tuning on wgpu costs many read-backs, once per adapter.
    saveTuning: () => { if (gpu) saveTuneCache(tuneKey(gpu.backend.description), gpu.backend.tuner.choices); },
    kernelChoices: () => (gpu ? Object.fromEntries(gpu.backend.tuner.choices) : {}),
  };
}

export function denoHost(args: string[] = Deno.args): CliHost {
  return {
    createBackend: createDenoBackend,
    args,
    cores: () => navigator.hardwareConcurrency ?? 1,
    log: (s) => console.log(s),
    warn: (s) => console.error(s),
  };
}
