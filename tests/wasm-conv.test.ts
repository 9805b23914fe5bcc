// The Wasm core's conv, pooling and standalone activation on every build
// (threads ×2/×3, unshared SIMD, scalar, and relaxed SIMD where this Node runs
// it) against float64 (tests/reference/conv64.ts), across the kernels'
// blocking edges: channel counts that are not multiples of the 4×8 micro-tile,
// odd images whose rows wrap inside a panel, stride 2, padding 0/1/same,
// both forms of dinput (few input channels or stride 2: Z = Wᵀ·dy then a
// gather; else the GEMM over (co, i, j) from dy with its zeros put in),
// reductions longer than one K block (L = Cin·kh·kw > 256), more positions
// than one N block (> 1024) and more output channels than one M block (> 128);
// K = 2 models with offsets, per-model strides and shared data (bs = 0),
// accumulation; dweight in both orientations (dW, and dWᵀ where L < Cout
// pads the micro-tiles less) and as dot products along positions (3-wide
// kernels at stride 1 with Wo % 4 = 0, conv-dot.ts). Then: 1, 2 and 3 threads give the same bits
// (every job split: examples, positions within an example, dW rows and columns).
// Tolerance 1e-5 relative (‖a−b‖∞/‖b‖∞), as tests/conv-ops.test.ts: f32 sums
// of O(1) products, the longest here a few thousand terms summed in blocks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { convShape, poolShape } from '../core/ts/backend/checks.js';
import type { ConvShape, PoolShape } from '../core/ts/backend/types.js';
import type { WasmBackend } from '../core/ts/backend/wasm/backend.js';
import type { CoreFlavour } from '../core/ts/backend/wasm/module.js';
import { ACTIVATIONS } from '../core/ts/backend/activations.js';
import { createNodeWasm, enableNodeRelaxedSimd, nodeCoreRuns } from '../hosts/node/wasm.js';
import { conv64, convDinput64, convDweight64, pool64, poolBackward64, poolTangent64 } from './reference/conv64.js';
import { act64 } from './reference/mlp64.js';
import { randArray, relErr } from './helpers/gpu.js';

const TOL = 1e-5;
const BUILDS: [CoreFlavour, number][] = [['threads', 2], ['threads', 3], ['simd', 1], ['scalar', 1]];
if (nodeCoreRuns('relaxed') || enableNodeRelaxedSimd()) BUILDS.push(['relaxed', 2]);
else console.log('  (relaxed SIMD build skipped: this Node cannot validate it)');

