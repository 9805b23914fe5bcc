// The Wasm core's blocked matmul on all three builds (threads with 2 and 3
// threads, unshared SIMD, scalar) against the float64 reference: every
// layout × every epilogue flag, K = 2 models with offsets and per-model
// strides (A shared), and shapes that cross the kernel's blocking edges
// (micro-tile 4×8, K blocks of 256, row blocks of 128) and thin ones (a side
// or the inner dimension 1, matmul-thin.ts) — the WebGPU-parity
// tests in tests/matmul.test.ts run on the default build only.
// Tolerance 1e-5 relative (‖a−b‖∞/‖b‖∞), as tests/matmul.test.ts: f32
// accumulation over L ≤ 300 terms of O(1) products; measured ≤ ~1e-6.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Layout, MatmulOp } from '../core/ts/backend/types.js';
import type { WasmBackend } from '../core/ts/backend/wasm/backend.js';
import type { CoreFlavour } from '../core/ts/backend/wasm/module.js';
import { createNodeWasm, enableNodeRelaxedSimd, nodeCoreRuns } from '../hosts/node/wasm.js';
import { matmulRef64, type EpilogueFlags } from './reference/matmul64.js';
import { randArray, relErr } from './helpers/gpu.js';

const TOL = 1e-5;
const BUILDS: [CoreFlavour, number][] = [['threads', 2], ['threads', 3], ['simd', 1], ['scalar', 1]];
// The relaxed build fuses multiply-adds where the CPU can, so its bits are its own: it gets the
// same checks, and the thread-count test below runs on it too.
const RELAXED = nodeCoreRuns('relaxed') || enableNodeRelaxedSimd();
if (RELAXED) BUILDS.push(['relaxed', 2]);
else console.log('  (relaxed SIMD build skipped: this Node cannot validate it)');
const SHAPES: [number, number, number][] = [[1, 1, 1], [5, 9, 3], [37, 29, 61], [130, 70, 300], [260, 17, 40],
  // Thin products (core/wasm/matmul-thin.ts): N = 1, M = 1, L = 1, with vector tails.
  [37, 1, 61], [1, 29, 61], [37, 29, 1], [130, 1, 300], [1, 70, 300], [3, 1, 2], [1, 3, 2]];
const FLAGS: EpilogueFlags[] = [
  { accum: false, bias: false, act: false, dact: false, alpha: 1 },
  { accum: true, bias: true, act: true, dact: false, alpha: 0.5 },
  { accum: false, bias: true, act: false, dact: true, alpha: -2 },
  { accum: true, bias: false, act: false, dact: false, alpha: 1 },
];

function check(be: WasmBackend, layout: Layout, [M, N, L]: [number, number, number], f: EpilogueFlags, K: number): number {
  const OFF = 3; // views start mid-buffer
  const A = randArray(M * L, M + 7 * L), B = randArray(K * L * N, N + 3), C0 = randArray(K * M * N, 5);
  const bias = randArray(K * N, 6), aux = randArray(K * M * N, 8, 2);
  const buf = (x: Float32Array, label: string) => {
    const b = be.alloc(x.length + OFF, label);
    be.write(b, x, OFF);
    return b;
  };
  const a = buf(A, 'A'), b = buf(B, 'B'), c = buf(C0, 'C'), bi = buf(bias, 'bias'), ax = buf(aux, 'aux');
  const o2 = be.alloc(K * M * N + OFF, 'out2');
  const v = (x: typeof a, bs: number) => ({ buf: x, off: OFF, bs });
  const op: MatmulOp = {
    layout, M, N, L, K, a: v(a, 0), b: v(b, L * N), c: v(c, M * N), alpha: f.alpha, accumulate: f.accum,
    bias: f.bias ? v(bi, N) : undefined, act: 'tanh', applyAct: f.act, dact: f.dact ? v(ax, M * N) : undefined, out2: v(o2, M * N),
  };
  be.matmul(op);
  const ref = matmulRef64(layout, M, N, L, K, 0, A, B, C0, bias, aux, f);
  const got = be.mem32(c, OFF, K * M * N), pre = be.mem32(o2, OFF, K * M * N);
  for (const x of [a, b, c, bi, ax, o2]) be.release(x);
  return Math.max(relErr(got, ref.C), relErr(pre, ref.pre));
}

for (const [flavour, threads] of BUILDS) {
  test(`${flavour} build, ${threads} thread(s): layouts × epilogues × shapes, K = 2, against float64`, async () => {
    const be = await createNodeWasm({ flavour, threads });
    let worst = 0;
    try {
      for (const layout of ['ab', 'abt', 'atb'] as Layout[]) {
        for (const shape of SHAPES) {
          for (const f of FLAGS) {
            const e = check(be, layout, shape, f, 2);
            worst = Math.max(worst, e);
            assert.ok(e < TOL, `${layout} ${shape.join('×')} ${JSON.stringify(f)}: rel err ${e}`);
          }
        }
      }
    } finally {
      be.destroy();
    }
    console.log(`  ${flavour}/${threads}: worst rel err ${worst.toExponential(2)}`);
  });
}

