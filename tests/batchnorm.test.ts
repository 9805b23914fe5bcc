// BatchNorm (core/ts/nn/layers/batchnorm.ts) in training mode, every backend:
// the float64 reference (tests/reference/batchnorm64.ts: forward and vjp over
// dual numbers, so its jvp and R-backward include the batch statistics'
// derivatives without hand derivation) is first checked against central
// finite differences of its own loss; then each engine model's loss,
// gradient, HVP (forward, vjp, jvp and R-backward of every BN layer
// composed) and Gauss-Newton product are checked against it: BatchNorm2d in
// cnn-bn-* on 8×8 inputs, BatchNorm1d in an fc-bn MLP, BN as the first layer
// (no input tangent), K = 3 batched = alone bit for bit; and the ghost batch.
//
// Tolerance 5e-5 relative as tests/cnn-passes. Dropping the statistics'
// derivatives from the tangent or the R-backward (treating μ, σ as
// constants), or any one R-backward term, moves the HVP by far more (the
// statistics' terms are O(1) parts of BN's Jacobian).
import * as assert from 'uvu/assert';
import { modelFromArch } from '../core/ts/nn/arch.js';
import type { Backend } from '../core/ts/backend/types.js';
import * as ref from './reference/layers64.js';
import { forEachBackend } from './helpers/backends.js';
import { randArray, relErr } from './helpers/gpu.js';
import { batchedEqualsAlone, f64, randomData, upload } from './helpers/problem.js';
import { checkAgainst64 } from './helpers/check64.js';
import { makeModelProblem, paramsAwayFromKinks64, toModel64 } from './helpers/model64.js';
import { test } from 'uvu';

const TOL = 5e-5;

interface Case { arch: string; inShape: number[]; classes: number; tol?: number }
const CASES: Case[] = [
  { arch: 'cnn-bn-relu', inShape: [3, 8, 8], classes: 4 },
  { arch: 'cnn-bn-tanh', inShape: [2, 8, 8], classes: 3 },
  { arch: 'cnn-bn-elu', inShape: [2, 8, 8], classes: 3 },
  { arch: 'fc-bn-tanh', inShape: [6], classes: 3 },
  // 200 ReLU units on 5 examples: some are dead on all 5, σ² = 0, and BN multiplies their f32 round-off by 1/√ε ≈ 316.
  { arch: 'fc-bn-relu', inShape: [5], classes: 2, tol: 4e-4 },
  // BN first: its input is the data, so no input tangent or cotangent flows (rx, dx absent).
  { arch: 'cnn:bn,c3,bn,p2,f5,bn:tanh', inShape: [2, 6, 6], classes: 3 },
];

// ---- the reference itself against central finite differences (no backend)

test('float64 BatchNorm reference: gradient and HVP equal central finite differences', () => {
  for (const arch of ['cnn:c2,bn,p2,f3,bn:tanh', 'cnn:bn,c2,p2:elu']) {
    const model = modelFromArch(arch, [2, 4, 4], 2), m64 = toModel64(model);
    const N = 4, { X, Y } = randomData(N, 32, 2, 'ce', 3);
    const th = f64(randArray(model.P, 4, 0.7)), v = f64(randArray(model.P, 5));
    const x = f64(X), y = f64(Y);
    const g = ref.grad64(m64, th, x, y, N, 'ce');
    const fd = th.map((_, k) => {
      const e = 1e-6, tp = th.slice(), tm = th.slice();
      tp[k] += e; tm[k] -= e;
      return (ref.lossAcc64(m64, tp, x, y, N, 'ce').loss - ref.lossAcc64(m64, tm, x, y, N, 'ce').loss) / (2 * e);
    });
    assert.ok(relErr(g, fd) < 1e-6, `${arch}: grad vs FD ${relErr(g, fd)}`);
    const hv = ref.hvp64(m64, th, x, y, N, 'ce', v), hfd = ref.hvpFiniteDiff64(m64, th, x, y, N, 'ce', v);
    assert.ok(relErr(hv, hfd) < 1e-6, `${arch}: hvp vs FD ${relErr(hv, hfd)}`);
  }
});
test.run();

