// Residual blocks (core/ts/nn/layers/residual.ts, objective/block-walk.ts) on
// both backends against the float64 reference (tests/reference/residual64.ts,
// the block composed from the reference's own layer passes and a shortcut
// written out directly), which is itself checked against central finite
// differences: a two-block net (identity and option-A shortcuts) and one whose
// first layer is a block (its input is the data: nothing flows back to it),
// loss, gradient, HVP and Gauss-Newton product; K = 3 batched equals each
// model alone bit for bit. Residual blocks did not exist before: every test
// here fails on the old code (the 'residual' spec is refused).
//
// Tolerance 5e-5 relative, as tests/cnn-passes.test.ts: a dropped branch
// (the shortcut's transpose in a backward, a block's inner d) moves the
// gradient or HVP by far more than 1e-2 on these problems.
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { buildModel, type LayerSpec } from '../core/ts/nn/model.js';
import * as ref from './reference/layers64.js';
import { forEachBackend } from './helpers/backends.js';
import { randArray, relErr } from './helpers/gpu.js';
import { batchedEqualsAlone, f64 } from './helpers/problem.js';
import { checkAgainst64 } from './helpers/check64.js';
import { makeModelProblem, paramsAwayFromKinks64, toModel64 } from './helpers/model64.js';

const TOL = 5e-5;
const conv = (out: number, stride = 1, bias = true): LayerSpec => ({ kind: 'conv', out, kh: 3, stride, pad: 1, bias });

/** conv → [block(identity)] → relu → [block(option A: stride 2, 4 → 8 channels)] → relu → global avg → linear. */
const TWO_BLOCKS: LayerSpec[] = [
  conv(4), { kind: 'act', act: 'tanh' },
  { kind: 'residual', shortcut: 'identity', inner: [conv(4), { kind: 'act', act: 'tanh' }, conv(4)] },
  { kind: 'act', act: 'relu' },
  { kind: 'residual', shortcut: 'optionA', inner: [conv(8, 2), { kind: 'act', act: 'elu' }, conv(8, 1, false)] },
  { kind: 'act', act: 'relu' },
  { kind: 'avgpool', k: 'global' }, { kind: 'flatten' }, { kind: 'dense', out: 3, bias: true },
];

/** A block first: its input is the data, so its walk has no input cotangent or tangent. */
const BLOCK_FIRST: LayerSpec[] = [
  { kind: 'residual', shortcut: 'optionA', inner: [conv(4, 2), { kind: 'act', act: 'tanh' }] },
  { kind: 'flatten' }, { kind: 'dense', out: 2, bias: true },
];

const CASES = [
  { name: 'two blocks (identity, option A)', specs: TWO_BLOCKS, inShape: [2, 6, 6] },
  { name: 'a block first', specs: BLOCK_FIRST, inShape: [2, 5, 5] },
];

