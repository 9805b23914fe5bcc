// The conv fusions (ModelPlan.convFused/poolFused/unpooled; ConvOp.act, .pool,
// .unpool; PoolOp.reluMask, .route) against the unfused composition they
// replace, on every Wasm build (threads ×2/×3, unshared SIMD, scalar, relaxed
// SIMD where this Node runs it) and on WebGPU:
//   - conv forward with an activation epilogue = conv, then 'apply' over y;
//   - max pool tangent with reluMask = 'dmul' by [x > 0], then the tangent;
//     backward with reluMask = the backward, then 'dmul' by [x > 0];
//   - conv forward with the max-pool epilogue: pooled = conv+relu then the
//     pool's forward, and its route codes drive tangent/backward (PoolOp.route)
//     and dweight (ConvOp.unpool) to the reluMask ops' bits;
//   - a model walked with the fused plan = planWalk(…, { convFusion: 'relu' })
//     = planWalk(…, { convFusion: false }): loss, gradient, HVP, Gauss-Newton.
// The fusions move element-wise operations, never reorder a sum, so every
// comparison is bit for bit (signed zeros included), not within a tolerance.
// On the old code ConvOp.act and PoolOp.reluMask were ignored: the fused walk
// then returned the gradient through pre-activations, which these comparisons catch.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ACTIVATIONS } from '../core/ts/backend/activations.js';
import { convShape, poolShape } from '../core/ts/backend/checks.js';
import type { Backend, Buf, ConvShape, PoolShape, View } from '../core/ts/backend/types.js';
import type { CoreFlavour } from '../core/ts/backend/wasm/module.js';
import { modelFromArch } from '../core/ts/nn/arch.js';
import { buildModel, planWalk, type Model } from '../core/ts/nn/model.js';
import { ModelObjective } from '../core/ts/objective/model-objective.js';
import { uploadData } from '../core/ts/objective/data.js';
import { createNodeWasm, enableNodeRelaxedSimd, nodeCoreRuns } from '../hosts/node/wasm.js';
import { BACKENDS } from './helpers/backends.js';
import { randArray, testGpu } from './helpers/gpu.js';

type Maker = () => Promise<Backend>;
const MAKERS: [string, Maker][] = [];
const builds: [CoreFlavour, number][] = [['threads', 2], ['threads', 3], ['simd', 1], ['scalar', 1]];
if (nodeCoreRuns('relaxed') || enableNodeRelaxedSimd()) builds.push(['relaxed', 2]);
if (BACKENDS.includes('wasm')) for (const [flavour, threads] of builds) MAKERS.push([`wasm ${flavour} ×${threads}`, () => createNodeWasm({ flavour, threads })]);
if (BACKENDS.includes('webgpu')) MAKERS.push(['webgpu', async () => (await testGpu()).backend]);

const v = (buf: Buf, off = 0, bs = 0): View => ({ buf, off, bs });
const hex = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
function put(be: Backend, a: Float32Array, label: string): Buf {
  const b = be.alloc(a.length, label);
  be.write(b, a);
  return b;
}
/** Random values with a third of them exact zeros of either sign and many ties: ReLU kinks and max-pool ties. */
function kinky(n: number, seed: number): Float32Array {
  return Float32Array.from(randArray(n, seed), (x, i) => (i % 3 === 0 ? (i % 2 ? -0 : 0) : i % 5 === 0 ? 0.5 : x));
}

// Conv shapes: cnn-relu's first layer in small, stride 2 with odd sizes, and
// B = 1 with many positions (one example sliced across threads).
const CONVS: { s: ConvShape; B: number }[] = [
  { s: convShape({ Cin: 3, H: 8, W: 8, Cout: 5, kh: 3, pad: 1 }), B: 3 },
  { s: convShape({ Cin: 4, H: 9, W: 11, Cout: 9, kh: 3, stride: 2 }), B: 2 },
  { s: convShape({ Cin: 2, H: 41, W: 39, Cout: 3, kh: 3, pad: 'same' }), B: 1 },
];
const POOLS: { s: PoolShape; B: number }[] = [
  { s: poolShape({ C: 3, H: 8, W: 16, kh: 2 }), B: 2 },           // the f32x4 2×2 path
  { s: poolShape({ C: 2, H: 11, W: 21, kh: 2 }), B: 2 },          // 2×2 with odd sizes: vector and scalar columns
  { s: poolShape({ C: 3, H: 9, W: 9, kh: 3, stride: 2, pad: 1 }), B: 2 }, // overlapping windows, the generic path
];