const CONVS: { name: string; s: ConvShape; B: number }[] = [
  { name: '3×3 pad 1, 3→5 channels, 7×7', s: convShape({ Cin: 3, H: 7, W: 7, Cout: 5, kh: 3, pad: 1 }), B: 2 },
  { name: '3×3 same, 5×9 image (rows wrap in panels)', s: convShape({ Cin: 2, H: 5, W: 9, Cout: 7, kh: 3, pad: 'same' }), B: 3 },
  { name: '3×3 stride 2 pad 0, 9×11', s: convShape({ Cin: 4, H: 9, W: 11, Cout: 9, kh: 3, stride: 2 }), B: 2 },
  { name: '3×3 stride 2 pad 1, 8×8', s: convShape({ Cin: 5, H: 8, W: 8, Cout: 6, kh: 3, stride: 2, pad: 1 }), B: 2 },
  { name: '3×3 stride 2 pad 1, 9→12 channels, 11×10', s: convShape({ Cin: 9, H: 11, W: 10, Cout: 12, kh: 3, stride: 2, pad: 1 }), B: 2 },
  { name: '3×3 stride 2, 16→7 channels (Cin·9 = 144 rows > MC)', s: convShape({ Cin: 16, H: 9, W: 9, Cout: 7, kh: 3, stride: 2 }), B: 2 },
  { name: '4×4 stride 2 pad 1 (even kernel)', s: convShape({ Cin: 2, H: 10, W: 9, Cout: 3, kh: 4, stride: 2, pad: 1 }), B: 2 },
  { name: '5×3 kernel, pad 2 > kw−1 on W', s: convShape({ Cin: 2, H: 6, W: 5, Cout: 4, kh: 5, kw: 3, pad: 2 }), B: 2 },
  { name: '1×1, 13→17 channels', s: convShape({ Cin: 13, H: 5, W: 3, Cout: 17, kh: 1 }), B: 3 },
  { name: '1×1 with padding 1', s: convShape({ Cin: 3, H: 4, W: 4, Cout: 5, kh: 1, pad: 1 }), B: 2 },
  { name: 'kernel = image (one position)', s: convShape({ Cin: 3, H: 5, W: 5, Cout: 6, kh: 5 }), B: 4 },
  { name: 'L = 297 > KC, 33→20 channels, 12×12', s: convShape({ Cin: 33, H: 12, W: 12, Cout: 20, kh: 3, pad: 1 }), B: 2 },
  { name: '1600 positions > NC, 41×39 pad same', s: convShape({ Cin: 2, H: 41, W: 39, Cout: 5, kh: 3, pad: 'same' }), B: 2 },
  { name: '130 channels out > MC, 133 in', s: convShape({ Cin: 133, H: 5, W: 4, Cout: 130, kh: 3, pad: 1 }), B: 1 },
  // dweight as dot products along positions (3-wide kernel, stride 1, Wo % 4 = 0): Cout not a multiple of 3, pad 0 and 1.
  { name: '3×3 pad 1, 4→7 channels, 6×8 (dW by dot products)', s: convShape({ Cin: 4, H: 6, W: 8, Cout: 7, kh: 3, pad: 1 }), B: 3 },
  { name: '3×3 pad 0, 5→8 channels, 7×10 (dW by dot products)', s: convShape({ Cin: 5, H: 7, W: 10, Cout: 8, kh: 3 }), B: 2 },
  { name: '5×3 kernel pad same, 3→4, 6×12 (dW by dot products)', s: convShape({ Cin: 3, H: 6, W: 12, Cout: 4, kh: 5, kw: 3, pad: 'same' }), B: 2 },
];

const slice = (a: Float32Array, off: number, bs: number, n: number, z: number) => a.subarray(off + z * bs, off + z * bs + n);

