// The Node host's WebGPU device: Dawn through the `webgpu` package, on the
// Vulkan driver vulkan-env.ts picks (a real GPU when there is one, else the
// project's Mesa lavapipe, else Chromium's SwiftShader).
import { createRequire } from 'node:module';
import { WebGPUBackend, type WebGPUBackendOptions } from '../../core/ts/backend/webgpu/backend.js';
import { configureVulkanEnv, noAdapterMessage, type DriverChoice, type DriverPreference } from './vulkan-env.js';
import { reexecForVulkanIfNeeded } from './reexec.js';
import { loadTuneCache, saveTuneCache } from './tune-cache.js';

export interface NodeGpu {
  backend: WebGPUBackend;
  driver: DriverChoice;
  adapterInfo: Record<string, string>;
  /** Writes the autotune choices made so far to the per-adapter cache file. */
  saveTuning(): void;
}

/** Describes an adapter in one line for logs and metadata. */
export function describeAdapter(info: Record<string, string>): string {
  const parts = [info.description, info.vendor, info.architecture, info.device].filter((s) => s && s.length > 0);
  return parts.length ? [...new Set(parts)].join(' / ') : 'unknown WebGPU adapter';
}

/** Software rasterisers expose themselves by name; they want CPU-shaped kernels. */
export function isCpuAdapter(info: Record<string, string>, isFallback = false): boolean {
  return isFallback || /swiftshader|llvmpipe|lavapipe|software|cpu/i.test(Object.values(info).join(' '));
}

// One Dawn instance per process, held for its lifetime: if the GPU object is
// garbage-collected, Dawn's event pump keeps calling into the freed instance
// and the process aborts (seen as "std::system_error: Invalid argument").
let instance: GPU | null = null;

/** This process's Dawn GPU instance (null before the first createNodeGpu), for other WebGPU users such as a benchmark's `navigator.gpu`. */
export function nodeGpuInstance(): GPU | null {
  return instance;
}

export async function createNodeGpu(opts: { prefer?: DriverPreference; backend?: WebGPUBackendOptions } = {}): Promise<NodeGpu> {
  const driver = configureVulkanEnv({ prefer: opts.prefer });
  reexecForVulkanIfNeeded();
  const require = createRequire(import.meta.url);
  let webgpu: { create(flags: string[]): GPU; globals: Record<string, unknown> };
  try {
    webgpu = require('webgpu');
  } catch (e) {
    throw new Error(`cannot load the 'webgpu' package (${(e as Error).message.split('\n')[0]}): run \`npm install\``);
  }
  Object.assign(globalThis, webgpu.globals);
  const gpu = (instance ??= webgpu.create([]));
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error(`${noAdapterMessage()} (driver: ${driver.note})`);
  const info: Record<string, string> = {};
  for (const k of ['vendor', 'architecture', 'device', 'description'] as const) info[k] = String(adapter.info?.[k] ?? '');
  const lim = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxBufferSize: lim.maxBufferSize,
      maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup,
    },
  });
  const description = describeAdapter(info);
  const tuneCache = opts.backend?.tuneCache ?? loadTuneCache(description);
  const backend = new WebGPUBackend(device, {
    description,
    cpuLike: isCpuAdapter(info, (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    tuneCache,
    ...opts.backend,
  });
  return { backend, driver, adapterInfo: info, saveTuning: () => saveTuneCache(description, backend.tuner.choices) };
}
