// Matmul in all three layouts, with and without each fused epilogue, batched
// over K with a shared operand (stride 0), against a float64 matmul: through
// the Backend interface on every backend (WebGPU and Wasm), and on WebGPU
// for every kernel variant too. Shapes are odd so partial tiles, clamped
// loads and the Wasm core's packing edges are exercised.
// A second, larger shape (2.4 Mflop) crosses the Wasm backend's threshold for
// splitting a matmul over its worker threads.
// Tolerance 1e-5 relative: f32 dot products of ≤ 75 terms (error ≲ 75·6e-8;
// typically ~1e-7).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend, MatmulOp } from '../core/ts/backend/types.js';
import type { WebGPUBackend } from '../core/ts/backend/webgpu/backend.js';
import { MATMUL_VARIANTS, variantEligible } from '../core/ts/backend/webgpu/matmul-variants.js';
import { matmulRef64 } from './reference/matmul64.js';
import { BACKENDS, forEachBackend } from './helpers/backends.js';
import { randArray, relErr, testGpu } from './helpers/gpu.js';
import { upload } from './helpers/problem.js';

type Shape = { M: number; N: number; L: number; K: number };
const SMALL: Shape = { M: 37, N: 29, L: 41, K: 2 };
const LARGE: Shape = { M: 97, N: 83, L: 75, K: 2 };

/** Every layout × epilogue on one shape through `mm` (be.matmul, or one WebGPU variant). */
async function layoutsTimesEpilogues(be: Backend, what: string, { M, N, L, K }: Shape, mm: (op: MatmulOp) => void): Promise<void> {
  for (const layout of ['ab', 'abt', 'atb'] as const) {
    const flagsList = [
      { accum: false, bias: false, act: false, dact: false, alpha: 1 },
      { accum: true, bias: true, act: true, dact: false, alpha: 0.5 },
      { accum: false, bias: false, act: false, dact: true, alpha: -2 },
    ];
    for (const f of flagsList) {
      const A = randArray(M * L, 1), B = randArray(K * L * N, 2), C0 = randArray(K * M * N, 3);
      const bias = randArray(K * N, 4), aux = randArray(K * M * N, 5);
      // Offsets exercise views into larger buffers.
      const off = 5;
      const pad = (x: Float32Array) => { const o = new Float32Array(x.length + off); o.set(x, off); return o; };
      const a = upload(be, pad(A), 'A'), b = upload(be, pad(B), 'B'), c = upload(be, pad(C0), 'C');
      const bb = upload(be, bias, 'bias'), xb = upload(be, aux, 'aux'), o2 = be.alloc(K * M * N, 'out2');
      mm({
        layout, M, N, L, K, alpha: f.alpha, accumulate: f.accum,
        a: { buf: a, off, bs: 0 }, b: { buf: b, off, bs: L * N }, c: { buf: c, off, bs: M * N },
        bias: f.bias ? { buf: bb, off: 0, bs: N } : undefined,
        act: f.act || f.dact ? 'tanh' : undefined, applyAct: f.act,
        dact: f.dact ? { buf: xb, off: 0, bs: M * N } : undefined,
        out2: f.act ? { buf: o2, off: 0, bs: M * N } : undefined,
      });
      const want = matmulRef64(layout, M, N, L, K, 0, A, B, C0, bias, aux, f); // A shared by the K models
      const got = (await be.read(c)).subarray(off);
      const e = relErr(got, want.C);
      assert.ok(e < 1e-5, `${what} ${M}×${N}×${L} ${layout} ${JSON.stringify(f)}: rel err ${e}`);
      if (f.act) assert.ok(relErr(await be.read(o2), want.pre) < 1e-5, 'pre-activation output');
      for (const x of [a, b, c, bb, xb, o2]) be.release(x);
    }
  }
}

forEachBackend('matmul vs float64', (T, kind) => {
  for (const shape of [SMALL, LARGE]) {
    T(`${shape.M}×${shape.N}×${shape.L}: three layouts × epilogues, K = 2 with a shared operand`, async ({ be }) => {
      await layoutsTimesEpilogues(be, kind, shape, (op) => be.matmul(op));
    });
  }
});

// WebGPU only: each kernel variant forced, and the autotuner.
if (BACKENDS.includes('webgpu')) {
  const T = suite<{ gpu: WebGPUBackend }>('matmul variants [webgpu]');
  T.before(async (ctx) => { ctx.gpu = (await testGpu()).backend; });
  T.after((ctx) => ctx.gpu.destroy());

  // The vec4 variants need 4-aligned operands, which these odd shapes are not:
  // tests/matmul-vec4.test.ts covers them on aligned shapes.
  const { M, N, L } = SMALL;
  const UNALIGNED = { layout: 'ab' as const, M, N, L, a: { off: 5, bs: 0 }, b: { off: 5, bs: L * N }, c: { off: 5, bs: M * N } };
  for (const variant of MATMUL_VARIANTS.filter((v) => variantEligible(v, UNALIGNED as never))) {
    T(`${variant.id}: three layouts × epilogues`, async ({ gpu }) => {
      await layoutsTimesEpilogues(gpu, variant.id, SMALL, (op) => gpu.matmul(op, variant));
    });
  }

  T('autotune picks a variant per size class and results do not depend on it', async ({ gpu }) => {
    const a = upload(gpu, randArray(64 * 48, 1), 'A'), b = upload(gpu, randArray(48 * 40, 2), 'B');
    const op = { layout: 'ab' as const, M: 64, N: 40, L: 48, K: 1, a: { buf: a, off: 0, bs: 0 }, b: { buf: b, off: 0, bs: 0 } };
    const c = gpu.alloc(64 * 40, 'C');
    await gpu.tune([{ ...op, c: { buf: c, off: 0, bs: 0 } }]);
    assert.ok(gpu.tuner.choices.size >= 1);
    assert.ok(Object.keys([...gpu.tuner.timings.values()][0]).length >= 2, 'several variants timed');
    gpu.matmul({ ...op, c: { buf: c, off: 0, bs: 0 } });
    const tuned = await gpu.read(c);
    gpu.matmul({ ...op, c: { buf: c, off: 0, bs: 0 } }, MATMUL_VARIANTS[0]);
    assert.ok(relErr(tuned, await gpu.read(c)) < 1e-5);
    for (const x of [a, b, c]) gpu.release(x);
  });

  T.run();
}
