// The stochastic measures (batch sharpness and its variants, step sharpness,
// GNI, E‖g_B‖²) on a model whose per-batch Hessians are known in closed
// form: a linear model f = Wx + b under MSE, where the loss on a batch B has
// Hessian (X̃_BᵀX̃_B / |B|) ⊗ I (X̃ with a ones column for the bias), whatever
// θ is. The test's sampler draws minibatches as the run's does (a partial
// Fisher-Yates shuffle from Philox) and records the indices, so every
// estimate is checked against float64 over the very same batches, on both
// backends. Then: seeded repeats, the stop rule's bounds, the live state
// left untouched, the refusals, and the CLI columns.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../core/ts/backend/types.js';
import { mlpModel } from '../core/ts/nn/mlp.js';
import { ModelObjective } from '../core/ts/objective/model-objective.js';
import { uploadData } from '../core/ts/objective/data.js';
import { uniforms } from '../core/ts/rng/philox.js';
import { makeOptimizer, type OptimizerName } from '../core/ts/optim/optimizers.js';
import type { BatchSampler } from '../core/ts/measure/suite.js';
import { estimateBatchSharpness, batchSharpness } from '../core/ts/measure/batch-sharpness.js';
import { estimateGni } from '../core/ts/measure/gni.js';
import { estimateBatchGradSq } from '../core/ts/measure/batch-grad.js';
import { liveSharpness, stepSharpness } from '../core/ts/measure/step-sharpness.js';
import { RunningRatio } from '../core/ts/measure/minibatch.js';
import { forEachBackend } from './helpers/backends.js';
import { makeTestContext } from './helpers/measure-ctx.js';
import { randArray } from './helpers/gpu.js';

const N = 40, D = 3, C = 2, B = 8;
const P = C * D + C;

/** The linear model's data and its float64 gradient and Hessian products on any subset of examples. */
function linearModel() {
  const X = randArray(N * D, 101, 1.5), Y = randArray(N * C, 102);
  // Per-example residual r_i = W x_i + b − y_i (θ = [W (C×D, row-major), b]).
  const apply = (th: ArrayLike<number>, i: number, withTarget: boolean) => Array.from({ length: C }, (_, o) => {
    let s = th[C * D + o];
    for (let k = 0; k < D; k++) s += th[o * D + k] * X[i * D + k];
    return withTarget ? s - Y[i * C + o] : s;
  });
  // (1/|S|) Σ_i e_i x̃_iᵀ for per-example output vectors e_i: the shape of both ∇L_S and H_S v.
  const outer = (idx: number[], e: (i: number) => number[]) => {
    const out = new Float64Array(P);
    for (const i of idx) {
      const ei = e(i);
      for (let o = 0; o < C; o++) {
        for (let k = 0; k < D; k++) out[o * D + k] += ei[o] * X[i * D + k] / idx.length;
        out[C * D + o] += ei[o] / idx.length;
      }
    }
    return out;
  };
  const grad = (th: ArrayLike<number>, idx: number[]) => outer(idx, (i) => apply(th, i, true));
  // H_S v: the tangent of the output is V x_i + v_b, with no θ in it (the model is linear).
  const hvp = (v: ArrayLike<number>, idx: number[]) => outer(idx, (i) => apply(v, i, false));
  return { X, Y, grad, hvp };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };
const all = Array.from({ length: N }, (_, i) => i);

/** Minibatches as the run draws them (core/ts/run/problem.ts fillRandomBatch), with the indices of every draw recorded. */
function recordingSampler(be: Backend, m: ReturnType<typeof linearModel>, seed: number, size: number) {
  const model = mlpModel({ sizes: [D, C], act: 'identity', bias: true });
  const data = uploadData(be, new Float32Array(size * D), new Float32Array(size * C), size, D, C);
  const obj = new ModelObjective(be, model, data, { loss: 'mse' });
  const drawn: number[][] = [];
  const sampler: BatchSampler = {
    size,
    draw(stream, index) {
      const u = uniforms(seed, stream >>> 0, index * size, size);
      const idx = Array.from({ length: N }, (_, i) => i), pick: number[] = [];
      const Xb = new Float32Array(size * D), Yb = new Float32Array(size * C);
      for (let j = 0; j < size; j++) {
        const r = j + Math.floor(u[j] * (N - j));
        [idx[j], idx[r]] = [idx[r], idx[j]];
        pick.push(idx[j]);
        Xb.set(m.X.subarray(idx[j] * D, (idx[j] + 1) * D), j * D);
        Yb.set(m.Y.subarray(idx[j] * C, (idx[j] + 1) * C), j * C);
      }
      be.write(data.X, Xb);
      be.write(data.Y, Yb);
      drawn.push(pick);
      return obj;
    },
  };
  return { sampler, drawn, obj, dispose: () => { obj.dispose(); be.release(data.X); be.release(data.Y); } };
}

