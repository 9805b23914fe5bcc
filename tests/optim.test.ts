// Optimizers: every update equals a float64 reference step by step; on
// quadratics with a known spectrum each converges just below its stability
// threshold and diverges just above it; RK4 gradient flow matches exp(−At)θ0.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend } from '../core/ts/backend/types.js';
import { QuadraticObjective } from '../core/ts/objective/quadratic.js';
import { makeOptimizer, type OptimizerConfig } from '../core/ts/optim/optimizers.js';
import { encodeRk4Step, rk4Scratch, releaseRk4Scratch } from '../core/ts/optim/flow.js';
import { refStep } from './reference/optim64.js';
import { forEachBackend } from './helpers/backends.js';
import { randArray, relErr } from './helpers/gpu.js';
import { upload } from './helpers/problem.js';

const CONFIGS: (OptimizerConfig & { lr: number })[] = [
  { name: 'gd', lr: 0.1 },
  { name: 'ngd', lr: 0.05 },
  { name: 'polyak', beta: 0.8, lr: 0.05 },
  { name: 'nesterov', beta: 0.7, lr: 0.05 },
  { name: 'adam', beta1: 0.9, beta2: 0.99, eps: 1e-6, lr: 0.01 },
  { name: 'adam', beta1: 0.9, beta2: 0.99, eps: 1e-6, biasCorrection: false, lr: 0.01 },
  { name: 'rmsprop', beta2: 0.9, eps: 1e-6, lr: 0.01 },
];

/** Runs `steps` updates on ½θᵀdiag(λ)θ from θ0 = 1; returns ‖θ_T‖/‖θ_0‖. */
async function quadraticRun(be: Backend, cfg: OptimizerConfig, lr: number, lams: number[], steps: number,
                            frozenV?: Float32Array): Promise<number> {
  const P = lams.length;
  const A = new Float32Array(P * P);
  lams.forEach((l, i) => { A[i * P + i] = l; });
  const q = new QuadraticObjective(be, A, P);
  const opt = makeOptimizer(cfg);
  const theta = upload(be, new Float32Array(P).fill(1), 'θ'), grad = be.alloc(P, 'g');
  const st = opt.init(be, P);
  if (frozenV) be.write(st.tensors.exp_avg_sq, frozenV);
  for (let t = 0; t < steps; t++) {
    q.encodeGrad(theta, grad);
    opt.update(be, theta, grad, st, lr);
  }
  const th = await be.read(theta);
  opt.dispose(be, st); q.dispose(); be.release(theta); be.release(grad);
  return Math.sqrt(th.reduce((a, x) => a + x * x, 0) / P);
}

