// Whole-model checks of the composed BatchNorm nets (issue 14): resnet20
// (conv1/bn1, 9 basic blocks with option-A shortcuts, global pool, linear) on
// 8×8 inputs and the narrow vgg11-bn (Conv → BN → ReLU → pool) on 32×32, on
// every backend: loss, gradient, HVP and Gauss-Newton product against the
// float64 reference (tests/helpers/model64.ts mirrors residual and batchnorm
// layers), and K = 3 batched equals each model alone bit for bit.
//
// Tolerance 5e-5 relative, as tests/batchnorm and tests/cnn-passes. Measured
// on Wasm: grad ≤ 2.2e-6, HVP ≤ 4.5e-6, GN ≤ 3.1e-6 relative. The draws stay
// away from ReLU kinks and pool ties, and here BN follows a conv (Conv → BN →
// ReLU), so no channel is dead on the whole batch: BN's 1/√(σ²+ε) blow-up of
// f32 round-off (4e-4 on fc-bn-relu, dead units with σ² = 0) does not arise. The
// statistics' derivatives are O(1) parts of the Jacobian, so a dropped term
// moves the HVP by far more (tests/batchnorm checks them per layer).
import * as assert from 'uvu/assert';
import { modelFromArch, parseArchId } from '../core/ts/nn/arch.js';
import { initParams } from '../core/ts/nn/init.js';
import type { Backend } from '../core/ts/backend/types.js';
import * as ref from './reference/layers64.js';
import { forEachBackend } from './helpers/backends.js';
import { randArray, relErr } from './helpers/gpu.js';
import { batchedEqualsAlone, f64, upload } from './helpers/problem.js';
import { makeModelProblem, paramsAwayFromKinks64 } from './helpers/model64.js';

const TOL = 5e-5;

interface Case { arch: string; inShape: number[]; classes: number; N: number }
const CASES: Case[] = [
  { arch: 'resnet20', inShape: [3, 8, 8], classes: 4, N: 4 },
  { arch: 'vgg11-bn:w0.0625', inShape: [3, 32, 32], classes: 3, N: 3 },
];

async function checkAll(be: Backend, c: Case, loss: 'mse' | 'ce', seed: number): Promise<void> {
  const model = modelFromArch(c.arch, c.inShape, c.classes);
  const p = makeModelProblem(be, model, { loss, N: c.N, seed });
  const th = paramsAwayFromKinks64(p, seed * 5, parseArchId(c.arch, c.classes).init);
  const v = randArray(model.P, seed + 1);
  const tb = upload(be, th, 'θ'), vb = upload(be, v, 'v');
  const g = be.alloc(model.P, 'g'), hv = be.alloc(model.P, 'hv'), gn = be.alloc(model.P, 'gn');
  const args = [p.m64, f64(th), f64(p.X), f64(p.Y), p.N, loss] as const;
  try {
    const la = await p.obj.lossAcc(tb), r = ref.lossAcc64(...args);
    assert.ok(Math.abs(la.loss[0] - r.loss) <= 1e-5 * Math.abs(r.loss), `loss ${la.loss[0]} vs ${r.loss}`);
    await p.obj.grad(tb, g);
    const eg = relErr(await be.read(g), ref.grad64(...args));
    assert.ok(eg < TOL, `grad rel err ${eg}`);
    await p.obj.hvp(tb, [vb], [hv]);
    const want = ref.hvp64(...args, f64(v));
    const eh = relErr(await be.read(hv), want);
    assert.ok(eh < TOL, `hvp rel err ${eh}`);
    await p.obj.hvp(tb, [vb], [gn], { gaussNewton: true });
    const wantGn = ref.gnvp64(...args, f64(v));
    const en = relErr(await be.read(gn), wantGn);
    assert.ok(en < TOL, `gnvp rel err ${en}`);
    if (process.env.EOSLAB_TEST_VERBOSE) console.log(`${c.arch} ${loss} ${be.kind}: grad ${eg.toExponential(2)} hvp ${eh.toExponential(2)} gnvp ${en.toExponential(2)}`);
    assert.ok(relErr(wantGn, want) > 100 * TOL, 'H v and G v differ, so the two walks are told apart');
  } finally {
    for (const b of [tb, vb, g, hv, gn]) be.release(b);
    p.dispose();
  }
}

forEachBackend('BatchNorm nets (resnet20, vgg11-bn) vs float64 reference', (T) => {
  CASES.forEach((c, i) => {
    for (const loss of ['mse', 'ce'] as const) {
      T(`${c.arch} on [${c.inShape}] ${loss}: loss, grad, hvp, gnvp`, async ({ be }) => checkAll(be, c, loss, 21 + 10 * i + (loss === 'ce' ? 1 : 0)));
    }
    T(`${c.arch} K = 3 batched: each equals itself alone bit for bit`, async ({ be }) => {
      const model = modelFromArch(c.arch, c.inShape, c.classes), init = parseArchId(c.arch, c.classes).init;
      const pk = makeModelProblem(be, model, { loss: 'ce', N: c.N, seed: 5, K: 3 });
      const p1 = makeModelProblem(be, model, { loss: 'ce', N: c.N, seed: 5 });
      const thetas = [0, 1, 2].map((k) => initParams(model, { seed: 30 + k, scheme: init }));
      await batchedEqualsAlone(be, pk.obj, p1.obj, thetas, [0, 1, 2].map((k) => randArray(model.P, 40 + k)));
      pk.dispose(); p1.dispose();
    });
  });
});