/** Every conv mode with bias, K = 2 (x shared by both models when sharedX), twice (the second accumulating). */
function checkConv(be: WasmBackend, s: ConvShape, B: number, seed: number, sharedX: boolean): number {
  const K = 2, off = 3;
  const nx = B * s.Cin * s.H * s.W, nw = s.Cout * s.Cin * s.kh * s.kw, ny = B * s.Cout * s.Ho * s.Wo;
  const xs = sharedX ? 0 : nx + 1, ws = nw + 2, ys = ny + 1, bs = s.Cout + 1;
  const x = randArray(off + K * (nx + 1), seed), w = randArray(off + K * ws, seed + 1), dy = randArray(off + K * ys, seed + 2);
  const bb = randArray(off + K * bs, seed + 3);
  const buf = (a: Float32Array, label: string) => { const b = be.alloc(a.length, label); be.write(b, a); return b; };
  const xb = buf(x, 'x'), wb = buf(w, 'w'), dyb = buf(dy, 'dy'), biasb = buf(bb, 'bias');
  const y0 = randArray(off + K * ys, seed + 4), dx0 = randArray(off + K * (nx + 1), seed + 5), dw0 = randArray(off + K * ws, seed + 6);
  const yb = buf(y0, 'y'), dxb = buf(dx0, 'dx'), dwb = buf(dw0, 'dw'), dbb = buf(bb, 'db');
  let worst = 0;
  for (const accumulate of [false, true]) {
    be.conv({ mode: 'forward', shape: s, B, K, x: { buf: xb, off, bs: xs }, w: { buf: wb, off, bs: ws }, y: { buf: yb, off, bs: ys },
      bias: { buf: biasb, off, bs }, accumulate });
    be.conv({ mode: 'dinput', shape: s, B, K, x: { buf: dxb, off, bs: nx + 1 }, w: { buf: wb, off, bs: ws }, y: { buf: dyb, off, bs: ys }, accumulate });
    be.conv({ mode: 'dweight', shape: s, B, K, x: { buf: xb, off, bs: xs }, w: { buf: dwb, off, bs: ws }, y: { buf: dyb, off, bs: ys },
      bias: { buf: dbb, off, bs }, accumulate });
    const y = be.mem32(yb, 0, yb.length), dx = be.mem32(dxb, 0, dxb.length), dw = be.mem32(dwb, 0, dwb.length), db = be.mem32(dbb, 0, dbb.length);
    const k = accumulate ? 2 : 1;
    for (let z = 0; z < K; z++) {
      const xz = slice(x, off, xs, nx, z), wz = slice(w, off, ws, nw, z), dyz = slice(dy, off, ys, ny, z);
      const { dw: wantDw, db: wantDb } = convDweight64(s, B, dyz, xz);
      // Round 2 adds the same product onto round 1's (outputs start as noise, so round 1 must overwrite).
      worst = Math.max(worst,
        relErr(slice(y, off, ys, ny, z), conv64(s, B, xz, wz, slice(bb, off, bs, s.Cout, z)).map((v) => k * v)),
        relErr(slice(dx, off, nx + 1, nx, z), convDinput64(s, B, dyz, wz).map((v) => k * v)),
        relErr(slice(dw, off, ws, nw, z), wantDw.map((v) => k * v)),
        relErr(slice(db, off, bs, s.Cout, z), wantDb.map((v) => k * v)));
      // The gaps between models' views are untouched.
      assert.is(y[off + z * ys + ny], y0[off + z * ys + ny], 'y gap');
      assert.is(dw[off + z * ws + nw], dw0[off + z * ws + nw], 'dw gap');
    }
    assert.equal(Array.from(y.subarray(0, off)), Array.from(y0.subarray(0, off)), 'y before the view');
  }
  for (const b of [xb, wb, dyb, biasb, yb, dxb, dwb, dbb]) be.release(b);
  return worst;
}

const POOLS: { name: string; s: PoolShape; B: number }[] = [
  { name: '2×2 stride 2', s: poolShape({ C: 3, H: 8, W: 8, kh: 2 }), B: 2 },
  { name: '2×2 stride 2, odd 7×5', s: poolShape({ C: 2, H: 7, W: 5, kh: 2 }), B: 2 },
  { name: '3×3 stride 2 pad 1', s: poolShape({ C: 3, H: 9, W: 7, kh: 3, stride: 2, pad: 1 }), B: 2 },
  { name: '3×3 stride 1 pad 1 (overlapping)', s: poolShape({ C: 2, H: 6, W: 5, kh: 3, stride: 1, pad: 1 }), B: 2 },
  { name: '2×3 window, stride 1', s: poolShape({ C: 2, H: 5, W: 6, kh: 2, kw: 3, stride: 1 }), B: 1 },
  { name: 'global 5×5', s: poolShape({ C: 4, H: 5, W: 5, kh: 5 }), B: 3 },
  { name: '2×2 stride 2, 9×21 (four-window groups, a ragged rest, odd edges)', s: poolShape({ C: 3, H: 9, W: 21, kh: 2 }), B: 2 },
];

