// The convolution, pooling and standalone-activation ops against float64
// (tests/reference/conv64.ts) on both backends: every mode, odd sizes,
// stride 1 and 2, padding 0/1/same, bias on/off, K = 3 models with per-model
// strides and shared data (bs = 0), accumulation, offset views. Tolerance
// 1e-5 relative (‖a−b‖∞/‖b‖∞): f32 sums of at most a few hundred products,
// whose rounding is ~√L·6e-8 ≲ 2e-6 of the largest term.
import * as assert from 'uvu/assert';
import { forEachBackend } from './helpers/backends.js';
import { randArray, relErr } from './helpers/gpu.js';
import { upload } from './helpers/problem.js';
import { convShape, poolShape } from '../core/ts/backend/checks.js';
import type { Backend, ConvShape, PoolShape } from '../core/ts/backend/types.js';
import { ACTIVATIONS } from '../core/ts/backend/activations.js';
import { conv64, convDinput64, convDweight64, pool64, poolBackward64, poolTangent64 } from './reference/conv64.js';
import { act64 } from './reference/mlp64.js';

const TOL = 1e-5;

const CASES: { name: string; s: ConvShape; B: number }[] = [
  { name: '3×3 pad 1', s: convShape({ Cin: 2, H: 7, W: 7, Cout: 3, kh: 3, pad: 1 }), B: 2 },
  { name: '3×3 pad same, 5×6 image', s: convShape({ Cin: 3, H: 5, W: 6, Cout: 4, kh: 3, pad: 'same' }), B: 3 },
  { name: '3×3 stride 2 pad 0', s: convShape({ Cin: 2, H: 7, W: 7, Cout: 3, kh: 3, stride: 2 }), B: 2 },
  { name: '5×5 stride 2 pad 2', s: convShape({ Cin: 3, H: 9, W: 8, Cout: 5, kh: 5, stride: 2, pad: 2 }), B: 1 },
  { name: '1×1', s: convShape({ Cin: 4, H: 3, W: 5, Cout: 6, kh: 1 }), B: 2 },
  { name: '2×3 kernel, 9 channels out', s: convShape({ Cin: 2, H: 6, W: 7, Cout: 9, kh: 2, kw: 3, pad: 1 }), B: 2 },
  { name: 'wide: 33 channels in, 40 out', s: convShape({ Cin: 33, H: 8, W: 8, Cout: 40, kh: 3, pad: 1 }), B: 3 },
];

function sizes(s: ConvShape, B: number) {
  return { nx: B * s.Cin * s.H * s.W, nw: s.Cout * s.Cin * s.kh * s.kw, ny: B * s.Cout * s.Ho * s.Wo };
}

/** Per-model slice z of a K-model host array laid out with offset `off` and stride `bs`. */
const slice = (a: Float32Array, off: number, bs: number, n: number, z: number) => a.subarray(off + z * bs, off + z * bs + n);

async function checkConv(be: Backend, s: ConvShape, B: number, bias: boolean, seed: number, sharedX: boolean): Promise<number> {
  const K = 3, { nx, nw, ny } = sizes(s, B), off = 5;
  const xs = sharedX ? 0 : nx;
  const x = randArray(off + (K - 1) * xs + nx, seed), w = randArray(off + K * nw, seed + 1);
  const dy = randArray(off + K * ny, seed + 2), bb = randArray(off + K * s.Cout, seed + 3);
  const y0 = randArray(off + K * ny, seed + 4), x0 = randArray(off + K * nx, seed + 5), w0 = randArray(off + K * nw, seed + 6);
  const xb = upload(be, x, 'x'), wb = upload(be, w, 'w'), dyb = upload(be, dy, 'dy'), biasb = upload(be, bb, 'bias');
  const yb = upload(be, y0, 'y'), dxb = upload(be, x0, 'dx'), dwb = upload(be, w0, 'dw'), dbb = upload(be, bb, 'db');
  const X = { buf: xb, off, bs: xs }, Wv = { buf: wb, off, bs: nw }, DY = { buf: dyb, off, bs: ny };
  const Bv = { buf: biasb, off, bs: s.Cout };
  let worst = 0;
  for (const accumulate of [false, true]) {
    be.conv({ mode: 'forward', shape: s, B, K, x: X, w: Wv, y: { buf: yb, off, bs: ny }, bias: bias ? Bv : undefined, accumulate });
    be.conv({ mode: 'dinput', shape: s, B, K, x: { buf: dxb, off, bs: nx }, w: Wv, y: DY, accumulate });
    be.conv({ mode: 'dweight', shape: s, B, K, x: X, w: { buf: dwb, off, bs: nw }, y: DY, bias: bias ? { buf: dbb, off, bs: s.Cout } : undefined, accumulate });
    const [y, dx, dw, db] = await Promise.all([be.read(yb), be.read(dxb), be.read(dwb), be.read(dbb)]);
    for (let z = 0; z < K; z++) {
      const xz = slice(x, off, xs, nx, z), wz = slice(w, off, nw, nw, z), dyz = slice(dy, off, ny, ny, z);
      const wantY = conv64(s, B, xz, wz, bias ? slice(bb, off, s.Cout, s.Cout, z) : undefined);
      const wantDx = convDinput64(s, B, dyz, wz);
      const { dw: wantDw, db: wantDb } = convDweight64(s, B, dyz, xz);
      const k = accumulate ? 2 : 1; // round 2 adds the same product onto round 1's result (outputs start as noise)
      worst = Math.max(worst,
        relErr(slice(y, off, ny, ny, z), wantY.map((v) => k * v)),
        relErr(slice(dx, off, nx, nx, z), wantDx.map((v) => k * v)),
        relErr(slice(dw, off, nw, nw, z), wantDw.map((v) => k * v)));
      if (bias) worst = Math.max(worst, relErr(slice(db, off, s.Cout, s.Cout, z), wantDb.map((v) => k * v)));
    }
  }
  // Outside the views nothing moved.
  const [y, dx] = await Promise.all([be.read(yb), be.read(dxb)]);
  assert.equal(Array.from(y.subarray(0, off)), Array.from(y0.subarray(0, off)), 'y before the view untouched');
  assert.equal(Array.from(dx.subarray(0, off)), Array.from(x0.subarray(0, off)), 'dx before the view untouched');
  for (const b of [xb, wb, dyb, biasb, yb, dxb, dwb, dbb]) be.release(b);
  return worst;
}