function setup(be: Backend, seed = 7) {
  const m = linearModel();
  const model = mlpModel({ sizes: [D, C], act: 'identity', bias: true });
  const data = uploadData(be, m.X, m.Y, N, D, C);
  const full = new ModelObjective(be, model, data, { loss: 'mse' });
  const rec = recordingSampler(be, m, seed, B);
  const theta = randArray(P, 11, 0.8);
  return { m, full, rec, theta, seed, dispose: () => { rec.dispose(); full.dispose(); be.release(data.X); be.release(data.Y); } };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const sampleSe = (xs: number[]) => {
  const mu = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - mu) ** 2, 0) / (xs.length - 1) / xs.length);
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

forEachBackend('stochastic measures', (T) => {
  T('batch sharpness and its expectation-inside variant against float64 over the same batches', async ({ be }) => {
    const s = setup(be);
    const { ctx, dispose } = await makeTestContext(be, { objective: s.full, theta: s.theta, step: 4, seed: s.seed, batchSize: B, batches: () => s.rec.sampler });
    const n = 30;
    const r = await estimateBatchSharpness(ctx, { size: B, eps: 1e-9, min: n, max: n });
    assert.is(s.rec.drawn.length, n);
    const th = Float64Array.from(s.theta);
    const a: number[] = [], b: number[] = [];
    for (const idx of s.rec.drawn) { const g = s.m.grad(th, idx); a.push(dot(g, s.m.hvp(g, idx))); b.push(dot(g, g)); }
    const q = a.map((x, i) => x / b[i]);
    const ratio = new RunningRatio();
    a.forEach((x, i) => ratio.add(x, b[i]));
    console.log(`  batch sharpness ${r.value.toFixed(6)} ± ${r.se.toFixed(6)} vs float64 ${mean(q).toFixed(6)}; inside ${r.inside.toFixed(6)} vs ${ratio.ratio.toFixed(6)}`);
    assert.is(r.draws, n);
    assert.ok(rel(r.value, mean(q)) < 1e-4, `${r.value} vs ${mean(q)}`);
    assert.ok(rel(r.se, sampleSe(q)) < 1e-3, `se ${r.se} vs ${sampleSe(q)}`);
    assert.ok(rel(r.inside, mean(a) / mean(b)) < 1e-4, `inside ${r.inside} vs ${mean(a) / mean(b)}`);
    assert.ok(rel(r.insideSe, ratio.se) < 1e-3, `inside se ${r.insideSe} vs ${ratio.se}`);
    // Both are curvature along a gradient: between the extreme eigenvalues of the batch Hessians, so positive here.
    assert.ok(r.value > 0 && r.inside > 0);
    assert.is(r.step, null, 'no optimizer: no momentum variant');
    dispose();
    s.dispose();
  });

  T('momentum variant along the optimizer step, live θ, gradient and state untouched', async ({ be }) => {
    const cases: { name: OptimizerName; dir: (g: Float64Array, st: Record<string, Float32Array>, t: number) => Float64Array }[] = [
      { name: 'polyak', dir: (g, st) => g.map((x, i) => 0.9 * st.momentum[i] + x) },
      { name: 'nesterov', dir: (g, st) => g.map((x, i) => x + 0.9 * (0.9 * st.momentum[i] + x)) },
      {
        name: 'adam', dir: (g, st, t) => g.map((x, i) => {
          const m = 0.9 * st.exp_avg[i] + 0.1 * x, v = 0.999 * st.exp_avg_sq[i] + 0.001 * x * x;
          return (m / (1 - 0.9 ** t)) / (Math.sqrt(v / (1 - 0.999 ** t)) + 1e-8);
        }),
      },
    ];
    for (const c of cases) {
      const s = setup(be);
      const opt = makeOptimizer({ name: c.name });
      const state = opt.init(be, P);
      state.step = 3;
      const saved: Record<string, Float32Array> = {};
      Object.entries(state.tensors).forEach(([k, buf], j) => {
        // Adam's second moment is non-negative; the others any sign.
        const x = randArray(P, 300 + j, 0.5).map((v) => (k === 'exp_avg_sq' ? v * v : v));
        be.write(buf, x);
        saved[k] = x;
      });
      const { ctx, dispose } = await makeTestContext(be, { objective: s.full, theta: s.theta, step: 2, seed: s.seed, batchSize: B, batches: () => s.rec.sampler, optimizer: { opt, state } });
      const gradBefore = await be.read(ctx.grad);
      const n = 25;
      const r = await estimateBatchSharpness(ctx, { size: B, eps: 1e-9, min: n, max: n });
      const th = Float64Array.from(s.theta);
      const q = s.rec.drawn.map((idx) => { const u = c.dir(s.m.grad(th, idx), saved, 4); return dot(u, s.m.hvp(u, idx)) / dot(u, u); });
      console.log(`  ${c.name.padEnd(8)} batch_sharpness_step ${r.step!.toFixed(6)} vs float64 ${mean(q).toFixed(6)} (batch_sharpness ${r.value.toFixed(6)})`);
      assert.ok(rel(r.step!, mean(q)) < 1e-4, `${c.name}: ${r.step} vs ${mean(q)}`);
      assert.ok(rel(r.stepSe!, sampleSe(q)) < 1e-3);
      // The step differs from g_B, so does its curvature: the variant is not batch sharpness again.
      assert.ok(rel(r.step!, r.value) > 1e-3, `${c.name}: step variant ${r.step} equals batch sharpness ${r.value}`);
      assert.equal(Array.from(await be.read(ctx.theta)), Array.from(s.theta), 'θ untouched');
      assert.equal(Array.from(await be.read(ctx.grad)), Array.from(gradBefore), 'gradient untouched');
      for (const [k, buf] of Object.entries(state.tensors)) assert.equal(Array.from(await be.read(buf)), Array.from(saved[k]), `${c.name} ${k} untouched`);
      assert.is(state.step, 3, 'optimizer step count untouched');
      opt.dispose(be, state);
      dispose();
      s.dispose();
    }
    // Plain GD steps along g_B: the variant would repeat batch sharpness, so it is null.
    const s = setup(be);
    const opt = makeOptimizer({ name: 'gd' });
    const { ctx, dispose } = await makeTestContext(be, { objective: s.full, theta: s.theta, batchSize: B, batches: () => s.rec.sampler, optimizer: { opt, state: opt.init(be, P) } });
    const r = await estimateBatchSharpness(ctx, { size: B, eps: 1e-9, min: 3, max: 3 });
    assert.is(r.step, null);
    assert.is(r.stepSe, null);
    dispose();
    s.dispose();
  });

  T('GNI and E‖g_B‖² against float64 over the same batches', async ({ be }) => {
    const s = setup(be);
    const { ctx, dispose } = await makeTestContext(be, { objective: s.full, theta: s.theta, step: 9, seed: s.seed, batchSize: B, batches: () => s.rec.sampler });
    const th = Float64Array.from(s.theta);
    const gFull = s.m.grad(th, all), g2 = dot(gFull, gFull);
    const n = 30;
    const r = await estimateGni(ctx, { size: B, eps: 1e-9, min: n, max: n });
    // H is the full-batch Hessian (X̃ᵀX̃/N ⊗ I): the products use every example.
    const x = s.rec.drawn.map((idx) => { const g = s.m.grad(th, idx); return dot(g, s.m.hvp(g, all)); });
    console.log(`  gni ${r.value.toFixed(6)} ± ${r.se.toFixed(6)} vs float64 ${(mean(x) / g2).toFixed(6)}`);
    assert.is(r.draws, n);
    assert.ok(rel(r.value, mean(x) / g2) < 1e-4, `${r.value} vs ${mean(x) / g2}`);
    assert.ok(rel(r.se, sampleSe(x) / g2) < 1e-3);
    // Minibatch noise only adds curvature along g: E[g_BᵀHg_B] ≥ ∇LᵀH∇L.
    assert.ok(r.value >= dot(gFull, s.m.hvp(gFull, all)) / g2);
    s.rec.drawn.length = 0;
    const gn = await estimateBatchGradSq(ctx, { size: B, eps: 1e-9, min: n, max: n });
    const y = s.rec.drawn.map((idx) => { const g = s.m.grad(th, idx); return dot(g, g); });
    console.log(`  E‖g_B‖² ${gn.value.toFixed(6)} ± ${gn.se.toFixed(6)} vs float64 ${mean(y).toFixed(6)}; ‖∇L‖² ${g2.toFixed(6)}`);
    assert.ok(rel(gn.value, mean(y)) < 1e-4 && rel(gn.se, sampleSe(y)) < 1e-3);
    assert.ok(gn.value > g2, 'minibatch noise adds to the squared norm');
    dispose();
    s.dispose();
  });

  T('step sharpness on the live minibatch against float64', async ({ be }) => {
    const s = setup(be);
    // The live batch: draw 0 of some stream, whose indices the sampler records.
    const live = s.rec.sampler.draw(12345, 0);
    const idx = s.rec.drawn[0];
    const { ctx, dispose } = await makeTestContext(be, { objective: s.full, theta: s.theta, batchSize: B, liveBatch: () => live });
    const v = await liveSharpness(ctx);
    const g = s.m.grad(Float64Array.from(s.theta), idx);
    assert.ok(rel(v, dot(g, s.m.hvp(g, idx)) / dot(g, g)) < 1e-4, `${v}`);
    dispose();
    s.dispose();
  });

  T('seeded: the same seed and step repeat exactly; another step draws other batches; the stop rule bounds the draws', async ({ be }) => {
    const s = setup(be);
    const at = async (step: number, o: { eps: number; min: number; max: number }) => {
      const { ctx, dispose } = await makeTestContext(be, { objective: s.full, theta: s.theta, step, seed: s.seed, batchSize: B, batches: () => s.rec.sampler });
      const r = await estimateBatchSharpness(ctx, { size: B, ...o });
      dispose();
      return r;
    };
    const fixed = { eps: 1e-9, min: 10, max: 10 };
    const a = await at(5, fixed), b = await at(5, fixed), c = await at(6, fixed);
    assert.equal(a, b);
    assert.not.equal(a.value, c.value);
    // eps far below reach: stops at max exactly.
    assert.is((await at(5, { eps: 1e-12, min: 3, max: 17 })).draws, 17);
    // eps always met: stops at min exactly.
    assert.is((await at(5, { eps: 1e6, min: 4, max: 100 })).draws, 4);
    const mid = await at(5, { eps: 0.05, min: 5, max: 500 });
    assert.ok(mid.draws >= 5 && mid.draws <= 500 && (mid.draws === 500 || mid.se <= 0.05 * Math.abs(mid.value)), `${mid.draws} draws, ${mid.value} ± ${mid.se}`);
    s.dispose();
  });
});

