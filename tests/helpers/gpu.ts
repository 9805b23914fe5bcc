// One WebGPU backend per suite, destroyed after it (Dawn busy-polls a core
// until its device is destroyed, and keeps the process alive).
import { createNodeGpu, type NodeGpu } from '../../hosts/node/device.js';
import type { WebGPUBackendOptions } from '../../core/ts/backend/webgpu/backend.js';
import { rand } from './numeric.js';
export { rand, relErr } from './numeric.js';

export async function testGpu(opts: WebGPUBackendOptions = {}): Promise<NodeGpu> {
  return createNodeGpu({ backend: opts });
}

export function randArray(n: number, seed: number, scale = 1): Float32Array {
  const r = rand(seed);
  return Float32Array.from({ length: n }, () => (2 * r() - 1) * scale);
}