async function convEpilogue(be: Backend): Promise<void> {
  const K = 2;
  for (const [ci, { s, B }] of CONVS.entries()) {
    const nx = B * s.Cin * s.H * s.W, nw = s.Cout * s.Cin * s.kh * s.kw, ny = B * s.Cout * s.Ho * s.Wo;
    const x = put(be, randArray(K * nx, 10 + ci), 'x'), w = put(be, randArray(K * nw, 20 + ci), 'w'), b = put(be, randArray(K * s.Cout, 30 + ci), 'b');
    for (const act of ACTIVATIONS) {
      for (const bias of [true, false]) {
        const fused = be.alloc(K * ny, 'fused'), plain = be.alloc(K * ny, 'plain');
        const op = { mode: 'forward' as const, shape: s, B, K, x: v(x, 0, nx), w: v(w, 0, nw), bias: bias ? v(b, 0, s.Cout) : undefined };
        be.conv({ ...op, y: v(fused, 0, ny), act });
        be.conv({ ...op, y: v(plain, 0, ny) });
        be.activation({ act, mode: 'apply', perModel: ny, K, x: v(plain, 0, ny), out: v(plain, 0, ny) });
        const [f, p] = [await be.read(fused), await be.read(plain)];
        assert.ok(hex(f) === hex(p), `conv ${ci} ${act}${bias ? ' +bias' : ''}: the epilogue differs from conv then apply`);
        be.release(fused);
        be.release(plain);
      }
    }
    for (const buf of [x, w, b]) be.release(buf);
  }
}

async function poolMask(be: Backend): Promise<void> {
  const K = 2;
  for (const [pi, { s, B }] of POOLS.entries()) {
    const nin = B * s.C * s.H * s.W, nout = B * s.C * s.Ho * s.Wo;
    // x is a ReLU's output (zeros of both signs would not come out of max(a, 0), but +0 ties do).
    const x = put(be, Float32Array.from(kinky(K * nin, 40 + pi), (e) => Math.max(e, 0)), 'x');
    const r = put(be, kinky(K * nin, 50 + pi), 'r'), g = put(be, kinky(K * nout, 60 + pi), 'g');
    const xv = v(x, 0, nin), base = { kind: 'max' as const, shape: s, B, K, x: xv };
    // tangent: fused vs dmul then tangent
    const t1 = be.alloc(K * nout, 't1'), t2 = be.alloc(K * nout, 't2'), rm = be.alloc(K * nin, 'rm');
    be.pool({ ...base, mode: 'tangent', src: v(r, 0, nin), dst: v(t1, 0, nout), reluMask: true });
    be.activation({ act: 'relu', mode: 'dmul', perModel: nin, K, x: v(r, 0, nin), a: xv, out: v(rm, 0, nin) });
    be.pool({ ...base, mode: 'tangent', src: v(rm, 0, nin), dst: v(t2, 0, nout) });
    assert.ok(hex(await be.read(t1)) === hex(await be.read(t2)), `pool ${pi} tangent: reluMask differs from dmul then tangent`);
    // backward: fused vs backward then dmul
    const d1 = be.alloc(K * nin, 'd1'), d2 = be.alloc(K * nin, 'd2');
    be.pool({ ...base, mode: 'backward', src: v(g, 0, nout), dst: v(d1, 0, nin), reluMask: true });
    be.pool({ ...base, mode: 'backward', src: v(g, 0, nout), dst: v(rm, 0, nin) });
    be.activation({ act: 'relu', mode: 'dmul', perModel: nin, K, x: v(rm, 0, nin), a: xv, out: v(d2, 0, nin) });
    const [b1, b2] = [await be.read(d1), await be.read(d2)];
    assert.ok(hex(b1) === hex(b2), `pool ${pi} backward: reluMask differs from backward then dmul`);
    const unmasked = await be.read(rm);
    assert.ok(b1.some((e, i) => e === 0 && unmasked[i] !== 0), 'the mask zeroed a routed cotangent (the comparison has teeth)');
    for (const buf of [x, r, g, t1, t2, rm, d1, d2]) be.release(buf);
  }
}

