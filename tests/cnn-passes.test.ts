// The layer engine on convolutional models, every backend, against the
// float64 layer-list reference (tests/reference/layers64.ts, itself checked
// against central finite differences): loss, accuracy, gradient, HVP and
// Gauss-Newton product for each reference CNN id on 8×8 inputs (cnn-*,
// cnn-avgpool-*, Myrtle), every activation and bias on/off through the
// general cnn: form, MSE and CE, N not a multiple of the physical batch;
// K = 3 batched models each equal to itself run alone; λ₁, λ₂ of a small CNN
// against its explicitly formed float64 Hessian.
//
// Tolerance 5e-5 relative (‖a−b‖∞/‖b‖∞): f32 kernels over reductions of up
// to 288 terms (a 3×3 conv over 32 channels) and 4-5 layers; measured errors
// are ~1e-6. A dropped term (the convᵀ(dy, V) of the R-backward, a σ″ term)
// changes the HVP by > 1e-2 on these problems, 200× the tolerance.
import * as assert from 'uvu/assert';
import { ACTIVATIONS } from '../core/ts/backend/activations.js';
import type { Backend } from '../core/ts/backend/types.js';
import { modelFromArch, parseArchId } from '../core/ts/nn/arch.js';
import { hessianOperator } from '../core/ts/measure/operator.js';
import { lanczos } from '../core/ts/measure/lanczos.js';
import { lobpcg } from '../core/ts/measure/lobpcg.js';
import * as ref from './reference/layers64.js';
import { forEachBackend } from './helpers/backends.js';
import { randArray, relErr } from './helpers/gpu.js';
import { batchedEqualsAlone, f64, upload } from './helpers/problem.js';
import { checkAgainst64 } from './helpers/check64.js';
import { makeModelProblem, paramsAwayFromKinks64 } from './helpers/model64.js';

const TOL = 5e-5;

interface Case { arch: string; inShape: number[]; classes: number }

const REFERENCE_IDS: Case[] = [
  ...['relu', 'elu', 'tanh'].flatMap((a) => [
    { arch: `cnn-${a}`, inShape: [3, 8, 8], classes: 4 },
    { arch: `cnn-avgpool-${a}`, inShape: [2, 8, 8], classes: 3 },
  ]),
  { arch: 'myrtle5:4', inShape: [3, 8, 8], classes: 3 },
  { arch: 'myrtle7:3', inShape: [2, 8, 8], classes: 3 },
  { arch: 'myrtle10:2', inShape: [1, 8, 8], classes: 2 },
];

// Every activation, bias on and off, stride 2 and odd sizes through the general form.
const GENERAL: Case[] = ACTIVATIONS.flatMap((act, i) => [
  { arch: `cnn:c3,p2,c4s2p1,f5:${act}${i % 2 ? ':nobias' : ''}`, inShape: [2, 7, 7], classes: 3 },
]);

async function checkAll(be: Backend,
                        c: Case, loss: 'mse' | 'ce', seed: number): Promise<void> {
  const model = modelFromArch(c.arch, c.inShape, c.classes);
  const p = makeModelProblem(be, model, { loss, N: 3, seed, physicalBatch: 2 });
  const th = paramsAwayFromKinks64(p, seed * 7, parseArchId(c.arch, c.classes).init);
  try {
    await checkAgainst64(be, p, th, randArray(model.P, seed + 3), { tol: TOL, acc: true });
  } finally {
    p.dispose();
  }
}

forEachBackend('CNN passes vs float64 reference', (T) => {
  REFERENCE_IDS.forEach((c, i) => {
    for (const loss of ['mse', 'ce'] as const) {
      T(`${c.arch} on [${c.inShape}] ${loss}: loss, acc, grad, hvp, gnvp`, async ({ be }) => checkAll(be, c, loss, 100 + 10 * i));
    }
  });
  GENERAL.forEach((c, i) => {
    T(`${c.arch} on [${c.inShape}] ${i % 2 ? 'ce' : 'mse'}: loss, acc, grad, hvp, gnvp`, async ({ be }) => checkAll(be, c, i % 2 ? 'ce' : 'mse', 300 + 10 * i));
  });

  T('K = 3 batched CNNs: each equals itself run alone and the reference', async ({ be }) => {
    const K = 3, model = modelFromArch('cnn-avgpool-tanh', [2, 8, 8], 3);
    const pk = makeModelProblem(be, model, { loss: 'ce', N: 7, seed: 21, K, physicalBatch: 3 });
    const p1 = makeModelProblem(be, model, { loss: 'ce', N: 7, seed: 21, physicalBatch: 3 });
    const P = model.P;
    const thetas = [0, 1, 2].map((k) => randArray(P, 50 + k, 0.3));
    const vs = [0, 1, 2].map((k) => randArray(P, 60 + k));
    const res = await batchedEqualsAlone(be, pk.obj, p1.obj, thetas, vs);
    res.forEach(({ grad, hvp }, k) => {
      const args = [p1.m64, f64(thetas[k]), f64(p1.X), f64(p1.Y), p1.N, 'ce'] as const;
      assert.ok(relErr(grad, ref.grad64(...args)) < TOL, `model ${k} gradient vs float64`);
      assert.ok(relErr(hvp, ref.hvp64(...args, f64(vs[k]))) < TOL, `model ${k} hvp vs float64`);
    });
    pk.dispose(); p1.dispose();
  });

  T('λ₁, λ₂ of a small CNN equal those of its explicit float64 Hessian (Lanczos and LOBPCG)', async ({ be }) => {
    const model = modelFromArch('cnn:c2,p2,f4:tanh', [1, 6, 6], 2);
    const p = makeModelProblem(be, model, { loss: 'mse', N: 6, seed: 5, physicalBatch: 4 });
    const th = randArray(model.P, 9, 0.8);
    const H = ref.hessian64(p.m64, f64(th), f64(p.X), f64(p.Y), p.N, 'mse');
    const want = ref.symEig64(H, model.P).values;
    const tb = upload(be, th, 'θ');
    const op = hessianOperator(p.obj, tb);
    for (const solve of [
      () => lanczos(be, op, { k: 2, seed: 1, tol: 1e-6 }),
      () => lobpcg(be, op, { k: 2, seed: 1, tol: 1e-6 }),
    ]) {
      const r = await solve();
      for (let i = 0; i < 2; i++) {
        // Extreme eigenvalues of an f32 operator: ~1e-6 of the spectral radius.
        assert.ok(Math.abs(r.values[i] - want[i]) <= 1e-4 * Math.abs(want[0]), `λ${i + 1} ${r.values[i]} vs ${want[i]}`);
      }
    }
    be.release(tb);
    p.dispose();
  });
});