async function checkPool(be: Backend, kind: 'max' | 'avg', s: PoolShape, B: number, seed: number): Promise<number> {
  const K = 3, nin = B * s.C * s.H * s.W, nout = B * s.C * s.Ho * s.Wo, off = 3;
  const x = randArray(off + K * nin, seed), rx = randArray(off + K * nin, seed + 1), dy = randArray(off + K * nout, seed + 2);
  const xb = upload(be, x, 'x'), rxb = upload(be, rx, 'rx'), dyb = upload(be, dy, 'dy');
  const yb = be.alloc(off + K * nout, 'y'), ryb = be.alloc(off + K * nout, 'ry'), dxb = be.alloc(off + K * nin, 'dx');
  const X = { buf: xb, off, bs: nin };
  be.pool({ kind, mode: 'forward', shape: s, B, K, x: X, dst: { buf: yb, off, bs: nout } });
  be.pool({ kind, mode: 'tangent', shape: s, B, K, x: X, src: { buf: rxb, off, bs: nin }, dst: { buf: ryb, off, bs: nout } });
  be.pool({ kind, mode: 'backward', shape: s, B, K, x: X, src: { buf: dyb, off, bs: nout }, dst: { buf: dxb, off, bs: nin } });
  // Accumulating a second backward doubles it.
  const dx1 = await be.read(dxb);
  be.pool({ kind, mode: 'backward', shape: s, B, K, x: X, src: { buf: dyb, off, bs: nout }, dst: { buf: dxb, off, bs: nin }, accumulate: true });
  const [y, ry, dx2] = await Promise.all([be.read(yb), be.read(ryb), be.read(dxb)]);
  let worst = 0;
  for (let z = 0; z < K; z++) {
    const xz = slice(x, off, nin, nin, z);
    worst = Math.max(worst,
      relErr(slice(y, off, nout, nout, z), pool64(kind, s, B, xz)),
      relErr(slice(ry, off, nout, nout, z), poolTangent64(kind, s, B, xz, slice(rx, off, nin, nin, z))),
      relErr(slice(dx1, off, nin, nin, z), poolBackward64(kind, s, B, xz, slice(dy, off, nout, nout, z))),
      relErr(slice(dx2, off, nin, nin, z), poolBackward64(kind, s, B, xz, slice(dy, off, nout, nout, z)).map((v) => 2 * v)));
  }
  for (const b of [xb, rxb, dyb, yb, ryb, dxb]) be.release(b);
  return worst;
}