async function poolEpilogue(be: Backend): Promise<void> {
  const K = 2;
  const shapes: { s: ConvShape; B: number }[] = [
    { s: convShape({ Cin: 3, H: 8, W: 16, Cout: 5, kh: 3, pad: 1 }), B: 3 },   // pooled rows of 8: the f32x4 path
    { s: convShape({ Cin: 2, H: 11, W: 13, Cout: 6, kh: 3, pad: 1 }), B: 2 },  // odd sizes: a row and a column in no window
    { s: convShape({ Cin: 2, H: 21, W: 21, Cout: 3, kh: 3, pad: 'same' }), B: 1 }, // one example: not sliced across threads
    { s: convShape({ Cin: 2, H: 7, W: 8, Cout: 4, kh: 3, pad: 1 }), B: 2 },    // dW by dot products (conv-dot.ts) with an odd row in no window
  ];
  for (const [ci, { s, B }] of shapes.entries()) {
    const ps = poolShape({ C: s.Cout, H: s.Ho, W: s.Wo, kh: 2 });
    const nx = B * s.Cin * s.H * s.W, nw = s.Cout * s.Cin * s.kh * s.kw, ny = B * s.Cout * s.Ho * s.Wo, np = B * s.Cout * ps.Ho * ps.Wo;
    // Small weights and inputs with zeros: many outputs at exact 0 (ReLU kinks, pool ties).
    const x = put(be, kinky(K * nx, 80 + ci), 'x'), w = put(be, Float32Array.from(kinky(K * nw, 90 + ci), (e, i) => (i % 4 ? e : 0)), 'w');
    const b = put(be, randArray(K * s.Cout, 95 + ci, 0.1), 'b');
    // Shape 1 without a bias; the dweights below always sum one.
    const conv = { shape: s, B, K, x: v(x, 0, nx), bias: ci === 1 ? undefined : v(b, 0, s.Cout) };
    const y = be.alloc(K * ny, 'y'), pd = be.alloc(K * np, 'pooled'), rt = be.alloc(K * np, 'routes');
    const y2 = be.alloc(K * ny, 'y2'), pd2 = be.alloc(K * np, 'pooled2');
    be.conv({ ...conv, mode: 'forward', w: v(w, 0, nw), y: v(y2, 0, ny), act: 'relu', pool: { dst: v(pd, 0, np), route: v(rt, 0, np) } });
    be.conv({ ...conv, mode: 'forward', w: v(w, 0, nw), y: v(y, 0, ny), act: 'relu' });
    be.pool({ kind: 'max', mode: 'forward', shape: ps, B, K, x: v(y, 0, ny), dst: v(pd2, 0, np) });
    assert.ok(hex(await be.read(pd)) === hex(await be.read(pd2)), `conv ${ci}: pooled epilogue differs from conv+relu then max pool`);
    // The routes against the reluMask ops on the full-size activation.
    const r = put(be, kinky(K * ny, 100 + ci), 'r'), g = put(be, kinky(K * np, 110 + ci), 'g');
    const pool = { kind: 'max' as const, shape: ps, B, K, x: v(y, 0, ny) };
    const t1 = be.alloc(K * np, 't1'), t2 = be.alloc(K * np, 't2'), d1 = be.alloc(K * ny, 'd1'), d2 = be.alloc(K * ny, 'd2');
    be.pool({ ...pool, mode: 'tangent', src: v(r, 0, ny), dst: v(t1, 0, np), route: v(rt, 0, np) });
    be.pool({ ...pool, mode: 'tangent', src: v(r, 0, ny), dst: v(t2, 0, np), reluMask: true });
    assert.ok(hex(await be.read(t1)) === hex(await be.read(t2)), `conv ${ci}: tangent by routes differs from reluMask`);
    be.write(d1, randArray(K * ny, 5)); // the backward overwrites every input, routed or not
    be.pool({ ...pool, mode: 'backward', src: v(g, 0, np), dst: v(d1, 0, ny), route: v(rt, 0, np) });
    be.pool({ ...pool, mode: 'backward', src: v(g, 0, np), dst: v(d2, 0, ny), reluMask: true });
    assert.ok(hex(await be.read(d1)) === hex(await be.read(d2)), `conv ${ci}: backward by routes differs from reluMask`);
    // dweight (and the bias sum) with dy unpooled on the fly = dweight of the reluMask backward's dy.
    const dw1 = be.alloc(K * nw, 'dw1'), dw2 = be.alloc(K * nw, 'dw2'), db1 = be.alloc(K * s.Cout, 'db1'), db2 = be.alloc(K * s.Cout, 'db2');
    be.conv({ ...conv, mode: 'dweight', w: v(dw1, 0, nw), bias: v(db1, 0, s.Cout), y: v(y2, 0, ny), unpool: { src: v(g, 0, np), route: v(rt, 0, np) } });
    be.conv({ ...conv, mode: 'dweight', w: v(dw2, 0, nw), bias: v(db2, 0, s.Cout), y: v(d2, 0, ny) });
    assert.ok(hex(await be.read(dw1)) === hex(await be.read(dw2)), `conv ${ci}: dweight from routes differs`);
    assert.ok(hex(await be.read(db1)) === hex(await be.read(db2)), `conv ${ci}: bias gradient from routes differs`);
    for (const buf of [x, w, b, y, pd, rt, y2, pd2, r, g, t1, t2, d1, d2, dw1, dw2, db1, db2]) be.release(buf);
  }
  // NaN and ±∞ in the conv output: the f32x4 epilogue routes NaN-free groups of
  // windows from the pre-activations alone and hands a group holding a NaN to
  // the lane-at-a-time route; pooled values and routes must still be the
  // unfused ops' (compared with Object.is: a NaN's payload is not specified).
  // Wasm only: WGSL leaves max and comparisons with a NaN implementation-defined.
  if (be.kind !== 'wasm') return;
  const s = convShape({ Cin: 2, H: 8, W: 16, Cout: 4, kh: 3, pad: 1 }), B = 2;
  const ps = poolShape({ C: s.Cout, H: s.Ho, W: s.Wo, kh: 2 });
  const nx = B * s.Cin * s.H * s.W, nw = s.Cout * s.Cin * s.kh * s.kw, ny = B * s.Cout * s.Ho * s.Wo, np = B * s.Cout * ps.Ho * ps.Wo;
  const x = put(be, Float32Array.from(kinky(K * nx, 120), (e, i) => (i % 97 === 0 ? NaN : i % 89 === 0 ? Infinity : i % 83 === 0 ? -Infinity : e)), 'x');
  const w = put(be, kinky(K * nw, 121), 'w'), b = put(be, randArray(K * s.Cout, 122, 0.1), 'b');
  const conv = { mode: 'forward' as const, shape: s, B, K, x: v(x, 0, nx), w: v(w, 0, nw), bias: v(b, 0, s.Cout), act: 'relu' as const };
  const y = be.alloc(K * ny, 'y'), pd = be.alloc(K * np, 'pooled'), rt = be.alloc(K * np, 'routes'), pd2 = be.alloc(K * np, 'pooled2');
  be.conv({ ...conv, y: v(y, 0, ny), pool: { dst: v(pd, 0, np), route: v(rt, 0, np) } });
  be.conv({ ...conv, y: v(y, 0, ny) });
  be.pool({ kind: 'max', mode: 'forward', shape: ps, B, K, x: v(y, 0, ny), dst: v(pd2, 0, np) });
  const same = (a: Float32Array, c: Float32Array) => a.length === c.length && a.every((e, i) => Object.is(e, c[i]));
  const [p1, p2] = [await be.read(pd), await be.read(pd2)];
  assert.ok(p2.some(Number.isNaN) && p2.some((e) => e > 0 && Number.isFinite(e)), 'NaN case: the pooled output holds NaNs and positive numbers');
  assert.ok(same(p1, p2), 'NaN case: pooled epilogue differs from conv+relu then max pool');
  const g = put(be, kinky(K * np, 123), 'g'), d1 = be.alloc(K * ny, 'd1'), d2 = be.alloc(K * ny, 'd2');
  const pool = { kind: 'max' as const, shape: ps, B, K, x: v(y, 0, ny), src: v(g, 0, np) };
  be.pool({ ...pool, mode: 'backward', dst: v(d1, 0, ny), route: v(rt, 0, np) });
  be.pool({ ...pool, mode: 'backward', dst: v(d2, 0, ny), reluMask: true });
  assert.ok(same(await be.read(d1), await be.read(d2)), 'NaN case: backward by routes differs from reluMask');
  for (const buf of [x, w, b, y, pd, rt, pd2, g, d1, d2]) be.release(buf);
}

