import { createNodeGpu } from '../../hosts/node/device.ts';
import { MATMUL_VARIANTS } from '../../core/ts/backend/webgpu/matmul-variants.ts';
const gpu = await createNodeGpu();
console.log(gpu.driver, gpu.backend.description);
const be = gpu.backend;
for (const [layout, M, N, L] of [['abt', 5000, 200, 3072], ['ab', 5000, 3072, 200], ['atb', 200, 3072, 5000]] as const) {
  const a = be.alloc(M * L, 'a'), b = be.alloc(L * N, 'b'), c = be.alloc(M * N, 'c');
  for (const v of MATMUL_VARIANTS) {
    if (v.id === 'tiled-16x16-k16' || v.id === 'naive-16x16') continue;
    const op = { layout, M, N, L, K: 1, a: { buf: a, off: 0, bs: 0 }, b: { buf: b, off: 0, bs: 0 }, c: { buf: c, off: 0, bs: 0 } };
    be.matmul(op as any, v); await be.flush();
    const t0 = performance.now(); be.matmul(op as any, v); await be.flush(); const t = performance.now() - t0;
    console.log(layout, v.id, t.toFixed(1), 'ms', (2 * M * N * L / t / 1e6).toFixed(2), 'GFLOP/s');
  }
}
be.destroy();
