// Every WebGPU conv kernel variant (core/ts/backend/webgpu/conv-variants.ts)
// forced, in every mode, against float64 (tests/reference/conv64.ts): ragged
// sizes (no side a multiple of any tile), stride 2, K = 2 models with
// unaligned per-model views, accumulate, bias, weights and bias as views of
// one parameter buffer (as the layer engine passes them), a dweight long
// enough to be split into several chunks, and a batch large enough that the
// naive kernel's tile grid must fold past 65535 workgroups per dispatch axis
// (B = 500 of 32-channel 32×32 images needs 256000 of its tiles). Also the
// autotuner, in-place activations, the one-line aliasing error, and a split
// dweight of K = 16 models equal to each model alone bit for bit.
// Two kernel geometries only: each is a pipeline per variant and mode, ~1 s
// to compile on lavapipe (tests/conv-ops.test.ts covers more geometries on
// the default variant). Tolerance 1e-5 relative (‖·‖∞): f32 sums of ≤ 1020
// products.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { WebGPUBackend } from '../core/ts/backend/webgpu/backend.js';
import { CONV_VARIANTS, convGemm, convShapeKey, convSplit, convTile, type ConvVariant } from '../core/ts/backend/webgpu/conv-variants.js';
import { convShape } from '../core/ts/backend/checks.js';
import type { ConvShape } from '../core/ts/backend/types.js';
import { conv64, convDinput64, convDweight64 } from './reference/conv64.js';
import { randArray, relErr, testGpu } from './helpers/gpu.js';
import { upload } from './helpers/problem.js';

const T = suite<{ gpu: WebGPUBackend }>('conv variants [webgpu]');
T.before(async (ctx) => { ctx.gpu = (await testGpu()).backend; });
T.after((ctx) => ctx.gpu.destroy());

const TOL = 1e-5;
const K = 2;

const CASES: { name: string; s: ConvShape; B: number }[] = [
  { name: '3×3 pad 1, 7×9 image', s: convShape({ Cin: 3, H: 7, W: 9, Cout: 5, kh: 3, pad: 1 }), B: 2 },
  { name: '2×3 stride 2 pad 1', s: convShape({ Cin: 4, H: 9, W: 8, Cout: 6, kh: 2, kw: 3, stride: 2, pad: 1 }), B: 3 },
  { name: '2×3 stride 2 pad 0, 37 channels out', s: convShape({ Cin: 2, H: 8, W: 7, Cout: 37, kh: 2, kw: 3, stride: 2 }), B: 2 },
  { name: 'wide: 19 in, 33 out', s: convShape({ Cin: 19, H: 5, W: 6, Cout: 33, kh: 3, pad: 1 }), B: 2 },
  // dweight reduces over B·Ho·Wo = 1020 terms: split into chunks by the fast variants.
  { name: 'long reduction, 3×3 same', s: convShape({ Cin: 2, H: 15, W: 17, Cout: 3, kh: 3, pad: 'same' }), B: 4 },
];

/**
 * Runs the three modes twice on K models (second round accumulating) with
 * the given variant and returns the worst relative error against float64.
 */