function checkPool(be: WasmBackend, kind: 'max' | 'avg', s: PoolShape, B: number, seed: number): number {
  const K = 2, off = 2, nin = B * s.C * s.H * s.W, nout = B * s.C * s.Ho * s.Wo;
  const x = randArray(off + K * nin, seed), rx = randArray(off + K * nin, seed + 1), dy = randArray(off + K * nout, seed + 2);
  const buf = (a: Float32Array, label: string) => { const b = be.alloc(a.length, label); be.write(b, a); return b; };
  const xb = buf(x, 'x'), rxb = buf(rx, 'rx'), dyb = buf(dy, 'dy');
  const y0 = randArray(off + K * nout, seed + 3), dx0 = randArray(off + K * nin, seed + 4);
  const yb = buf(y0, 'y'), ryb = buf(y0, 'ry'), dxb = buf(dx0, 'dx');
  let worst = 0;
  for (const accumulate of [false, true]) {
    const X = { buf: xb, off, bs: nin };
    be.pool({ kind, mode: 'forward', shape: s, B, K, x: X, dst: { buf: yb, off, bs: nout }, accumulate });
    be.pool({ kind, mode: 'tangent', shape: s, B, K, x: X, src: { buf: rxb, off, bs: nin }, dst: { buf: ryb, off, bs: nout }, accumulate });
    be.pool({ kind, mode: 'backward', shape: s, B, K, x: X, src: { buf: dyb, off, bs: nout }, dst: { buf: dxb, off, bs: nin }, accumulate });
    const y = be.mem32(yb, off, K * nout), ry = be.mem32(ryb, off, K * nout), dx = be.mem32(dxb, off, K * nin);
    const k = accumulate ? 2 : 1;
    for (let z = 0; z < K; z++) {
      const xz = slice(x, off, nin, nin, z);
      worst = Math.max(worst,
        relErr(y.subarray(z * nout, (z + 1) * nout), pool64(kind, s, B, xz).map((v) => k * v)),
        relErr(ry.subarray(z * nout, (z + 1) * nout), poolTangent64(kind, s, B, xz, slice(rx, off, nin, nin, z)).map((v) => k * v)),
        relErr(dx.subarray(z * nin, (z + 1) * nin), poolBackward64(kind, s, B, xz, slice(dy, off, nout, nout, z)).map((v) => k * v)));
    }
  }
  for (const b of [xb, rxb, dyb, yb, ryb, dxb]) be.release(b);
  return worst;
}

/** σ and σ′(a)·x against float64; returns the worst error and the outputs (for the bit comparisons). */
function checkAct(be: WasmBackend, act: (typeof ACTIVATIONS)[number]): { err: number; bits: Float32Array } {
  const n = 1003, K = 3, bs = n + 5; // odd lengths: the f32x4 loops' tails
  const x = randArray(K * bs, 5).map((v) => 4 * v), a = randArray(K * bs, 6).map((v) => 4 * v);
  const buf = (d: Float32Array, label: string) => { const b = be.alloc(d.length, label); be.write(b, d); return b; };
  const xb = buf(x, 'x'), ab = buf(a, 'a'), ob = be.alloc(K * bs, 'out'), db = be.alloc(K * bs, 'dmul');
  be.activation({ act, mode: 'apply', perModel: n, K, x: { buf: xb, off: 0, bs }, out: { buf: ob, off: 0, bs } });
  be.activation({ act, mode: 'dmul', perModel: n, K, x: { buf: xb, off: 0, bs }, a: { buf: ab, off: 0, bs }, out: { buf: db, off: 0, bs } });
  const o = be.mem32(ob, 0, K * bs), d = be.mem32(db, 0, K * bs);
  let err = 0;
  for (let z = 0; z < K; z++) {
    const xs = x.subarray(z * bs, z * bs + n), as = a.subarray(z * bs, z * bs + n);
    err = Math.max(err,
      relErr(o.subarray(z * bs, z * bs + n), Float64Array.from(xs, (v) => act64(act, v)[0])),
      relErr(d.subarray(z * bs, z * bs + n), Float64Array.from(xs, (v, i) => act64(act, as[i])[1] * v)));
    assert.is(o[z * bs + n], 0, 'nothing written past a model');
  }
  for (const b of [xb, ab, ob, db]) be.release(b);
  const bits = new Float32Array(2 * K * bs);
  bits.set(o); bits.set(d, K * bs);
  return { err, bits };
}

const worst = new Map<string, number>();
const note = (what: string, e: number) => worst.set(what, Math.max(worst.get(what) ?? 0, e));
/** tanh per build family: the SIMD builds share the f32x4 tanh, the scalar build uses Mathf.tanh. */
const actBits = new Map<string, Map<string, string>>();