for (const [flavour, threads] of BUILDS) {
  test(`${flavour} build, ${threads} thread(s): tanh′ read off the forward's stored σ (dactOut) equals tanh′ recomputed from the pre-activation, bit for bit`, async () => {
    const be = await createNodeWasm({ flavour, threads });
    try {
      const [M, N, L, K] = [37, 29, 61, 2];
      const v = (b: ReturnType<typeof be.alloc>, bs: number) => ({ buf: b, off: 0, bs });
      const x = be.alloc(M * L, 'x'), w = be.alloc(K * N * L, 'W'), act = be.alloc(K * M * N, 'σ(a)'), pre = be.alloc(K * M * N, 'a');
      const dy = be.alloc(K * M * L, 'dy'), w2 = be.alloc(K * L * N, 'W2');
      be.write(x, randArray(M * L, 11, 3)); be.write(w, randArray(K * N * L, 12)); be.write(dy, randArray(K * M * L, 13)); be.write(w2, randArray(K * L * N, 14));
      // The fused forward: σ(a) into act, a into pre (|a| up to ~10, so tanh saturates in places).
      be.matmul({ layout: 'abt', M, N, L, K, a: v(x, 0), b: v(w, N * L), c: v(act, M * N), out2: v(pre, M * N), act: 'tanh', applyAct: true });
      const backward = (dactOut: boolean) => {
        const c = be.alloc(K * M * N, 'σ′ ⊙ dy W2');
        be.matmul({ layout: 'ab', M, N, L, K, a: v(dy, M * L), b: v(w2, L * N), c: v(c, M * N), act: 'tanh', dact: v(pre, M * N), ...(dactOut ? { dactOut: v(act, M * N) } : {}) });
        return c;
      };
      const [recomputed, readOff] = [backward(false), backward(true)];
      assert.equal(Array.from(await be.read(readOff)), Array.from(await be.read(recomputed)));
      // The stored σ is what the kernel reads: halving it changes the result.
      be.vector({ n: K * M * N, y: act, beta: 0.5 });
      const halved = backward(true);
      assert.not.equal(Array.from(await be.read(halved)), Array.from(await be.read(recomputed)));
    } finally {
      be.destroy();
    }
  });
}

for (const flavour of (RELAXED ? ['threads', 'relaxed'] : ['threads']) as CoreFlavour[]) test(`${flavour} build: the thread count does not change a single bit (each output is summed by one thread in one order), blocked and thin products`, async () => {
  // [layout, M, N, L]: the blocked kernel, then the thin loops (matmul-thin.ts) at sizes the
  // backend splits over threads, with odd sides so that a thread's range can end mid-vector.
  const CASES: [Layout, number, number, number][] = [['abt', 300, 90, 500],
    ['ab', 3001, 1, 47], ['abt', 3001, 1, 47], ['atb', 3001, 1, 47], ['ab', 1, 3001, 47], ['abt', 1, 3001, 47], ['atb', 1, 3001, 47],
    ['ab', 301, 299, 1], ['atb', 299, 301, 1]];
  const K = 2;
  const outs: Float32Array[][] = [];
  for (const threads of [1, 2, 3]) {
    const be = await createNodeWasm({ flavour, threads });
    try {
      outs.push([]);
      for (const [layout, M, N, L] of CASES) {
        const a = be.alloc(K * M * L, 'A'), b = be.alloc(K * N * L, 'B'), c = be.alloc(K * M * N, 'C');
        be.write(a, randArray(K * M * L, 1));
        be.write(b, randArray(K * N * L, 2));
        be.write(c, randArray(K * M * N, 3));
        be.matmul({ layout, M, N, L, K, a: { buf: a, off: 0, bs: M * L }, b: { buf: b, off: 0, bs: N * L }, c: { buf: c, off: 0, bs: M * N },
          accumulate: true, alpha: 0.75 });
        outs.at(-1)!.push(await be.read(c));
        for (const x of [a, b, c]) be.release(x);
      }
    } finally {
      be.destroy();
    }
  }
  CASES.forEach(([layout, M, N, L], i) => {
    assert.equal(Array.from(outs[1][i]), Array.from(outs[0][i]), `${layout} ${M}×${N}×${L}: 2 threads`);
    assert.equal(Array.from(outs[2][i]), Array.from(outs[0][i]), `${layout} ${M}×${N}×${L}: 3 threads`);
  });
});

test.run();