/** Loss, gradient, HVP and Gauss-Newton product of `m` under its own plan, the ReLU-only fused and the unfused one. */
async function modelBits(be: Backend, m: Model, seed: number): Promise<Map<string, string>[]> {
  const N = 5, d = m.inShape.reduce((a, b) => a * b, 1), c = m.outShape[0];
  const data = uploadData(be, randArray(N * d, seed), randArray(N * c, seed + 1), N, d, c);
  const th = put(be, randArray(m.P, seed + 2, 0.5), 'θ'), dir = put(be, randArray(m.P, seed + 3), 'v');
  const g = be.alloc(m.P, 'g'), hv = be.alloc(m.P, 'hv'), gn = be.alloc(m.P, 'gn');
  const out: Map<string, string>[] = [];
  for (const model of [m, { ...m, plan: planWalk(m.layers, { convFusion: 'relu' }) }, { ...m, plan: planWalk(m.layers, { convFusion: false }) }]) {
    const obj = new ModelObjective(be, model, data, { loss: 'mse', physicalBatch: 3 });
    const bits = new Map<string, string>();
    const la = await obj.grad(th, g);
    bits.set('loss', String(la.loss[0]));
    bits.set('grad', hex(await be.read(g)));
    await obj.hvp(th, [dir], [hv]);
    bits.set('hvp', hex(await be.read(hv)));
    await obj.hvp(th, [dir], [gn], { gaussNewton: true });
    bits.set('gn', hex(await be.read(gn)));
    out.push(bits);
    obj.dispose();
  }
  for (const b of [th, dir, g, hv, gn, data.X, data.Y]) be.release(b);
  return out;
}