const R = suite('residual: float64 reference against central finite differences');
R('the reference block HVP equals finite differences of its gradient, its gradient those of its loss', () => {
  for (const c of CASES) {
    const model = buildModel(c.specs, c.inShape), m64 = toModel64(model);
    const N = 3, d = c.inShape.reduce((a, b) => a * b, 1), cls = model.outShape[0];
    const X = f64(randArray(N * d, 3)), Y = f64(randArray(N * cls, 4)), th = f64(randArray(model.P, 5, 0.4)), v = f64(randArray(model.P, 6));
    const hv = ref.hvp64(m64, th, X, Y, N, 'mse', v), fd = ref.hvpFiniteDiff64(m64, th, X, Y, N, 'mse', v);
    assert.ok(relErr(Float32Array.from(hv), fd) < 1e-6, `${c.name}: hvp vs finite differences ${relErr(Float32Array.from(hv), fd)}`);
    const g = ref.grad64(m64, th, X, Y, N, 'mse'), eps = 1e-6;
    const lp = ref.lossAcc64(m64, th.map((t, k) => t + eps * v[k]!), X, Y, N, 'mse').loss;
    const lm = ref.lossAcc64(m64, th.map((t, k) => t - eps * v[k]!), X, Y, N, 'mse').loss;
    const gv = g.reduce((s, x, k) => s + x * v[k]!, 0);
    assert.ok(Math.abs((lp - lm) / (2 * eps) - gv) < 1e-6 * Math.max(1, Math.abs(gv)), `${c.name}: g·v ${gv} vs ${(lp - lm) / (2 * eps)}`);
  }
});
R('PyTorch names: a block\'s tensors are named under it, shapes in PyTorch layout', () => {
  const named: LayerSpec[] = [
    { ...conv(4), name: 'conv1' },
    { kind: 'residual', name: 'layer1.0', shortcut: 'identity', inner: [{ ...conv(4), name: 'conv1' }, { kind: 'act', act: 'relu' }, { ...conv(4, 1, false), name: 'conv2' }] },
    { kind: 'avgpool', k: 'global' }, { kind: 'flatten' }, { kind: 'dense', out: 2, bias: true, name: 'linear' },
  ];
  const m = buildModel(named, [3, 4, 4]);
  assert.equal(m.params.map((p) => `${p.name}:${p.shape.join('x')}`),
    ['conv1.weight:4x3x3x3', 'conv1.bias:4', 'layer1.0.conv1.weight:4x4x3x3', 'layer1.0.conv1.bias:4', 'layer1.0.conv2.weight:4x4x3x3', 'linear.weight:2x4', 'linear.bias:2']);
  let off = 0;
  for (const p of m.params) { assert.is(p.off, off, `${p.name} offset`); off += p.size; }
  assert.is(m.P, off);
});
R('a shortcut that does not fit the block is refused in one line naming the fix', () => {
  assert.throws(() => buildModel([{ kind: 'residual', shortcut: 'identity', inner: [conv(4, 2)] }, { kind: 'flatten' }, { kind: 'dense', out: 2, bias: true }], [2, 6, 6]),
    (e: Error) => /option-A shortcut/.test(e.message) && !e.message.includes('\n'));
  assert.throws(() => buildModel([{ kind: 'residual', shortcut: 'optionA', inner: [conv(3, 2)] }, { kind: 'flatten' }, { kind: 'dense', out: 2, bias: true }], [2, 6, 6]),
    (e: Error) => /double C/.test(e.message));
});
R.run();

forEachBackend('residual blocks vs float64 reference', (T) => {
  CASES.forEach((c, i) => {
    for (const loss of ['mse', 'ce'] as const) {
      T(`${c.name} ${loss}: loss, grad, hvp (+ grad from the hvp pass), gnvp; N = 5 over physical batches of 2`, async ({ be }) => {
        const model = buildModel(c.specs, c.inShape), seed = 40 + 10 * i + (loss === 'ce' ? 1 : 0);
        const p = makeModelProblem(be, model, { loss, N: 5, seed, physicalBatch: 2 });
        const th = paramsAwayFromKinks64(p, seed * 3);
        try {
          await checkAgainst64(be, p, th, randArray(model.P, seed + 1), { tol: TOL });
        } finally {
          p.dispose();
        }
      });
    }
  });

  T('K = 3 batched residual nets: each equals itself run alone bit for bit, and the reference', async ({ be }) => {
    const K = 3, model = buildModel(TWO_BLOCKS, [2, 6, 6]);
    const pk = makeModelProblem(be, model, { loss: 'ce', N: 5, seed: 21, K, physicalBatch: 2 });
    const p1 = makeModelProblem(be, model, { loss: 'ce', N: 5, seed: 21, physicalBatch: 2 });
    const thetas = [0, 1, 2].map((k) => paramsAwayFromKinks64(p1, 70 + 10 * k));
    const vs = [0, 1, 2].map((k) => randArray(model.P, 60 + k));
    const res = await batchedEqualsAlone(be, pk.obj, p1.obj, thetas, vs);
    res.forEach(({ grad, hvp }, k) => {
      const args = [p1.m64, f64(thetas[k]), f64(p1.X), f64(p1.Y), p1.N, 'ce'] as const;
      assert.ok(relErr(grad, ref.grad64(...args)) < TOL, `model ${k} gradient vs float64`);
      assert.ok(relErr(hvp, ref.hvp64(...args, f64(vs[k]))) < TOL, `model ${k} hvp vs float64`);
    });
    pk.dispose(); p1.dispose();
  });
});