async function check(gpu: WebGPUBackend, v: ConvVariant, s: ConvShape, B: number, seed: number): Promise<number> {
  const nx = B * s.Cin * s.H * s.W, nw = s.Cout * s.Cin * s.kh * s.kw, ny = B * s.Cout * s.Ho * s.Wo;
  // Parameters as the engine lays them out: [w, bias] per model in one flat
  // vector, model stride P, odd offsets.
  const P = nw + s.Cout + 3, pOff = 7;
  const theta = randArray(pOff + K * P, seed), x = randArray(3 + K * nx, seed + 1), dy = randArray(5 + K * ny, seed + 2);
  const y0 = randArray(1 + K * ny, seed + 3), dx0 = randArray(2 + K * nx, seed + 4), g0 = randArray(pOff + K * P, seed + 5);
  const tb = upload(gpu, theta, 'theta'), xb = upload(gpu, x, 'x'), dyb = upload(gpu, dy, 'dy');
  const yb = upload(gpu, y0, 'y'), dxb = upload(gpu, dx0, 'dx'), gb = upload(gpu, g0, 'grad');
  const W = { buf: tb, off: pOff, bs: P }, Bias = { buf: tb, off: pOff + nw, bs: P };
  const GW = { buf: gb, off: pOff, bs: P }, GB = { buf: gb, off: pOff + nw, bs: P };
  const X = { buf: xb, off: 3, bs: nx }, DY = { buf: dyb, off: 5, bs: ny };
  const Y = { buf: yb, off: 1, bs: ny }, DX = { buf: dxb, off: 2, bs: nx };
  let worst = 0;
  for (const accumulate of [false, true]) {
    gpu.conv({ mode: 'forward', shape: s, B, K, x: X, w: W, y: Y, bias: Bias, accumulate }, v);
    gpu.conv({ mode: 'dinput', shape: s, B, K, x: DX, w: W, y: DY, accumulate }, v);
    gpu.conv({ mode: 'dweight', shape: s, B, K, x: X, w: GW, y: DY, bias: GB, accumulate }, v);
    const [y, dx, g] = await Promise.all([gpu.read(yb), gpu.read(dxb), gpu.read(gb)]);
    const k = accumulate ? 2 : 1; // outputs start as noise; round 2 adds the same product again
    for (let z = 0; z < K; z++) {
      const at = (a: Float32Array, off: number, n: number) => a.subarray(off + z * n, off + (z + 1) * n);
      const wz = theta.subarray(pOff + z * P, pOff + z * P + nw), bz = theta.subarray(pOff + z * P + nw, pOff + z * P + nw + s.Cout);
      const xz = at(x, 3, nx), dyz = at(dy, 5, ny);
      const { dw, db } = convDweight64(s, B, dyz, xz);
      const errs = {
        forward: relErr(at(y, 1, ny), conv64(s, B, xz, wz, bz).map((q) => k * q)),
        dinput: relErr(at(dx, 2, nx), convDinput64(s, B, dyz, wz).map((q) => k * q)),
        dweight: relErr(g.subarray(pOff + z * P, pOff + z * P + nw), dw.map((q) => k * q)),
        dbias: relErr(g.subarray(pOff + z * P + nw, pOff + z * P + nw + s.Cout), db.map((q) => k * q)),
      };
      for (const [what, e] of Object.entries(errs)) {
        assert.ok(e < TOL, `${v.id} ${what} model ${z}${accumulate ? ' (accumulate)' : ''}: rel err ${e}`);
        worst = Math.max(worst, e);
      }
      // The 3 parameters between models' [w, bias] blocks are not touched.
      const gap = pOff + z * P + nw + s.Cout;
      assert.equal(Array.from(g.subarray(gap, gap + 3)), Array.from(g0.subarray(gap, gap + 3)), `${v.id}: gradient gap`);
    }
  }
  for (const b of [tb, xb, dyb, yb, dxb, gb]) gpu.release(b);
  return worst;
}

const worstOf: Record<string, number> = {};

T('the long-reduction case splits dweight for the fast variants, and the variant list is well-formed', () => {
  const { s, B } = CASES[CASES.length - 1];
  const op = { mode: 'dweight' as const, shape: s, B, K, bias: {} as never };
  assert.ok(convGemm(op).L === 1020);
  for (const v of CONV_VARIANTS) {
    const { S, chunk } = convSplit(op, v);
    if (v.kernel === 'naive') assert.is(S, 1);
    else assert.ok(S > 1, `${v.id} splits (S = ${S})`);
    assert.ok(S * chunk >= 1020 && (S - 1) * chunk < 1020, `${v.id}: chunks cover the reduction once`);
  }
  assert.ok(CONV_VARIANTS.some((v) => v.kernel === 'naive') && CONV_VARIANTS.some((v) => v.kernel !== 'naive'));
  assert.is(new Set(CONV_VARIANTS.map((v) => v.id)).size, CONV_VARIANTS.length);
});

for (const v of CONV_VARIANTS) {
  T(`${v.id}: forward, dinput, dweight + bias × ${CASES.length} shapes, K = ${K}, accumulate`, async ({ gpu }) => {
    let worst = 0;
    for (const [i, { s, B }] of CASES.entries()) worst = Math.max(worst, await check(gpu, v, s, B, 100 + 10 * i));
    worstOf[v.id] = worst;
  });
}

