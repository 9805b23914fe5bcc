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
import { forEachBackend } from './helpers/backends.js';
import { randArray } from './helpers/gpu.js';
import { batchedEqualsAlone } from './helpers/problem.js';
import { checkAgainst64 } from './helpers/check64.js';
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
  try {
    const e = await checkAgainst64(be, p, th, randArray(model.P, seed + 1), { tol: TOL });
    if (process.env.EOSLAB_TEST_VERBOSE) console.log(`${c.arch} ${loss} ${be.kind}: grad ${e.grad.toExponential(2)} hvp ${e.hvp.toExponential(2)} gnvp ${e.gnvp.toExponential(2)}`);
    assert.ok(e.hvSeparatesGn > 100 * TOL, 'H v and G v differ, so the two walks are told apart');
  } finally {
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
