// The Wasm core's conv on the cnn-relu shapes (B = 500 examples of 3×32×32;
// conv1 3→32 3×3 pad 1 on 32×32, conv2 32→32 3×3 pad 1 on 16×16): forward,
// dinput and dweight (with bias), median ms and GFLOP/s (2·B·Cout·Cin·kh·kw·Ho·Wo
// per product), plus 2×2 max pooling and ReLU for scale.
//   npx tsx bench/wasm-conv.ts [--threads N] [--flavour threads|simd|scalar|relaxed] [--reps R] [--B N] [--best]
// (--flavour relaxed on Node 20: node --experimental-wasm-relaxed-simd --import tsx bench/wasm-conv.ts …)
import { convShape, poolShape } from '../core/ts/backend/checks.js';
import type { ConvOp, ConvShape, Layout } from '../core/ts/backend/types.js';
import type { CoreFlavour } from '../core/ts/backend/wasm/module.js';
import { createNodeWasm } from '../hosts/node/wasm.js';
import { median, signedArray } from './common.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const threads = Number(arg('threads', '2')), reps = Number(arg('reps', '5')), B = Number(arg('B', '500'));
const flavour = arg('flavour', '') as CoreFlavour | '';

const be = await createNodeWasm({ threads, ...(flavour ? { flavour } : {}) });
console.log(be.description, `flavour ${be.flavour}`);

/** Median ms (or the best of the reps with --best: on a shared machine the least disturbed run). */
const best = process.argv.includes('--best');
function time(fn: () => void): number {
  fn(); // warm-up
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return best ? Math.min(...ts) : median(ts);
}

const LAYERS: [string, ConvShape][] = [
  ['conv1 3→32 32×32', convShape({ Cin: 3, H: 32, W: 32, Cout: 32, kh: 3, pad: 1 })],
  ['conv2 32→32 16×16', convShape({ Cin: 32, H: 16, W: 16, Cout: 32, kh: 3, pad: 1 })],
];
// The plain GEMM in the same run, as the yardstick (the machine may be shared):
// bench/wasm-matmul.ts's three products of a 3072→200 dense layer at N = 2000.
for (const [layout, M, N, L] of [['abt', 2000, 200, 3072], ['ab', 2000, 3072, 200], ['atb', 200, 3072, 2000]] as [Layout, number, number, number][]) {
  const a = be.alloc(M * L, 'A'), b = be.alloc(L * N, 'B'), c = be.alloc(M * N, 'C');
  be.write(a, signedArray(M * L, 1)); be.write(b, signedArray(L * N, 2));
  const v = (buf: typeof a) => ({ buf, off: 0, bs: 0 });
  const ms = time(() => be.matmul({ layout, M, N, L, K: 1, a: v(a), b: v(b), c: v(c) }));
  console.log(`matmul ${layout} ${M}×${N}×${L}: ${ms.toFixed(1)} ms, ${(2 * M * N * L / ms / 1e6).toFixed(1)} GFLOP/s`);
  for (const x of [a, b, c]) be.release(x);
}
let total = 0;
for (const [name, s] of LAYERS) {
  const nx = B * s.Cin * s.H * s.W, nw = s.Cout * s.Cin * s.kh * s.kw, ny = B * s.Cout * s.Ho * s.Wo;
  const x = be.alloc(nx, 'x'), w = be.alloc(nw, 'w'), y = be.alloc(ny, 'y'), bias = be.alloc(s.Cout, 'b');
  be.write(x, signedArray(nx, 1)); be.write(w, signedArray(nw, 2)); be.write(y, signedArray(ny, 3));
  const v = (buf: typeof x) => ({ buf, off: 0, bs: 0 });
  const flops = 2 * B * s.Cout * s.Cin * s.kh * s.kw * s.Ho * s.Wo;
  for (const mode of ['forward', 'dinput', 'dweight'] as const) {
    const op: ConvOp = { mode, shape: s, B, K: 1, x: v(x), w: v(w), y: v(y), bias: mode === 'dinput' ? undefined : v(bias) };
    const ms = time(() => be.conv(op));
    total += ms;
    console.log(`${name.padEnd(20)} ${mode.padEnd(8)} ${ms.toFixed(1).padStart(7)} ms  ${(flops / ms / 1e6).toFixed(1).padStart(6)} GFLOP/s`);
  }
  for (const b of [x, w, y, bias]) be.release(b);
}
console.log(`all six conv products: ${total.toFixed(1)} ms`);

{
  const s = poolShape({ C: 32, H: 32, W: 32, kh: 2 });
  const nin = B * s.C * s.H * s.W, nout = B * s.C * s.Ho * s.Wo;
  const x = be.alloc(nin, 'x'), y = be.alloc(nout, 'y'), dx = be.alloc(nin, 'dx');
  be.write(x, signedArray(nin, 4));
  const v = (buf: typeof x) => ({ buf, off: 0, bs: 0 });
  const f = time(() => be.pool({ kind: 'max', mode: 'forward', shape: s, B, K: 1, x: v(x), dst: v(y) }));
  const bk = time(() => be.pool({ kind: 'max', mode: 'backward', shape: s, B, K: 1, x: v(x), src: v(y), dst: v(dx) }));
  const r = time(() => be.activation({ act: 'relu', mode: 'apply', perModel: nin, K: 1, x: v(x), out: v(dx) }));
  const d = time(() => be.activation({ act: 'relu', mode: 'dmul', perModel: nin, K: 1, x: v(x), a: v(x), out: v(dx) }));
  console.log(`maxpool 2×2 on 32×32×32: forward ${f.toFixed(1)} ms, backward ${bk.toFixed(1)} ms; relu ${r.toFixed(1)} ms, relu dmul ${d.toFixed(1)} ms`);
}
be.destroy();