test('RunningRatio: the delta-method standard error of ā/b̄', () => {
  // b constant: ā/b̄ = mean(a/b) and the delta method is exact, se = se(a)/b.
  const r = new RunningRatio();
  [1, 2, 3, 4].forEach((a) => r.add(a, 2));
  assert.is(r.ratio, 1.25);
  assert.ok(Math.abs(r.se - Math.sqrt(5 / 3 / 4) / 2) < 1e-12);
  // a ∝ b: the ratio has no spread, whatever b does.
  const q = new RunningRatio();
  [1, 5, 2, 8].forEach((b) => q.add(3 * b, b));
  assert.ok(Math.abs(q.ratio - 3) < 1e-12 && q.se < 1e-7, `${q.se}`);
});

test('refusals name the fix: no data, a full-batch run without a size, step sharpness without SGD', () => {
  const base = { hasData: true, batchSize: 0, kind: 'train' as const, opt: 'gd' };
  const bs = batchSharpness.unsupported!;
  assert.match(bs({ ...base, options: { 'batch-size': 0 } })!, /needs --batch-sharpness-batch-size B/);
  assert.is(bs({ ...base, options: { 'batch-size': 16 } }), null);
  assert.is(bs({ ...base, batchSize: 16, options: { 'batch-size': 0 } }), null);
  assert.match(bs({ ...base, hasData: false, batchSize: 16, options: { 'batch-size': 0 } })!, /needs a dataset/);
  assert.match(stepSharpness.unsupported!({ ...base, options: {} })!, /needs an SGD run \(--batch-size B\)/);
  assert.is(stepSharpness.unsupported!({ ...base, batchSize: 8, options: {} }), null);
});

