// The vec4 matmul variants (core/shaders/matmul_vec4*.wgsl) in all three
// layouts, with and without each fused epilogue, batched over K = 2 with
// per-model operands, against a float64 matmul. Shapes are whole only along
// the axes the kernel reads as vec4 and ragged elsewhere, and smaller than
// one block in places, so clamped loads and guarded stores are exercised.
// Also: the eligibility rule, and the fallback when an op is not eligible.
// Tolerance 1e-5 relative (‖·‖∞): f32 dot products of ≤ 132 terms.
import { suite } from 'uvu';
import { matmulRef64, type EpilogueFlags } from './reference/matmul64.js';
import * as assert from 'uvu/assert';
import type { WebGPUBackend } from '../core/ts/backend/webgpu/backend.js';
import { MATMUL_VARIANTS, matmulVec4Eligible, shapeKey } from '../core/ts/backend/webgpu/matmul-variants.js';
import type { Layout, MatmulOp } from '../core/ts/backend/types.js';
import { randArray, relErr, testGpu } from './helpers/gpu.js';
import { upload } from './helpers/problem.js';

const T = suite<{ gpu: WebGPUBackend }>('matmul vec4 variants');
T.before(async (ctx) => { ctx.gpu = (await testGpu()).backend; });
T.after((ctx) => ctx.gpu.destroy());

const VEC4 = MATMUL_VARIANTS.filter((v) => v.kernel.startsWith('matmul_vec4'));
const K = 2;

type Flags = EpilogueFlags;
const FLAGS: Flags[] = [
  { accum: false, bias: false, act: false, dact: false, alpha: 1 },
  { accum: true, bias: true, act: true, dact: false, alpha: 0.5 },
  { accum: false, bias: false, act: false, dact: true, alpha: -2 },
];

// Per layout: small ragged shapes, then ones spanning several workgroups.
const SHAPES: Record<Layout, [number, number, number][]> = {
  ab: [[37, 20, 44], [5, 4, 4], [130, 72, 96]], // L, N whole
  abt: [[37, 29, 44], [3, 7, 8], [130, 75, 132]], // L whole
  atb: [[36, 20, 41], [4, 8, 3], [72, 136, 130]], // M, N whole
};

function reference(layout: Layout, M: number, N: number, L: number, A: Float32Array, B: Float32Array, C0: Float32Array,
                   bias: Float32Array, aux: Float32Array, f: Flags) {
  return matmulRef64(layout, M, N, L, K, M * L, A, B, C0, bias, aux, f);
}

async function check(gpu: WebGPUBackend, layout: Layout, M: number, N: number, L: number, f: Flags,
                     run: (op: MatmulOp) => void, what: string, aOff = 8, bOff = 4): Promise<void> {
  const A = randArray(K * M * L, 1), B = randArray(K * L * N, 2), C0 = randArray(K * M * N, 3);
  const bias = randArray(K * N, 4), aux = randArray(K * M * N, 5);
  const pad = (x: Float32Array, off: number) => { const o = new Float32Array(x.length + off); o.set(x, off); return o; };
  const cOff = 3; // C's offset is unconstrained
  const a = upload(gpu, pad(A, aOff), 'A'), b = upload(gpu, pad(B, bOff), 'B'), c = upload(gpu, pad(C0, cOff), 'C');
  const bb = upload(gpu, bias, 'bias'), xb = upload(gpu, aux, 'aux'), o2 = gpu.alloc(K * M * N, 'out2');
  run({
    layout, M, N, L, K, alpha: f.alpha, accumulate: f.accum,
    a: { buf: a, off: aOff, bs: M * L }, b: { buf: b, off: bOff, bs: L * N }, c: { buf: c, off: cOff, bs: M * N },
    bias: f.bias ? { buf: bb, off: 0, bs: N } : undefined,
    act: f.act || f.dact ? 'tanh' : undefined, applyAct: f.act,
    dact: f.dact ? { buf: xb, off: 0, bs: M * N } : undefined,
    out2: f.act ? { buf: o2, off: 0, bs: M * N } : undefined,
  });
  const want = reference(layout, M, N, L, A, B, C0, bias, aux, f);
  const got = (await gpu.read(c)).subarray(cOff);
  const e = relErr(got, want.C);
  assert.ok(e < 1e-5, `${what} ${layout} ${M}×${N}×${L} ${JSON.stringify(f)}: rel err ${e}`);
  if (f.act) assert.ok(relErr(await gpu.read(o2), want.pre) < 1e-5, `${what} ${layout}: pre-activation output`);
  for (const x of [a, b, c, bb, xb, o2]) gpu.release(x);
}

T('there are vec4 variants', () => {
  assert.ok(VEC4.length >= 1);
});

for (const variant of VEC4) {
  T(`${variant.id}: three layouts × epilogues × shapes, K = ${K}`, async ({ gpu }) => {
    for (const layout of ['ab', 'abt', 'atb'] as const) {
      for (const [M, N, L] of SHAPES[layout]) {
        for (const f of FLAGS) {
          const probe = { layout, M, N, L, K, a: { off: 8, bs: M * L }, b: { off: 4, bs: L * N } };
          assert.ok(matmulVec4Eligible(probe as never), `${layout} ${M}×${N}×${L} should be eligible`);
          await check(gpu, layout, M, N, L, f, (op) => gpu.matmul(op, variant), variant.id);
        }
      }
    }
  });
}

T('eligibility: the vec4 axes must be whole and A, B views 4-aligned', () => {
  const v = (layout: Layout, M: number, N: number, L: number, aOff = 0, bOff = 0, Kk = 1, bs = 0) =>
    matmulVec4Eligible({ layout, M, N, L, K: Kk, a: { off: aOff, bs } as never, b: { off: bOff, bs } as never });
  assert.ok(v('ab', 37, 20, 44));
  assert.not.ok(v('ab', 36, 21, 44), 'ab: N not whole');
  assert.not.ok(v('ab', 36, 20, 42), 'ab: L not whole');
  assert.ok(v('abt', 37, 29, 44));
  assert.not.ok(v('abt', 36, 28, 45), 'abt: L not whole');
  assert.ok(v('atb', 36, 20, 41));
  assert.not.ok(v('atb', 35, 20, 40), 'atb: M not whole');
  assert.not.ok(v('atb', 36, 22, 40), 'atb: N not whole');
  assert.not.ok(v('ab', 36, 20, 44, 2), 'A offset');
  assert.not.ok(v('abt', 36, 20, 44, 0, 6), 'B offset');
  assert.ok(v('ab', 36, 20, 44, 0, 0, 1, 6), 'strides do not matter for K = 1');
  assert.not.ok(v('ab', 36, 20, 44, 0, 0, 2, 6), 'strides matter for K > 1');
});

T('an ineligible op given a vec4 variant, or tuned to one, falls back and stays exact', async ({ gpu }) => {
  const f = FLAGS[1];
  // Unaligned offsets (5 and 3), and a shape with no whole vec4 axis.
  await check(gpu, 'ab', 9, 20, 12, f, (op) => gpu.matmul(op, VEC4[0]), 'explicit', 5, 3);
  await check(gpu, 'atb', 9, 7, 12, f, (op) => gpu.matmul(op, VEC4[0]), 'explicit', 8, 4);
  await check(gpu, 'abt', 9, 7, 10, f, (op) => {
    gpu.tuner.choices.set(shapeKey(op), VEC4[0].id);
    gpu.matmul(op);
    gpu.tuner.choices.delete(shapeKey(op));
  }, 'tuned', 8, 4);
});

T.run();