T('dweight is split per model: K = 16 batched models equal each alone bit for bit (the split does not depend on K)', async ({ gpu }) => {
  // B·Ho·Wo = 66560 terms over one tile: split into 130 chunks alone; K once counted in (2048 workgroups over 16 tiles: 116 chunks).
  const s = convShape({ Cin: 3, H: 32, W: 32, Cout: 8, kh: 3, pad: 1 }), B = 65, K16 = 16;
  const nx = B * s.Cin * s.H * s.W, ny = B * s.Cout * s.Ho * s.Wo, nw = s.Cout * s.Cin * 9, P = nw + s.Cout;
  const one = { mode: 'dweight' as const, shape: s, B, K: 1, bias: {} as never }, many = { ...one, K: K16 };
  const x = randArray(K16 * nx, 31), dy = randArray(K16 * ny, 32);
  const xb = upload(gpu, x, 'x'), dyb = upload(gpu, dy, 'dy'), gb = gpu.alloc(K16 * P, 'grad'), x1 = gpu.alloc(nx, 'x1'), dy1 = gpu.alloc(ny, 'dy1'), g1 = gpu.alloc(P, 'g1');
  for (const v of [CONV_VARIANTS.find((q) => q.id === 'reg16x8-4x8')!, CONV_VARIANTS.find((q) => q.id === 'tiled-8x8-k16')!]) {
    assert.equal(convSplit(many, v), convSplit(one, v), `${v.id}: the split of one model`);
    assert.ok(convSplit(one, v).S > 100, `${v.id} splits`);
    gpu.conv({ mode: 'dweight', shape: s, B, K: K16, x: { buf: xb, off: 0, bs: nx }, y: { buf: dyb, off: 0, bs: ny }, w: { buf: gb, off: 0, bs: P }, bias: { buf: gb, off: nw, bs: P } }, v);
    const batched = new Uint32Array((await gpu.read(gb)).buffer);
    for (const z of [0, 7, 15]) {
      gpu.write(x1, x.subarray(z * nx, (z + 1) * nx));
      gpu.write(dy1, dy.subarray(z * ny, (z + 1) * ny));
      gpu.conv({ mode: 'dweight', shape: s, B, K: 1, x: { buf: x1, off: 0, bs: 0 }, y: { buf: dy1, off: 0, bs: 0 }, w: { buf: g1, off: 0, bs: 0 }, bias: { buf: g1, off: nw, bs: 0 } }, v);
      const alone = new Uint32Array((await gpu.read(g1)).buffer);
      const differ = alone.filter((q, i) => q !== batched[z * P + i]).length;
      assert.is(differ, 0, `${v.id} model ${z}: ${differ} of ${P} gradient values differ from the model alone`);
    }
  }
  for (const b of [xb, dyb, gb, x1, dy1, g1]) gpu.release(b);
});

T('a batch whose tile grid exceeds 65535 workgroups per axis (B = 130, 32 channels, 32×32)', async ({ gpu }) => {
  // One input channel keeps the work small; the output grid is what matters here.
  const s = convShape({ Cin: 1, H: 32, W: 32, Cout: 32, kh: 3, pad: 1 }), B = 130;
  const naive = CONV_VARIANTS.find((v) => v.kernel === 'naive')!;
  const [tm, tn] = convTile(naive);
  const { M, N } = convGemm({ mode: 'forward', shape: s, B });
  assert.ok(Math.ceil(M / tm) * Math.ceil(N / tn) > 65535, 'the naive forward grid needs folding');
  const nx = B * s.Cin * s.H * s.W, nw = s.Cout * 9, ny = B * s.Cout * s.Ho * s.Wo;
  const x = randArray(nx, 1), w = randArray(nw, 2), dy = randArray(ny, 3);
  const xb = upload(gpu, x, 'x'), wb = upload(gpu, w, 'w'), dyb = upload(gpu, dy, 'dy');
  const yb = gpu.alloc(ny, 'y'), dxb = gpu.alloc(nx, 'dx'), dwb = gpu.alloc(nw, 'dw'), dbb = gpu.alloc(s.Cout, 'db');
  const V = (buf: typeof xb) => ({ buf, off: 0, bs: 0 });
  const wantY = conv64(s, B, x, w), wantDx = convDinput64(s, B, dy, w), want = convDweight64(s, B, dy, x);
  for (const v of [naive, CONV_VARIANTS.find((q) => q.kernel === 'reg')!, CONV_VARIANTS.find((q) => q.kernel === 'tiled')!]) {
    gpu.conv({ mode: 'forward', shape: s, B, K: 1, x: V(xb), w: V(wb), y: V(yb) }, v);
    gpu.conv({ mode: 'dinput', shape: s, B, K: 1, x: V(dxb), w: V(wb), y: V(dyb) }, v);
    gpu.conv({ mode: 'dweight', shape: s, B, K: 1, x: V(xb), w: V(dwb), y: V(dyb), bias: V(dbb) }, v);
    const [y, dx, dw, db] = await Promise.all([gpu.read(yb), gpu.read(dxb), gpu.read(dwb), gpu.read(dbb)]);
    assert.ok(relErr(y, wantY) < TOL, `${v.id} forward`);
    assert.ok(relErr(dx, wantDx) < TOL, `${v.id} dinput`);
    // 133120-term sums: f32 rounding grows like √n.
    assert.ok(relErr(dw, want.dw) < 1e-4, `${v.id} dweight ${relErr(dw, want.dw)}`);
    assert.ok(relErr(db, want.db) < 1e-4, `${v.id} dbias ${relErr(db, want.db)}`);
  }
  for (const b of [xb, wb, dyb, yb, dxb, dwb, dbb]) gpu.release(b);
});

