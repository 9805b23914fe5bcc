// The Node host's WebGPU device: Dawn through the `webgpu` package, on the
// Vulkan driver vulkan-env.ts picks (a real GPU when there is one, else the
// project's Mesa lavapipe, else Chromium's SwiftShader). Adapter and device
// requests are shared with Deno and the browser (hosts/shared).
import { createRequire } from 'node:module';
import type { WebGPUBackend, WebGPUBackendOptions } from '../../core/ts/backend/webgpu/backend.js';
import { createNavigatorGpu } from '../shared/navigator-gpu.js';
import { configureVulkanEnv, noAdapterMessage, type DriverChoice, type DriverPreference } from './vulkan-env.js';
import { reexecForVulkanIfNeeded } from './reexec.js';
import { loadTuneCache, saveTuneCache, tuneKey } from './tune-cache.js';

export interface NodeGpu {
  backend: WebGPUBackend;
  driver: DriverChoice;
  adapterInfo: Record<string, string>;
  cpuLike: boolean;
  /** Writes the autotune choices made so far to the per-adapter cache file. */
  saveTuning(): void;
}

// One Dawn instance per process, held for its lifetime: if the GPU object is
// garbage-collected, Dawn's event pump keeps calling into the freed instance
// and the process aborts (seen as "std::system_error: Invalid argument").
let instance: GPU | null = null;

export { describeAdapter, isCpuAdapter } from '../shared/navigator-gpu.js';

/** The process's Dawn instance once created (TF.js in bench/ shares it). */
export function nodeGpuInstance(): GPU | null {
  return instance;
}

/** Picks the Vulkan driver, then creates the process's Dawn instance on first use. */
function dawnInstance(prefer?: DriverPreference): { gpu: GPU; driver: DriverChoice } {
  const driver = configureVulkanEnv({ prefer });
  reexecForVulkanIfNeeded();
  if (!instance) {
    let webgpu: { create(flags: string[]): GPU; globals: Record<string, unknown> };
    try {
      webgpu = createRequire(import.meta.url)('webgpu');
    } catch (e) {
      throw new Error(`cannot load the 'webgpu' package (${(e as Error).message.split('\n')[0]}): run \`npm install\``);
    }
    Object.assign(globalThis, webgpu.globals);
    instance = webgpu.create([]);
  }
  return { gpu: instance, driver };
}

export async function createNodeGpu(opts: { prefer?: DriverPreference; backend?: WebGPUBackendOptions } = {}): Promise<NodeGpu> {
  const { gpu, driver } = dawnInstance(opts.prefer);
  let description = '';
  const tuneCache = opts.backend?.tuneCache ?? new Map<string, string>();
  const { backend, adapterInfo, cpuLike } = await createNavigatorGpu(gpu, `${noAdapterMessage()} (driver: ${driver.note})`, { ...opts.backend, tuneCache });
  description = backend.description;
  // Choices are per adapter: fill the live map from the cache now that we know which one.
  if (!opts.backend?.tuneCache) for (const [k, v] of loadTuneCache(tuneKey(description))) tuneCache.set(k, v);
  return { backend, driver, adapterInfo, cpuLike, saveTuning: () => saveTuneCache(tuneKey(description), backend.tuner.choices) };
}