const cli = (args: string[]) => spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', ...args], { encoding: 'utf8', env: { ...process.env, EOSLAB_RESULTS: mkdtempSync(join(tmpdir(), 'eoslab-stoch-res-')) } });

test('the CLI switches fill their columns where their rules fire, the same on a second run, and refuse a full-batch run without a size', () => {
  const read = (out: string) => {
    const [head, ...rows] = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    return { head, rows, col: (n: string) => head.indexOf(n) };
  };
  const run = () => {
    const out = join(mkdtempSync(join(tmpdir(), 'eoslab-stoch-')), 'run');
    const r = cli(['train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '6', '--backend', 'wasm', '--opt', 'sgdm', '--batch-size', '16', '--eig-freq', '0',
      '--batch-sharpness', '--batch-sharpness-freq', '3', '--batch-sharpness-max', '30', '--step-sharpness', '--step-sharpness-freq', '2',
      '--gni', '--gni-freq', '3', '--gni-max', '25', '--batch-grad', '--batch-grad-freq', '6', '--batch-grad-max', '25', '--out', out]);
    assert.is(r.status, 0, r.stderr);
    return read(out);
  };
  const a = run();
  const cols = ['batch_sharpness', 'batch_sharpness_se', 'batch_sharpness_draws', 'batch_sharpness_inside', 'batch_sharpness_inside_se', 'batch_sharpness_step', 'batch_sharpness_step_se',
    'step_sharpness', 'gni', 'gni_se', 'gni_draws', 'batch_grad_sq', 'batch_grad_sq_se', 'batch_grad_draws'];
  for (const c of cols) assert.ok(a.col(c) > 0, `${c} in ${a.head.join(',')}`);
  const filled = (c: string) => a.rows.filter((r) => r[a.col(c)] !== '').map((r) => Number(r[0]));
  assert.equal(filled('batch_sharpness'), [0, 3, 6]);
  assert.equal(filled('batch_sharpness_step'), [0, 3, 6], 'sgdm has a momentum variant');
  assert.equal(filled('step_sharpness'), [0, 2, 4, 6]);
  assert.equal(filled('gni'), [0, 3, 6]);
  assert.equal(filled('batch_grad_sq'), [0, 6]);
  for (const r of a.rows.filter((x) => x[a.col('batch_sharpness')] !== '')) {
    const draws = Number(r[a.col('batch_sharpness_draws')]);
    assert.ok(draws >= 20 && draws <= 30 && Number(r[a.col('batch_sharpness_se')]) > 0 && Number(r[a.col('batch_sharpness')]) > 0);
  }
  const b = run();
  for (const c of cols) assert.equal(b.rows.map((r) => r[b.col(c)]), a.rows.map((r) => r[a.col(c)]), `${c} repeats run to run`);
  const bad = cli(['train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '6', '--backend', 'wasm', '--batch-sharpness']);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /^eoslab: --batch-sharpness on a full-batch run needs --batch-sharpness-batch-size B/);
  assert.is(bad.stderr.trim().split('\n').length, 1);
  const noLive = cli(['train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '6', '--backend', 'wasm', '--step-sharpness']);
  assert.is(noLive.status, 1);
  assert.match(noLive.stderr, /--step-sharpness needs an SGD run \(--batch-size B\)/);
});

test.run();