for (const [flavour, threads] of BUILDS) {
  test(`${flavour} build, ${threads} thread(s): conv forward/dinput/dweight (+bias, K = 2, accumulate) vs float64`, async () => {
    const be = await createNodeWasm({ flavour, threads });
    try {
      CONVS.forEach(({ name, s, B }, i) => {
        for (const sharedX of [false, true]) {
          const e = checkConv(be, s, B, 100 + 10 * i, sharedX);
          note(`conv ${flavour}`, e);
          assert.ok(e < TOL, `${name}${sharedX ? ' (shared x)' : ''}: rel err ${e}`);
        }
      });
    } finally {
      be.destroy();
    }
  });

  test(`${flavour} build, ${threads} thread(s): max/avg pooling forward/tangent/backward (K = 2, accumulate) vs float64`, async () => {
    const be = await createNodeWasm({ flavour, threads });
    try {
      for (const kind of ['max', 'avg'] as const) {
        POOLS.forEach(({ name, s, B }, i) => {
          const e = checkPool(be, kind, s, B, 300 + i);
          note(`pool ${flavour}`, e);
          assert.ok(e < TOL, `${kind} ${name}: rel err ${e}`);
        });
      }
    } finally {
      be.destroy();
    }
  });

  test(`${flavour} build, ${threads} thread(s): standalone activations apply/dmul vs float64`, async () => {
    const be = await createNodeWasm({ flavour, threads });
    try {
      for (const act of ACTIVATIONS) {
        const { err, bits } = checkAct(be, act);
        note(`act ${flavour}`, err);
        assert.ok(err < TOL, `${act}: rel err ${err}`);
        const key = `${act}${act === 'tanh' ? (flavour === 'scalar' ? ' scalar' : ' simd') : ''}`;
        if (!actBits.has(key)) actBits.set(key, new Map());
        actBits.get(key)!.set(`${flavour}/${threads}`, Buffer.from(bits.buffer).toString('hex'));
      }
    } finally {
      be.destroy();
    }
  });
}

test('activations: every build gives the same bits (tanh within the SIMD builds)', () => {
  for (const [act, byBuild] of actBits) {
    const [first, ...rest] = [...byBuild.entries()];
    for (const [build, hex] of rest) assert.ok(hex === first[1], `${act}: ${build} differs from ${first[0]}`);
  }
});

test('pooling: the f32x4 2×2 path gives the generic path\'s bits (ties, signed zeros, odd sizes; the scalar build runs the generic path)', async () => {
  const s = poolShape({ C: 3, H: 11, W: 21, kh: 2 }), B = 2, nin = B * s.C * s.H * s.W, nout = B * s.C * s.Ho * s.Wo;
  const vals = [-1, -0, 0, 1, 2];
  const r = randArray(nin, 77);
  const x = Float32Array.from(r, (v) => vals[Math.floor((v + 1) * 2.5) % 5]); // many ties, both zeros
  const src = randArray(nin, 78), dy = Float32Array.from(randArray(nout, 79), (v, i) => (i % 7 === 0 ? -0 : v));
  const outs: Map<string, string>[] = [];
  for (const flavour of ['threads', 'scalar'] as CoreFlavour[]) {
    const be = await createNodeWasm({ flavour, threads: 1 });
    const got = new Map<string, string>();
    try {
      const buf = (a: Float32Array, label: string) => { const b = be.alloc(a.length, label); be.write(b, a); return b; };
      const xb = buf(x, 'x'), sb = buf(src, 'src'), gb = buf(dy, 'dy');
      const v = (b: typeof xb) => ({ buf: b, off: 0, bs: 0 });
      for (const kind of ['max', 'avg'] as const) {
        for (const accumulate of [false, true]) {
          const y = buf(randArray(nout, 80), 'y'), ry = buf(randArray(nout, 81), 'ry'), dx = buf(randArray(nin, 82), 'dx');
          be.pool({ kind, mode: 'forward', shape: s, B, K: 1, x: v(xb), dst: v(y), accumulate });
          be.pool({ kind, mode: 'tangent', shape: s, B, K: 1, x: v(xb), src: v(sb), dst: v(ry), accumulate });
          be.pool({ kind, mode: 'backward', shape: s, B, K: 1, x: v(xb), src: v(gb), dst: v(dx), accumulate });
          for (const [k, b] of [['forward', y], ['tangent', ry], ['backward', dx]] as const) {
            got.set(`${kind} ${k}${accumulate ? ' accumulate' : ''}`, Buffer.from(be.mem32(b, 0, b.length).buffer).toString('hex'));
          }
        }
      }
    } finally {
      be.destroy();
    }
    outs.push(got);
  }
  for (const [k, hex] of outs[0]) assert.ok(outs[1].get(k) === hex, `${k}: the f32x4 path differs from the generic one`);
});