forEachBackend('conv ops', (T) => {
  for (const { name, s, B } of CASES) {
    for (const bias of [true, false]) {
      T(`conv ${name}, bias ${bias ? 'on' : 'off'}: forward, dinput, dweight (K = 3, accumulate) vs float64`, async ({ be }) => {
        const err = await checkConv(be, s, B, bias, 11 + s.Cin * 7 + s.Cout, false);
        assert.ok(err < TOL, `rel err ${err}`);
      });
    }
  }

  T('conv on data shared by the K models (x stride 0)', async ({ be }) => {
    const err = await checkConv(be, CASES[0].s, 2, true, 99, true);
    assert.ok(err < TOL, `rel err ${err}`);
  });

  T('conv: the same bits when run twice (deterministic, no atomics)', async ({ be }) => {
    const s = CASES[6].s, B = 3, { nx, nw, ny } = sizes(s, B);
    const xb = upload(be, randArray(nx, 1), 'x'), wb = upload(be, randArray(nw, 2), 'w'), yb = upload(be, randArray(ny, 3), 'dy');
    const dxb = be.alloc(nx, 'dx'), dwb = be.alloc(nw, 'dw');
    const run = async () => {
      be.conv({ mode: 'dinput', shape: s, B, K: 1, x: { buf: dxb, off: 0, bs: 0 }, w: { buf: wb, off: 0, bs: 0 }, y: { buf: yb, off: 0, bs: 0 } });
      be.conv({ mode: 'dweight', shape: s, B, K: 1, x: { buf: xb, off: 0, bs: 0 }, w: { buf: dwb, off: 0, bs: 0 }, y: { buf: yb, off: 0, bs: 0 } });
      return [Array.from(await be.read(dxb)), Array.from(await be.read(dwb))];
    };
    assert.equal(await run(), await run());
    for (const b of [xb, wb, yb, dxb, dwb]) be.release(b);
  });

  T('conv: bad views are one-line errors naming the operand', ({ be }) => {
    const s = CASES[0].s;
    const small = be.alloc(10, 'small');
    const v = { buf: small, off: 0, bs: 0 };
    assert.throws(() => be.conv({ mode: 'forward', shape: s, B: 2, K: 1, x: v, w: v, y: v }), /conv forward x: view of 'small'/);
    be.release(small);
    assert.throws(() => convShape({ Cin: 1, H: 2, W: 2, Cout: 1, kh: 3 }), /does not fit a 2×2 input/);
    assert.throws(() => convShape({ Cin: 1, H: 8, W: 8, Cout: 1, kh: 3, stride: 2, pad: 'same' }), /'same' needs stride 1/);
  });

  const POOLS: { name: string; s: PoolShape; B: number }[] = [
    { name: '2×2 stride 2', s: poolShape({ C: 3, H: 8, W: 8, kh: 2 }), B: 2 },
    { name: '2×2 stride 2, odd 7×5 image', s: poolShape({ C: 2, H: 7, W: 5, kh: 2 }), B: 2 },
    { name: '3×3 stride 2 pad 1', s: poolShape({ C: 2, H: 7, W: 7, kh: 3, stride: 2, pad: 1 }), B: 2 },
    { name: '3×3 stride 1 (overlapping)', s: poolShape({ C: 2, H: 6, W: 5, kh: 3, stride: 1 }), B: 1 },
    { name: 'global 4×4', s: poolShape({ C: 5, H: 4, W: 4, kh: 4 }), B: 3 },
  ];
  for (const kind of ['max', 'avg'] as const) {
    for (const { name, s, B } of POOLS) {
      T(`${kind} pool ${name}: forward, tangent, backward (K = 3) vs float64`, async ({ be }) => {
        const err = await checkPool(be, kind, s, B, 7 + s.kh * 13 + s.H);
        assert.ok(err < TOL, `rel err ${err}`);
      });
    }
  }

  T('max pool ties route to the first maximum, as PyTorch', async ({ be }) => {
    const s = poolShape({ C: 1, H: 2, W: 4, kh: 2 });
    const x = new Float32Array([1, 1, 0, 2, 1, 1, 2, 2]);
    const xb = upload(be, x, 'x'), dyb = upload(be, new Float32Array([1, 1]), 'dy'), dxb = be.alloc(8, 'dx');
    be.pool({ kind: 'max', mode: 'backward', shape: s, B: 1, K: 1, x: { buf: xb, off: 0, bs: 0 }, src: { buf: dyb, off: 0, bs: 0 }, dst: { buf: dxb, off: 0, bs: 0 } });
    assert.equal(Array.from(await be.read(dxb)), [1, 0, 0, 1, 0, 0, 0, 0]);
    for (const b of [xb, dyb, dxb]) be.release(b);
  });

  for (const act of ACTIVATIONS) {
    T(`activation ${act}: apply and dmul (K = 3) vs float64`, async ({ be }) => {
      const n = 1001, K = 3;
      const x = randArray(K * n, 5).map((v) => 3 * v), a = randArray(K * n, 6).map((v) => 3 * v);
      const xb = upload(be, x, 'x'), ab = upload(be, a, 'a'), ob = be.alloc(K * n, 'out'), db = be.alloc(K * n, 'dmul');
      be.activation({ act, mode: 'apply', perModel: n, K, x: { buf: xb, off: 0, bs: n }, out: { buf: ob, off: 0, bs: n } });
      be.activation({ act, mode: 'dmul', perModel: n, K, x: { buf: xb, off: 0, bs: n }, a: { buf: ab, off: 0, bs: n }, out: { buf: db, off: 0, bs: n } });
      const [o, d] = await Promise.all([be.read(ob), be.read(db)]);
      assert.ok(relErr(o, Float64Array.from(x, (v) => act64(act, v)[0])) < TOL, 'apply');
      assert.ok(relErr(d, Float64Array.from(x, (v, i) => act64(act, a[i])[1] * v)) < TOL, 'dmul');
      for (const b of [xb, ab, ob, db]) be.release(b);
    });
  }
});
