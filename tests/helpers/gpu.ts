// One WebGPU backend per suite, destroyed after it (Dawn busy-polls a core
// until its device is destroyed, and keeps the process alive).
import { createNodeGpu, type NodeGpu } from '../../hosts/node/device.js';
import type { WebGPUBackendOptions } from '../../core/ts/backend/webgpu/backend.js';

export async function testGpu(opts: WebGPUBackendOptions = {}): Promise<NodeGpu> {
  return createNodeGpu({ backend: opts });
}

/** ‖a−b‖∞ / max(‖b‖∞, tiny): the error measure every tolerance here refers to. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-30);
}

/** Deterministic test data (mulberry32), independent of the engine's Philox. */
export function rand(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randArray(n: number, seed: number, scale = 1): Float32Array {
  const r = rand(seed);
  return Float32Array.from({ length: n }, () => (2 * r() - 1) * scale);
}
