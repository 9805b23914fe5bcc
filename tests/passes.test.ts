// Forward, loss, accuracy, gradient, HVP and Gauss-Newton product on every
// backend (WebGPU and Wasm) against the float64 reference
// (tests/reference/mlp64.ts), for every activation, both losses, bias on and
// off, N not a multiple of the physical batch, and K = 1 and K = 3.
//
// Tolerances (relative, ‖a−b‖∞/‖b‖∞): the kernels compute in f32 (unit
// roundoff 6e-8) over reductions of ≤ 10 terms and depth 3, and WGSL lets
// drivers' exp/tanh/log be a few ulp off (the Wasm core's are ~1 ulp);
// measured errors are ≤ ~3e-7 on both backends (lavapipe: ~3e-7; Wasm:
// 2.9e-7). We allow 2e-5 for gradients and products, 1e-5 for the loss:
// loose enough for any conforming driver, 100× tighter than a missing term
// (a dropped σ″ or Vᵀδ term changes the HVP by > 1e-2 on these problems).
import * as assert from 'uvu/assert';
import { ACTIVATIONS } from '../core/ts/backend/activations.js';
import * as ref from './reference/mlp64.js';
import { forEachBackend } from './helpers/backends.js';
import { relErr, randArray } from './helpers/gpu.js';
import { batchedEqualsAlone, f64, makeProblem, paramsAwayFromKinks, upload } from './helpers/problem.js';

const TOL = 2e-5;