T('a written operand in the same buffer as an input is refused in one line', ({ gpu }) => {
  const s = CASES[0].s, B = 2;
  const big = gpu.alloc(10000, 'big');
  assert.throws(() => gpu.conv({ mode: 'forward', shape: s, B, K: 1, x: { buf: big, off: 0, bs: 0 }, w: { buf: big, off: 2000, bs: 0 }, y: { buf: big, off: 3000, bs: 0 } }),
    /conv forward: the written operand and an input are both views of 'big'/);
  gpu.release(big);
});

T('activation in place (out in the same buffer as x, or as a) matches the out-of-place result', async ({ gpu }) => {
  const n = 300, K = 2;
  const x = randArray(K * n, 8).map((q) => 3 * q), a = randArray(K * n, 9).map((q) => 3 * q);
  const V = (buf: ReturnType<typeof upload>, off = 0) => ({ buf, off, bs: n });
  const xb = upload(gpu, x, 'x'), ab = upload(gpu, a, 'a'), ob = gpu.alloc(K * n, 'out');
  const want = async (op: 'apply' | 'dmul') => {
    gpu.activation({ act: 'tanh', mode: op, perModel: n, K, x: V(xb), a: V(ab), out: V(ob) });
    return gpu.read(ob);
  };
  const wantApply = await want('apply'), wantDmul = await want('dmul');
  const xi = upload(gpu, x, 'x in place');
  gpu.activation({ act: 'tanh', mode: 'apply', perModel: n, K, x: V(xi), out: V(xi) });
  assert.equal(Array.from(await gpu.read(xi)), Array.from(wantApply), 'apply, x = out');
  gpu.write(xi, x);
  gpu.activation({ act: 'tanh', mode: 'dmul', perModel: n, K, x: V(xi), a: V(ab), out: V(xi) });
  assert.equal(Array.from(await gpu.read(xi)), Array.from(wantDmul), 'dmul, x = out');
  const ai = upload(gpu, a, 'a in place');
  gpu.activation({ act: 'tanh', mode: 'dmul', perModel: n, K, x: V(xb), a: V(ai), out: V(ai) });
  assert.equal(Array.from(await gpu.read(ai)), Array.from(wantDmul), 'dmul, a = out');
  for (const b of [xb, ab, ob, xi, ai]) gpu.release(b);
});

T('autotune picks a conv variant per mode and size class; results do not depend on it', async ({ gpu }) => {
  const s = CASES[0].s, B = 2;
  const nx = B * s.Cin * s.H * s.W, nw = s.Cout * s.Cin * s.kh * s.kw, ny = B * s.Cout * s.Ho * s.Wo;
  const xb = upload(gpu, randArray(nx, 1), 'x'), wb = upload(gpu, randArray(nw, 2), 'w'), yb = gpu.alloc(ny, 'y');
  const op = { mode: 'forward' as const, shape: s, B, K: 1, x: { buf: xb, off: 0, bs: 0 }, w: { buf: wb, off: 0, bs: 0 }, y: { buf: yb, off: 0, bs: 0 } };
  await gpu.tuneConv([op, { ...op, mode: 'dinput' }]);
  assert.ok(gpu.convTuner.choices.has(convShapeKey(op)) && gpu.convTuner.choices.has(convShapeKey({ ...op, mode: 'dinput' })));
  assert.ok(Object.keys(gpu.convTuner.timings.get(convShapeKey(op))!).length >= 2, 'several variants timed');
  assert.ok(gpu.tuner.choices.has(convShapeKey(op)), 'conv choices persist with the matmul ones');
  gpu.conv(op);
  const tuned = await gpu.read(yb);
  gpu.conv(op, CONV_VARIANTS[0]);
  assert.ok(relErr(tuned, await gpu.read(yb)) < TOL);
  for (const b of [xb, wb, yb]) gpu.release(b);
});

T('worst relative errors', () => {
  console.log(`\n  worst rel err per variant: ${Object.entries(worstOf).map(([k, e]) => `${k} ${e.toExponential(1)}`).join(', ')}`);
});

T.run();
