// The theory slides' toy objectives: exact gradients and Hessian products
// against float64 finite differences, and the minimalist example
// ½(1 − xyzw)²: GD from a sharp start self-stabilises onto a minimum whose
// sharpness is ≈ 2/η (slides 004, "A Minimalist Example", η = 0.2).
import * as assert from 'uvu/assert';
import { ToyObjective, TOY_PARAMS, type ToyModel } from '../core/ts/objective/toy.js';
import { makeOptimizer } from '../core/ts/optim/optimizers.js';
import { symEig } from '../core/ts/measure/linalg64.js';
import { forEachBackend } from './helpers/backends.js';
import { randArray, relErr } from './helpers/gpu.js';
import { upload } from './helpers/problem.js';

const LOSS: Record<ToyModel, (t: number[]) => number> = {
  xyzw: ([x, y, z, w]) => 0.5 * (1 - x * y * z * w) ** 2,
  x2y2: ([x, y]) => (1 - x * x * y * y) ** 2,
  xy: ([x, y]) => (1 - x * y) ** 2,
};

/** float64 Hessian by central second differences of the loss (h = 1e-4: error ~1e-8·|L''''|). */
function fdHessian(f: (t: number[]) => number, t: number[]): Float64Array {
  const n = t.length, h = 1e-4, H = new Float64Array(n * n);
  const at = (di: number, si: number, dj: number, sj: number) => f(t.map((v, k) => v + (k === di ? si * h : 0) + (k === dj ? sj * h : 0)));
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    H[i * n + j] = (at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)) / (4 * h * h);
  }
  return H;
}

forEachBackend('toy objectives', (T) => {
  for (const model of ['xyzw', 'x2y2', 'xy'] as const) {
    T(`${model}: loss, gradient and HVP of K = 4 models vs float64 finite differences`, async ({ be }) => {
      const P = TOY_PARAMS[model], K = 4;
      const th = randArray(K * P, 3, 1.3), v = randArray(K * P, 4);
      const obj = new ToyObjective(be, model, { K });
      const tb = upload(be, th, 'θ'), vb = upload(be, v, 'v'), g = be.alloc(K * P, 'g'), hv = be.alloc(K * P, 'hv');
      const la = await obj.grad(tb, g);
      await obj.hvp(tb, [vb], [hv]);
      const G = await be.read(g), HV = await be.read(hv);
      for (let z = 0; z < K; z++) {
        const t = Array.from(th.subarray(z * P, (z + 1) * P));
        const f = LOSS[model];
        assert.ok(Math.abs(la.loss[z] - f(t)) <= 1e-5 * Math.max(1, f(t)), 'loss');
        const gfd = t.map((_, i) => (f(t.map((x, k) => x + (k === i ? 1e-6 : 0))) - f(t.map((x, k) => x - (k === i ? 1e-6 : 0)))) / 2e-6);
        // f32 products of up to 8 factors: 1e-4 relative.
        assert.ok(relErr(G.subarray(z * P, (z + 1) * P), gfd) < 1e-4, `grad model ${z}`);
        const H = fdHessian(f, t), vz = v.subarray(z * P, (z + 1) * P);
        const hvRef = Array.from({ length: P }, (_, i) => vz.reduce((s, vj, j) => s + H[i * P + j] * vj, 0));
        assert.ok(relErr(HV.subarray(z * P, (z + 1) * P), hvRef) < 1e-4, `hvp model ${z}: ${relErr(HV.subarray(z * P, (z + 1) * P), hvRef)}`);
      }
      for (const b of [tb, vb, g, hv]) be.release(b);
      obj.dispose();
    });
  }

  T('minimalist example: GD self-stabilises at sharpness ≈ 2/η', async ({ be }) => {
    const eta = 0.2, K = 2;
    // Symmetric starts (z = x, w = y) away from the minimum manifold xyzw = 1.
    const th = Float32Array.from([3, 0.1, 3, 0.1, 2.5, 0.5, 2.5, 0.5]);
    const obj = new ToyObjective(be, 'xyzw', { K });
    const opt = makeOptimizer({ name: 'gd' });
    const tb = upload(be, th, 'θ'), g = be.alloc(K * 4, 'g');
    const st = opt.init(be, K * 4);
    for (let t = 0; t < 3000; t++) {
      obj.encodeGrad(tb, g);
      opt.update(be, tb, g, st, eta);
    }
    const la = await obj.lossAcc(tb);
    const final = await be.read(tb);
    for (let z = 0; z < K; z++) {
      const t = Array.from(final.subarray(z * 4, z * 4 + 4), Number);
      assert.ok(la.loss[z] < 1e-8, `model ${z} converged: loss ${la.loss[z]}`);
      const sharp = symEig(fdHessian(LOSS.xyzw, t), 4).values[0];
      assert.ok(Math.abs(sharp * eta / 2 - 1) < 0.02, `model ${z}: sharpness ${sharp} vs 2/η = ${2 / eta}`);
    }
    for (const b of [tb, g]) be.release(b);
    obj.dispose();
  });
});