/** The outputs of every op, as bytes, on the threads build with `threads` threads. */
async function runAll(threads: number, flavour: CoreFlavour = 'threads'): Promise<Map<string, string>> {
  const be = await createNodeWasm({ flavour, threads });
  const out = new Map<string, string>();
  try {
    const v = (buf: ReturnType<typeof be.alloc>, bs = 0) => ({ buf, off: 0, bs });
    const hex = (b: ReturnType<typeof be.alloc>) => Buffer.from(be.mem32(b, 0, b.length).buffer).toString('hex');
    // (shape, B, K): examples split across threads; one example sliced along positions;
    // dW split by rows (Cout ≥ L) and by columns (L > Cout); K = 2 models.
    const cases: [string, ConvShape, number, number][] = [
      ['examples', convShape({ Cin: 5, H: 13, W: 11, Cout: 11, kh: 3, pad: 1 }), 7, 1],
      ['one example', convShape({ Cin: 7, H: 29, W: 31, Cout: 13, kh: 3, pad: 1 }), 1, 1],
      ['rows', convShape({ Cin: 2, H: 20, W: 20, Cout: 37, kh: 2, stride: 2 }), 8, 1],
      ['two models', convShape({ Cin: 9, H: 15, W: 15, Cout: 6, kh: 3, pad: 'same' }), 4, 2],
      // dWᵀ (L = 27 < Cout = 32) split by columns, and (L = 9 ≥ Cout = 8) by rows.
      ['dWᵀ columns', convShape({ Cin: 3, H: 14, W: 14, Cout: 32, kh: 3, pad: 1 }), 4, 1],
      ['dWᵀ rows', convShape({ Cin: 1, H: 30, W: 30, Cout: 8, kh: 3, pad: 1 }), 8, 1],
      // dW by dot products (conv-dot.ts): runs of (c, i)-major tiles, spanning two models.
      ['dW dot products', convShape({ Cin: 3, H: 10, W: 12, Cout: 11, kh: 3, pad: 1 }), 3, 2],
    ];
    for (const [name, s, B, K] of cases) {
      const nx = B * s.Cin * s.H * s.W, nw = s.Cout * s.Cin * s.kh * s.kw, ny = B * s.Cout * s.Ho * s.Wo;
      const x = be.alloc(K * nx, 'x'), w = be.alloc(K * nw, 'w'), dy = be.alloc(K * ny, 'dy'), bias = be.alloc(K * s.Cout, 'b');
      const y = be.alloc(K * ny, 'y'), dx = be.alloc(K * nx, 'dx'), dw = be.alloc(K * nw, 'dw'), db = be.alloc(K * s.Cout, 'db');
      be.write(x, randArray(K * nx, 1)); be.write(w, randArray(K * nw, 2)); be.write(dy, randArray(K * ny, 3)); be.write(bias, randArray(K * s.Cout, 4));
      be.conv({ mode: 'forward', shape: s, B, K, x: v(x, nx), w: v(w, nw), y: v(y, ny), bias: v(bias, s.Cout) });
      be.conv({ mode: 'dinput', shape: s, B, K, x: v(dx, nx), w: v(w, nw), y: v(dy, ny) });
      be.conv({ mode: 'dweight', shape: s, B, K, x: v(x, nx), w: v(dw, nw), y: v(dy, ny), bias: v(db, s.Cout) });
      for (const [k, b] of [['y', y], ['dx', dx], ['dw', dw], ['db', db]] as const) out.set(`conv ${name} ${k}`, hex(b));
      for (const b of [x, w, dy, bias, y, dx, dw, db]) be.release(b);
    }
    const s = poolShape({ C: 6, H: 33, W: 35, kh: 3, stride: 2, pad: 1 }), B = 20;
    const nin = B * s.C * s.H * s.W, nout = B * s.C * s.Ho * s.Wo;
    const x = be.alloc(nin, 'x'), src = be.alloc(nout, 'src'), y = be.alloc(nout, 'y'), dx = be.alloc(nin, 'dx'), a = be.alloc(nin, 'a');
    be.write(x, randArray(nin, 5)); be.write(src, randArray(nout, 6));
    for (const kind of ['max', 'avg'] as const) {
      be.pool({ kind, mode: 'forward', shape: s, B, K: 1, x: v(x), dst: v(y) });
      out.set(`${kind}pool forward`, hex(y));
      be.pool({ kind, mode: 'backward', shape: s, B, K: 1, x: v(x), src: v(src), dst: v(dx) });
      out.set(`${kind}pool backward`, hex(dx));
    }
    be.activation({ act: 'tanh', mode: 'apply', perModel: nin - 3, K: 1, x: v(x), out: v(a) });
    out.set('tanh apply', hex(a));
    be.activation({ act: 'gelu', mode: 'dmul', perModel: nin - 3, K: 1, x: v(x), a: v(dx), out: v(a) });
    out.set('gelu dmul', hex(a));
    // rdelta over K = 2 strided models (odd lengths: the split lands mid-model and off the f32x4 tails).
    const per = (nin >> 1) - 5, rbs = nin >> 1;
    const ra = be.alloc(nin, 'ra'), rs = be.alloc(nin, 'rs'), ro = be.alloc(nin, 'ro');
    be.write(ra, randArray(nin, 7)); be.write(rs, randArray(nin, 8));
    for (const act of ['tanh', 'gelu', 'relu', 'swish'] as const) {
      be.rdelta({ act, perModel: per, K: 2, a: v(x, rbs), ra: v(ra, rbs), g: v(dx, rbs), s: v(rs, rbs), out: v(ro, rbs) });
      out.set(`rdelta ${act}`, hex(ro));
    }
    // BatchNorm over K = 2 models × C = 7 channels (whole channels per thread; 7·2 jobs split unevenly), every mode.
    const bn = { B: 9, C: 7, S: 577, K: 2 }, bnN = bn.B * bn.C * bn.S, bnBs = bnN;
    const bx = be.alloc(2 * bnN, 'bn x'), bw = be.alloc(4 * bn.C, 'bn w'), bv = be.alloc(4 * bn.C, 'bn v'), bdy = be.alloc(2 * bnN, 'bn dy');
    const brx = be.alloc(2 * bnN, 'bn rx'), brdy = be.alloc(2 * bnN, 'bn rdy'), bo = be.alloc(2 * bnN, 'bn out'), bg = be.alloc(4 * bn.C, 'bn g');
    be.write(bx, randArray(2 * bnN, 31, 3)); be.write(bw, randArray(4 * bn.C, 32)); be.write(bv, randArray(4 * bn.C, 33));
    be.write(bdy, randArray(2 * bnN, 34)); be.write(brx, randArray(2 * bnN, 35)); be.write(brdy, randArray(2 * bnN, 36));
    for (const mode of ['forward', 'backward', 'tangent', 'rbackward'] as const) {
      be.write(bg, new Float32Array(4 * bn.C));
      be.batchnorm({ mode, ...bn, eps: 1e-5, x: v(bx, bnBs), w: v(bw, 2 * bn.C), v: v(bv, 2 * bn.C), dy: v(bdy, bnBs), rx: v(brx, bnBs),
        rdy: v(brdy, bnBs), out: v(bo, bnBs), ...(mode === 'forward' ? { running: v(bg, 2 * bn.C) } : { g: v(bg, 2 * bn.C) }) });
      out.set(`batchnorm ${mode}`, hex(bo) + hex(bg));
    }
  } finally {
    be.destroy();
  }
  return out;
}