forEachBackend('passes vs float64 reference', (T) => {
  for (const act of ACTIVATIONS) {
    for (const loss of ['mse', 'ce'] as const) {
      for (const bias of [true, false]) {
        T(`${act} ${loss} bias=${bias}: loss, acc, grad, hvp, gnvp`, async ({ be }) => {
          const p = makeProblem(be, { sizes: [3, 6, 5, 4], act, bias, loss, N: 7, seed: 11, physicalBatch: 3 });
          const th = paramsAwayFromKinks(p, 100);
          const v = randArray(p.layout.P, 7);
          const tb = upload(be, th, 'θ'), vb = upload(be, v, 'v');
          const g = be.alloc(p.layout.P, 'g'), hv = be.alloc(p.layout.P, 'hv'), gn = be.alloc(p.layout.P, 'gn'), g2 = be.alloc(p.layout.P, 'g2');
          const args = [p.m64, f64(th), f64(p.X), f64(p.Y), p.N, loss] as const;
          const r = ref.lossAcc64(...args);

          const la = await p.obj.lossAcc(tb);
          assert.ok(Math.abs(la.loss[0] - r.loss) <= 1e-5 * Math.abs(r.loss), `loss ${la.loss[0]} vs ${r.loss}`);
          assert.ok(Math.abs(la.acc[0] - r.acc) < 1e-6, `acc ${la.acc[0]} vs ${r.acc}`);

          const lg = await p.obj.grad(tb, g);
          assert.ok(Math.abs(lg.loss[0] - r.loss) <= 1e-5 * Math.abs(r.loss));
          const eg = relErr(await be.read(g), ref.grad64(...args));
          assert.ok(eg < TOL, `grad rel err ${eg}`);

          await p.obj.hvp(tb, [vb], [hv], { grad: g2 });
          const eh = relErr(await be.read(hv), ref.hvp64(...args, f64(v)));
          assert.ok(eh < TOL, `hvp rel err ${eh}`);
          const eg2 = relErr(await be.read(g2), ref.grad64(...args));
          assert.ok(eg2 < TOL, `grad from the hvp pass: rel err ${eg2}`);

          await p.obj.hvp(tb, [vb], [gn], { gaussNewton: true });
          const en = relErr(await be.read(gn), ref.gnvp64(...args, f64(v)));
          assert.ok(en < TOL, `gnvp rel err ${en}`);

          for (const b of [tb, vb, g, hv, gn, g2]) be.release(b);
          p.dispose();
        });
      }
    }
  }

  T('HVP agrees with float64 central finite differences of the gradient', async ({ be }) => {
    for (const act of ['tanh', 'softplus', 'gelu', 'relu'] as const) {
      const p = makeProblem(be, { sizes: [4, 5, 3], act, bias: true, loss: 'ce', N: 9, seed: 3, physicalBatch: 4 });
      const th = paramsAwayFromKinks(p, 40), v = randArray(p.layout.P, 41);
      const tb = upload(be, th, 'θ'), vb = upload(be, v, 'v'), hv = be.alloc(p.layout.P, 'hv');
      await p.obj.hvp(tb, [vb], [hv]);
      const fd = ref.hvpFiniteDiff64(p.m64, f64(th), f64(p.X), f64(p.Y), p.N, 'ce', f64(v), 1e-5);
      const e = relErr(await be.read(hv), fd);
      assert.ok(e < TOL, `${act}: hvp vs finite differences rel err ${e}`);
      for (const b of [tb, vb, hv]) be.release(b);
      p.dispose();
    }
  });

  T('HVP operator is symmetric to f32 precision: uᵀHv = vᵀHu', async ({ be }) => {
    for (const loss of ['mse', 'ce'] as const) {
      const p = makeProblem(be, { sizes: [5, 7, 6, 3], act: 'tanh', bias: true, loss, N: 11, seed: 5, physicalBatch: 4 });
      const th = randArray(p.layout.P, 1), u = randArray(p.layout.P, 2), v = randArray(p.layout.P, 3);
      const tb = upload(be, th, 'θ'), ub = upload(be, u, 'u'), vb = upload(be, v, 'v');
      const hu = be.alloc(p.layout.P, 'Hu'), hv = be.alloc(p.layout.P, 'Hv');
      await p.obj.hvp(tb, [ub, vb], [hu, hv]);
      const Hu = await be.read(hu), Hv = await be.read(hv);
      let uHv = 0, vHu = 0, scale = 0;
      for (let i = 0; i < u.length; i++) {
        uHv += u[i] * Hv[i];
        vHu += v[i] * Hu[i];
        scale += Math.abs(u[i] * Hv[i]);
      }
      // Both are sums of P f32 products; the bound is relative to Σ|u_i (Hv)_i|.
      assert.ok(Math.abs(uHv - vHu) <= 1e-5 * scale, `${loss}: uᵀHv ${uHv} vs vᵀHu ${vHu}`);
      for (const b of [tb, ub, vb, hu, hv]) be.release(b);
      p.dispose();
    }
  });

  T('K = 3 batched models: each equals itself run alone and the reference', async ({ be }) => {
    const K = 3;
    const opts = { sizes: [3, 6, 4], act: 'tanh' as const, bias: true, loss: 'ce' as const, N: 10, seed: 21, physicalBatch: 4 };
    const pk = makeProblem(be, { ...opts, K });
    const p1 = makeProblem(be, opts);
    const P = pk.layout.P;
    const thetas = [0, 1, 2].map((k) => randArray(P, 50 + k));
    const vs = [0, 1, 2].map((k) => randArray(P, 60 + k));
    const res = await batchedEqualsAlone(be, pk.obj, p1.obj, thetas, vs);
    res.forEach(({ grad, hvp }, k) => {
      const args = [p1.m64, f64(thetas[k]), f64(p1.X), f64(p1.Y), p1.N, 'ce'] as const;
      assert.ok(relErr(grad, ref.grad64(...args)) < TOL);
      assert.ok(relErr(hvp, ref.hvp64(...args, f64(vs[k]))) < TOL);
    });
    pk.dispose(); p1.dispose();
  });

  T('physical batch size does not change the result beyond f32 summation order', async ({ be }) => {
    const base = { sizes: [4, 5, 3], act: 'swish' as const, bias: true, loss: 'mse' as const, N: 13, seed: 8 };
    const outs: Float32Array[] = [];
    for (const pb of [13, 5, 1]) {
      const p = makeProblem(be, { ...base, physicalBatch: pb });
      const t = upload(be, randArray(p.layout.P, 77), 'θ'), g = be.alloc(p.layout.P, 'g');
      await p.obj.grad(t, g);
      outs.push(await be.read(g));
      be.release(t); be.release(g); p.dispose();
    }
    assert.ok(relErr(outs[1], outs[0]) < 1e-6 && relErr(outs[2], outs[0]) < 1e-6);
  });
});
