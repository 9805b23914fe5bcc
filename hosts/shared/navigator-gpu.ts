// A WebGPUBackend from a standard `navigator.gpu` (Deno's wgpu, a browser's
// Dawn). Only web-standard globals here, so both hosts/deno and the browser
// bundle can import it.
import { WebGPUBackend, type WebGPUBackendOptions } from '../../core/ts/backend/webgpu/backend.js';

export interface NavigatorGpu {
  backend: WebGPUBackend;
  adapterInfo: Record<string, string>;
  /** A software rasteriser (SwiftShader, lavapipe): the Wasm core beats it on the same CPU. */
  cpuLike: boolean;
}

/** Describes an adapter in one line for logs and metadata (same format as hosts/node). */
export function describeAdapter(info: Record<string, string>): string {
  const parts = [info.description, info.vendor, info.architecture, info.device].filter((s) => s && s.length > 0);
  return parts.length ? [...new Set(parts)].join(' / ') : 'unknown WebGPU adapter';
}

/** Software rasterisers expose themselves by name; they want CPU-shaped kernels. */
export function isCpuAdapter(info: Record<string, string>, isFallback = false): boolean {
  return isFallback || /swiftshader|llvmpipe|lavapipe|software|cpu/i.test(Object.values(info).join(' '));
}

/**
 * Requests an adapter and a device with the adapter's full buffer and
 * workgroup limits. `noAdapter` is the host's advice when there is none.
 */
export async function createNavigatorGpu(
  gpu: GPU | undefined, noAdapter: string, opts: WebGPUBackendOptions = {},
): Promise<NavigatorGpu> {
  if (!gpu) throw new Error(`WebGPU is not available here (navigator.gpu is undefined): ${noAdapter}`);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error(`no WebGPU adapter (navigator.gpu.requestAdapter() returned null): ${noAdapter}`);
  const info: Record<string, string> = {};
  const ai = adapter.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
  for (const k of ['vendor', 'architecture', 'device', 'description'] as const) info[k] = String(ai?.[k] ?? '');
  const fallback = !!(ai?.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter);
  const lim = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxBufferSize: lim.maxBufferSize,
      maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup,
    },
  });
  const cpuLike = isCpuAdapter(info, fallback);
  const backend = new WebGPUBackend(device, { description: describeAdapter(info), cpuLike, ...opts });
  return { backend, adapterInfo: info, cpuLike };
}