test('1, 2 and 3 threads give the same bits (conv jobs: examples, positions, dW rows and columns; pooling; activations; rdelta; batchnorm)', async () => {
  const one = await runAll(1);
  for (const threads of [2, 3]) {
    const other = await runAll(threads);
    for (const [k, hex] of one) assert.ok(other.get(k) === hex, `${k}: ${threads} threads differ from 1`);
  }
});

test('the unshared SIMD build gives the threads build\'s bits (same kernels, same order)', async () => {
  const a = await runAll(2), b = await runAll(1, 'simd');
  for (const [k, hex] of a) assert.ok(b.get(k) === hex, `${k}: simd differs from threads`);
});

test('BatchNorm gives the same bits on the scalar and relaxed builds as on the threads build (f64x2 lanes and scalar code do the same f64 arithmetic)', async () => {
  const a = await runAll(2);
  const others: [CoreFlavour, number][] = [['scalar', 1], ...(nodeCoreRuns('relaxed') ? [['relaxed', 2] as [CoreFlavour, number]] : [])];
  for (const [flavour, threads] of others) {
    const b = await runAll(threads, flavour);
    for (const [k, hex] of a) if (k.startsWith('batchnorm')) assert.ok(b.get(k) === hex, `${k}: ${flavour} differs from threads`);
  }
});