for (const [name, make] of MAKERS) {
  test(`${name}: conv forward with an activation epilogue = conv then apply (every activation, bias on/off, K = 2)`, async () => {
    const be = await make();
    try { await convEpilogue(be); } finally { be.destroy(); }
  });

  test(`${name}: max pool tangent/backward with reluMask = the dmul and the plain op composed`, async () => {
    const be = await make();
    try { await poolMask(be); } finally { be.destroy(); }
  });

  test(`${name}: conv forward with the max-pool epilogue, and its routes in pool tangent/backward and dweight = the unfused ops`, async () => {
    const be = await make();
    try { await poolEpilogue(be); } finally { be.destroy(); }
  });

  test(`${name}: fused, ReLU-only fused and unfused plans give the same loss, gradient, HVP and Gauss-Newton bits`, async () => {
    const be = await make();
    try {
      const cases = [['cnn-relu', [3, 8, 8]], ['cnn:c3,p2,c4s2p1,f5:relu', [2, 7, 7]], ['myrtle5:4', [3, 8, 8]]] as const;
      for (const [i, [arch, inShape]] of cases.entries()) {
        const m = modelFromArch(arch, [...inShape], 3);
        assert.ok(m.plan.convFused.size + m.plan.convAct.size > 0, `${arch}: nothing fused`);
        const [fused, relu, plain] = await modelBits(be, m, 70 + i);
        for (const [k, bits] of plain) {
          assert.ok(relu.get(k) === bits, `${arch}: ${k} differs between the ReLU-fused and unfused walks`);
          assert.ok(fused.get(k) === bits, `${arch}: ${k} differs between the fully fused and unfused walks`);
        }
      }
    } finally {
      be.destroy();
    }
  });
}

test('the planner fuses ReLU between a conv and a max pool only', () => {
  const fused = (arch: string) => [...modelFromArch(arch, [3, 8, 8], 3).plan.convFused];
  assert.equal(fused('cnn-relu'), [1, 4]);
  const p = modelFromArch('cnn-relu', [3, 8, 8], 3).plan;
  assert.equal([...p.poolFused], [2, 5]);
  // Only the first conv has no input cotangent to compute: its dweight unpools.
  assert.equal([...p.unpooled], [2]);
  assert.equal([...planWalk(modelFromArch('cnn-relu', [3, 8, 8], 3).layers, { convFusion: 'relu' }).poolFused], []);
  // A 3×3 stride-2 max pool keeps its ReLU fused but is not pooled in the conv.
  const p3 = buildModel([{ kind: 'conv', out: 4, kh: 3, pad: 1, bias: true }, { kind: 'act', act: 'relu' }, { kind: 'maxpool', k: 3, stride: 2 },
    { kind: 'flatten' }, { kind: 'dense', out: 3, bias: true }], [2, 9, 9]).plan;
  assert.equal([...p3.convFused], [1]);
  assert.equal([...p3.poolFused], []);
  // Average pooling, other activations and conv → relu → conv keep the standalone activation.
  assert.equal(fused('cnn-avgpool-relu'), []);
  assert.equal(fused('cnn-tanh'), []);
  assert.equal(fused('myrtle5:4'), []);
  // Myrtle's conv → ReLU → conv: the ReLU in the conv's epilogue, its input and output one x buffer.
  const my = modelFromArch('myrtle5:4', [3, 8, 8], 3);
  assert.ok(my.plan.convAct.size >= 4 && [...my.plan.convAct].every((i) => my.layers[i].kind === 'act' && my.layers[i - 1].kind === 'conv'));
  assert.equal(modelFromArch('cnn-relu', [3, 8, 8], 3).plan.convAct.size, 0);
  assert.is(planWalk(my.layers, { convFusion: false }).convAct.size, 0);
  const m = modelFromArch('cnn-relu', [3, 8, 8], 3);
  assert.equal(planWalk(m.layers, { convFusion: false }).convFused.size, 0);
  // The pool's input shares the conv's output buffers: one full-size activation, not two.
  assert.is(m.plan.aliasOf[2], 1);
});

