// The quadratic objective: loss, gradient and HVP against float64, K = 2.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { WebGPUBackend } from '../core/ts/backend/webgpu/backend.js';
import { QuadraticObjective } from '../core/ts/objective/quadratic.js';
import { randArray, relErr, testGpu } from './helpers/gpu.js';
import { upload } from './helpers/problem.js';

const T = suite<{ gpu: WebGPUBackend }>('quadratic objective');
T.before(async (ctx) => { ctx.gpu = (await testGpu()).backend; });
T.after((ctx) => ctx.gpu.destroy());

T('½θᵀAθ − bᵀθ: loss, gradient Aθ − b, Hessian product Av', async ({ gpu }) => {
  const P = 9, K = 2;
  const R = randArray(P * P, 1);
  const A = new Float32Array(P * P);
  for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) A[i * P + j] = R[i * P + j] + R[j * P + i];
  const b = randArray(P, 2), th = randArray(K * P, 3), v = randArray(K * P, 4);
  const q = new QuadraticObjective(gpu, A, P, { b, K });
  const tb = upload(gpu, th, 'θ'), vb = upload(gpu, v, 'v'), g = gpu.alloc(K * P, 'g'), hv = gpu.alloc(K * P, 'hv');
  const la = await q.grad(tb, g);
  await q.hvp(tb, [vb], [hv]);
  const G = await gpu.read(g), HV = await gpu.read(hv);
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
  for (const x of [tb, vb, g, hv]) gpu.release(x);
  q.dispose();
});

T.run();