for (const [flavour, threads] of BUILDS) {
  test(`${flavour} build, ${threads} thread(s): tanh's rdelta and σ′ product (dmul) off the stored σ(a) (aOut) equal them recomputing σ, bit for bit`, async () => {
    const be = await createNodeWasm({ flavour, threads });
    try {
      // K = 2 strided models of odd length: the thread split lands mid-model and off the f32x4 tails.
      const n = 4099, per = 2045, bs = 2049;
      const buf = (seed: number, scale = 1) => { const b = be.alloc(n, `b${seed}`); be.write(b, randArray(n, seed, scale)); return b; };
      const v = (b: ReturnType<typeof be.alloc>) => ({ buf: b, off: 1, bs });
      const a = buf(21, 4), ra = buf(22), g = buf(23), s = buf(24), t = be.alloc(n, 'σ(a)');
      be.activation({ act: 'tanh', mode: 'apply', perModel: n, K: 1, x: { buf: a, off: 0, bs: 0 }, out: { buf: t, off: 0, bs: 0 } });
      const run = (aOut: boolean) => {
        const out = be.alloc(n, 'out');
        be.rdelta({ act: 'tanh', perModel: per, K: 2, a: v(a), ra: v(ra), g: v(g), s: v(s), out: v(out), ...(aOut ? { aOut: v(t) } : {}) });
        return out;
      };
      const dmul = (aOut: boolean) => {
        const out = be.alloc(n, 'out');
        be.activation({ act: 'tanh', mode: 'dmul', perModel: per, K: 2, x: v(g), a: v(a), out: v(out), ...(aOut ? { aOut: v(t) } : {}) });
        return out;
      };
      const [recomputed, readOff, dRecomputed, dReadOff] = [run(false), run(true), dmul(false), dmul(true)];
      assert.equal(Array.from(await be.read(readOff)), Array.from(await be.read(recomputed)), 'rdelta');
      assert.equal(Array.from(await be.read(dReadOff)), Array.from(await be.read(dRecomputed)), 'dmul');
      be.vector({ n, y: t, beta: 0.5 });
      assert.not.equal(Array.from(await be.read(run(true))), Array.from(await be.read(recomputed)), 'rdelta reads the stored σ');
      assert.not.equal(Array.from(await be.read(dmul(true))), Array.from(await be.read(dRecomputed)), 'dmul reads the stored σ');
    } finally {
      be.destroy();
    }
  });
}

test.after(() => {
  for (const [k, e] of worst) console.log(`  worst rel err ${k}: ${e.toExponential(2)}`);
});

test.run();
