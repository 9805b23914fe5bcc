// One WebGPU backend per suite, destroyed after it (Dawn busy-polls a core
// until its device is destroyed, and keeps the process alive).
import { createNodeGpu, type NodeGpu } from '../../hosts/node/device.js';
import type { WebGPUBackendOptions } from '../../core/ts/backend/webgpu/backend.js';
import { rand } from './random.js';
export { rand } from './random.js';

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

export function randArray(n: number, seed: number, scale = 1): Float32Array {
  const r = rand(seed);
  return Float32Array.from({ length: n }, () => (2 * r() - 1) * scale);
}