// ---- the engine against the reference

async function checkAll(be: Backend, c: Case, loss: 'mse' | 'ce', seed: number): Promise<void> {
  const model = modelFromArch(c.arch, c.inShape, c.classes);
  // Physical batch = full batch: the reference normalises over all N.
  const p = makeModelProblem(be, model, { loss, N: 5, seed });
  const th = paramsAwayFromKinks64(p, seed * 7);
  // γ away from 1 and β away from 0, so their directions and values both matter.
  const r0 = randArray(model.P, seed + 11, 0.5);
  for (const l of model.layers) if (l.kind === 'batchnorm') for (const t of l.params) for (let i = 0; i < t.size; i++) th[t.off + i] += r0[t.off + i];
  try {
    const e = await checkAgainst64(be, p, th, randArray(model.P, seed + 3), { tol: c.tol ?? TOL });
    // Gauss-Newton differs from the Hessian here, so the check above tells the two walks apart.
    assert.ok(e.hvSeparatesGn > 100 * TOL, 'H v and G v differ');
  } finally {
    p.dispose();
  }
}

forEachBackend('BatchNorm passes vs float64 reference', (T) => {
  CASES.forEach((c, i) => {
    for (const loss of ['mse', 'ce'] as const) {
      T(`${c.arch} on [${c.inShape}] ${loss}: loss, grad, hvp, gnvp`, async ({ be }) => checkAll(be, c, loss, 40 + 10 * i));
    }
  });

  for (const c of [CASES[0], CASES[3]]) {
    T(`K = 3 batched ${c.arch}: statistics per model, each equals itself alone bit for bit`, async ({ be }) => {
      const K = 3, model = modelFromArch(c.arch, c.inShape, c.classes);
      const pk = makeModelProblem(be, model, { loss: 'ce', N: 6, seed: 8, K });
      const p1 = makeModelProblem(be, model, { loss: 'ce', N: 6, seed: 8 });
      const thetas = [0, 1, 2].map((k) => randArray(model.P, 70 + k, 0.4)), vs = [0, 1, 2].map((k) => randArray(model.P, 80 + k));
      const res = await batchedEqualsAlone(be, pk.obj, p1.obj, thetas, vs);
      res.forEach(({ hvp }, k) => {
        const e = relErr(hvp, ref.hvp64(p1.m64, f64(thetas[k]), f64(p1.X), f64(p1.Y), p1.N, 'ce', f64(vs[k])));
        assert.ok(e < TOL, `model ${k} hvp vs float64 ${e}`);
      });
      pk.dispose(); p1.dispose();
    });
  }

  T('ghost batch: physical batches of 2 normalise each batch alone (the loss is the mean of the chunks\' losses)', async ({ be }) => {
    const model = modelFromArch('fc-bn-tanh', [4], 2);
    const p = makeModelProblem(be, model, { loss: 'mse', N: 6, seed: 12, physicalBatch: 2 });
    const th = randArray(model.P, 13, 0.5), tb = upload(be, th, 'θ');
    const got = (await p.obj.lossAcc(tb)).loss[0];
    let want = 0;
    for (let r = 0; r < 6; r += 2) want += ref.lossAcc64(p.m64, f64(th), f64(p.X.subarray(r * 4, r * 4 + 8)), f64(p.Y.subarray(r * 2, r * 2 + 4)), 2, 'mse').loss / 3;
    const full = ref.lossAcc64(p.m64, f64(th), f64(p.X), f64(p.Y), 6, 'mse').loss;
    assert.ok(Math.abs(got - want) <= 1e-5 * want, `loss ${got} vs ghost-batch ${want}`);
    assert.ok(Math.abs(full - want) > 1e-3 * want, 'the full-batch loss differs, so the check means something');
    be.release(tb);
    p.dispose();
  });
});
