// The quadratic objective: loss, gradient and HVP against float64, K = 2.
import * as assert from 'uvu/assert';
import { QuadraticObjective } from '../core/ts/objective/quadratic.js';
import { forEachBackend } from './helpers/backends.js';
import { randArray, relErr } from './helpers/gpu.js';
import { upload } from './helpers/problem.js';

forEachBackend('quadratic objective', (T) => {
  T('½θᵀAθ − bᵀθ: loss, gradient Aθ − b, Hessian product Av', async ({ be }) => {
    const P = 9, K = 2;
    const R = randArray(P * P, 1);
    const A = new Float32Array(P * P);
    for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) A[i * P + j] = R[i * P + j] + R[j * P + i];
    const b = randArray(P, 2), th = randArray(K * P, 3), v = randArray(K * P, 4);
    const q = new QuadraticObjective(be, A, P, { b, K });
    const tb = upload(be, th, 'θ'), vb = upload(be, v, 'v'), g = be.alloc(K * P, 'g'), hv = be.alloc(K * P, 'hv');
    const la = await q.grad(tb, g);
    await q.hvp(tb, [vb], [hv]);
    const G = await be.read(g), HV = await be.read(hv);
    for (let z = 0; z < K; z++) {
      const gw = new Float64Array(P), hw = new Float64Array(P);
      let loss = 0;
      for (let i = 0; i < P; i++) {
        for (let j = 0; j < P; j++) { gw[i] += A[i * P + j] * th[z * P + j]; hw[i] += A[i * P + j] * v[z * P + j]; }
        loss += 0.5 * th[z * P + i] * gw[i] - b[i] * th[z * P + i];
        gw[i] -= b[i];
      }
      assert.ok(relErr(G.subarray(z * P, (z + 1) * P), gw) < 1e-6);
      assert.ok(relErr(HV.subarray(z * P, (z + 1) * P), hw) < 1e-6);
      assert.ok(Math.abs(la.loss[z] - loss) < 1e-5 * Math.max(1, Math.abs(loss)), `loss ${la.loss[z]} vs ${loss}`);
    }
    for (const x of [tb, vb, g, hv]) be.release(x);
    q.dispose();
  });
});