forEachBackend('optimizers', (T) => {
  for (const cfg of CONFIGS) {
    T(`${cfg.name}${cfg.biasCorrection === false ? ' (no bias correction)' : ''}: 20 steps equal the float64 reference`, async ({ be }) => {
      const n = 257;
      const opt = makeOptimizer(cfg);
      const th0 = randArray(n, 1);
      const theta = upload(be, th0, 'θ'), grad = be.alloc(n, 'g');
      const st = opt.init(be, n);
      const ref = Float64Array.from(th0), rs = { m: new Float64Array(n), v: new Float64Array(n), t: 0 };
      let worst = 0;
      for (let t = 0; t < 20; t++) {
        const g = randArray(n, 100 + t);
        be.write(grad, g);
        const norm = Math.sqrt(g.reduce((a, x) => a + x * x, 0));
        opt.update(be, theta, grad, st, cfg.lr, norm);
        refStep(cfg.name, ref, Float64Array.from(g), rs, cfg.lr, cfg);
        // f32 state and arithmetic: ~1e-7 relative per step, compounding mildly.
        worst = Math.max(worst, relErr(await be.read(theta), ref));
      }
      assert.ok(worst < 1e-5, `max rel err over 20 steps ${worst}`);
      assert.is(st.step, 20);
      opt.dispose(be, st);
      be.release(theta); be.release(grad);
    });
  }

  T('GD, Polyak, Nesterov: converge at 0.95× and diverge at 1.05× of their threshold', async ({ be }) => {
    const lams = [4, 2.5, 1, 0.3];
    for (const cfg of [{ name: 'gd' as const }, { name: 'polyak' as const, beta: 0.9 }, { name: 'nesterov' as const, beta: 0.9 }]) {
      const opt = makeOptimizer(cfg);
      // threshold(η) = c/η, so λ_max = threshold at η* = c/λ_max.
      const etaStar = opt.threshold(1) / lams[0];
      const below = await quadraticRun(be, cfg, 0.95 * etaStar, lams, 600);
      const above = await quadraticRun(be, cfg, 1.05 * etaStar, lams, 600);
      assert.ok(below < 1e-2, `${cfg.name} below threshold: ‖θ‖ ratio ${below}`);
      assert.ok(above > 1e2 || !Number.isFinite(above), `${cfg.name} above threshold: ‖θ‖ ratio ${above}`);
    }
  });

  T('Adam with a frozen preconditioner: stable iff λ_max(P⁻¹H) < (2+2β1)/((1−β1)η)', async ({ be }) => {
    // β2 = 1 keeps v at what we write; no bias correction, ε = 0: P = diag(√v) exactly.
    // (With v free to adapt, Adam stabilises itself above the threshold.)
    const lams = [4, 1, 0.5], p = [2, 0.5, 0.25];
    const pl = lams.map((l, i) => l / p[i]); // P^-1/2 H P^-1/2 = diag(λ/p) for diagonal H, P
    const cfg = { name: 'adam' as const, beta1: 0.9, beta2: 1, eps: 0, biasCorrection: false };
    const etaStar = makeOptimizer(cfg).threshold(1) / Math.max(...pl);
    const v = Float32Array.from(p, (x) => x * x);
    const below = await quadraticRun(be, cfg, 0.95 * etaStar, lams, 1500, v);
    const above = await quadraticRun(be, cfg, 1.05 * etaStar, lams, 1500, v);
    assert.ok(below < 1e-2, `below: ${below}`);
    assert.ok(above > 1e2 || !Number.isFinite(above), `above: ${above}`);
  });

  T('RK4 gradient flow matches θ(t) = exp(−At) θ0 on a quadratic', async ({ be }) => {
    const lams = [3, 1, 0.2], P = 3;
    const A = new Float32Array(P * P);
    lams.forEach((l, i) => { A[i * P + i] = l; });
    const q = new QuadraticObjective(be, A, P);
    const theta = upload(be, new Float32Array([1, -2, 0.5]), 'θ');
    const s = rk4Scratch(be, P);
    const h = 0.05, steps = 40; // t = 2, hλ_max = 0.15: RK4 error ~ (hλ)^5/120 per step
    for (let i = 0; i < steps; i++) encodeRk4Step(be, q, theta, h, s);
    const th = await be.read(theta);
    const exact = [1, -2, 0.5].map((x, i) => x * Math.exp(-lams[i] * h * steps));
    assert.ok(relErr(th, exact) < 1e-5, `rk4 ${Array.from(th)} vs ${exact}`);
    // Euler (GD at the same step) is visibly worse: the test can tell RK4 from it.
    const euler = [1, -2, 0.5].map((x, i) => x * (1 - h * lams[i]) ** steps);
    assert.ok(relErr(euler, exact) > 1e-3);
    releaseRk4Scratch(be, s); q.dispose(); be.release(theta);
  });
});

test('bad hyper-parameters are clear errors', () => {
  assert.throws(() => makeOptimizer({ name: 'polyak', beta: 1.2 }), /--beta must be in \[0, 1\)/);
  assert.throws(() => makeOptimizer({ name: 'lion' as never }), /unknown optimizer 'lion'/);
  assert.throws(() => makeOptimizer({ name: 'adam', beta2: 1 }), /add --no-bias-correction/);
});

test.run();