test('fused walks use less scratch: the pre-activation boundary is gone', async () => {
  const be = await createNodeWasm({ threads: 1 });
  try {
    const m = modelFromArch('cnn-relu', [3, 8, 8], 3);
    const data = uploadData(be, new Float32Array(4 * 192), new Float32Array(12), 4, 192, 3);
    const [full, a, b] = [m, { ...m, plan: planWalk(m.layers, { convFusion: 'relu' }) }, { ...m, plan: planWalk(m.layers, { convFusion: false }) }].map((model) => {
      const o = new ModelObjective(be, model, data, { loss: 'mse' });
      const bytes = o.scratchBytes();
      o.dispose();
      return bytes;
    });
    // Four buffers (x, d, r, rd) of each conv output: 4·(32·8·8 + 32·4·4)·4 examples·4 bytes.
    assert.is(b - a, 4 * (32 * 64 + 32 * 16) * 4 * 4);
    // The pool fusion adds the route codes, one per pooled element.
    assert.is(full - a, (32 * 16 + 32 * 4) * 4 * 4);
  } finally {
    be.destroy();
  }
});

test('an HVP skips the backward products nobody reads: cnn-relu\'s second conv computes no input cotangent but the R-backward\'s', async () => {
  // The old walk ran every backward of the HVP's first pass: three dinputs of conv 3 per direction, not two.
  const be = await createNodeWasm({ threads: 1 });
  try {
    const m = modelFromArch('cnn-relu', [3, 8, 8], 3);
    const data = uploadData(be, randArray(4 * 192, 1), randArray(12, 2), 4, 192, 3);
    const obj = new ModelObjective(be, m, data, { loss: 'mse' });
    const th = put(be, randArray(m.P, 3, 0.3), 'θ'), dir = put(be, randArray(m.P, 4), 'v'), out = be.alloc(m.P, 'hv'), g = be.alloc(m.P, 'g');
    const modes: string[] = [];
    const conv = be.conv.bind(be);
    be.conv = (op) => { modes.push(op.mode); conv(op); };
    for (const opts of [{}, { gaussNewton: true }, { grad: g }]) {
      modes.length = 0;
      await obj.hvp(th, [dir], [out], opts);
      const n = modes.filter((x) => x === 'dinput').length;
      // With a gradient wanted, the backward's dinput runs too.
      assert.is(n, 'grad' in opts ? 3 : 'gaussNewton' in opts ? 1 : 2, `dinputs with ${JSON.stringify(Object.keys(opts))}`);
    }
    obj.dispose();
  } finally {
    be.destroy();
  }
});

test('one-line errors: reluMask outside max tangent/backward, an epilogue outside forward', async () => {
  const be = await createNodeWasm({ threads: 1 });
  try {
    const s = poolShape({ C: 1, H: 4, W: 4, kh: 2 }), x = be.alloc(16, 'x'), y = be.alloc(16, 'y');
    const base = { shape: s, B: 1, K: 1, x: v(x), src: v(y), dst: v(y) };
    for (const op of [{ ...base, kind: 'avg', mode: 'backward' }, { ...base, kind: 'max', mode: 'forward' }, { ...base, kind: 'max', mode: 'tangent', accumulate: true }] as const) {
      assert.throws(() => be.pool({ ...op, dst: v(be.alloc(16, 'd')), reluMask: true }), (e: Error) => /reluMask is for max pooling's tangent and backward/.test(e.message) && !e.message.includes('\n'));
    }
    const cs = convShape({ Cin: 1, H: 4, W: 4, Cout: 1, kh: 1 });
    assert.throws(() => be.conv({ mode: 'dinput', shape: cs, B: 1, K: 1, x: v(x), w: v(y), y: v(be.alloc(16, 'g')), act: 'relu' }),
      (e: Error) => /only forward applies one/.test(e.message));
  } finally {
    be.destroy();
  }
});

test.run();
