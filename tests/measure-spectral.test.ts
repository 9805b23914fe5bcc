// The spectral measures on operators with known answers, on both backends:
// SLQ density of quadratics with known spectra (its mass sits at the
// eigenvalues in proportion to their multiplicities and integrates to 1),
// its extreme Ritz values and first moment against an explicit float64
// Hessian of a small MLP; Gauss-Newton eigenvalues against the explicitly
// formed JᵀH_ℓJ; empirical-Fisher eigenvalues against the float64 sum of
// per-example gradient outer products. Then the CLI: columns, the density
// tables, the density figure, and --force removing the tables.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../core/ts/backend/types.js';
import { QuadraticObjective } from '../core/ts/objective/quadratic.js';
import { ModelObjective } from '../core/ts/objective/model-objective.js';
import { uploadData } from '../core/ts/objective/data.js';
import { spectralDensity, type Density } from '../core/ts/measure/density.js';
import { gaussNewton } from '../core/ts/measure/gauss-newton.js';
import { fisher as fisherMeasure } from '../core/ts/measure/fisher.js';
import { removeRunFiles } from '../hosts/node/run-clean.js';
import { parseFreq } from '../core/ts/measure/schedule.js';
import { forEachBackend } from './helpers/backends.js';
import { rand } from './helpers/gpu.js';
import { f64, makeProblem, paramsAwayFromKinks, type Problem } from './helpers/problem.js';
import { makeTestContext } from './helpers/measure-ctx.js';
import * as ref from './reference/mlp64.js';
import { symEig64 } from './reference/layers64.js';

/** Mass of the density within [a, b] by the trapezoid rule on its grid. */
function mass(d: Density, a = -Infinity, b = Infinity): number {
  let s = 0;
  for (let i = 1; i < d.grid.length; i++) {
    const x0 = d.grid[i - 1], x1 = d.grid[i];
    if (x0 >= a && x1 <= b) s += 0.5 * (d.density[i - 1] + d.density[i]) * (x1 - x0);
  }
  return s;
}

/** A = Q diag(λ) Qᵀ with Q a seeded random orthogonal matrix (Gram-Schmidt in float64), or diag(λ) itself. */
function withSpectrum(spectrum: number[], rotate: boolean, seed = 3): Float32Array {
  const P = spectrum.length, A = new Float32Array(P * P);
  if (!rotate) { spectrum.forEach((l, i) => { A[i * P + i] = l; }); return A; }
  const r = rand(seed), Q: number[][] = [];
  for (let j = 0; j < P; j++) {
    let q = Array.from({ length: P }, () => 2 * r() - 1);
    for (let pass = 0; pass < 2; pass++) for (const p of Q) { const c = p.reduce((s, x, i) => s + x * q[i], 0); q = q.map((x, i) => x - c * p[i]); }
    const n = Math.hypot(...q);
    Q.push(q.map((x) => x / n));
  }
  for (let i = 0; i < P; i++) for (let k = 0; k < P; k++) A[i * P + k] = spectrum.reduce((s, l, j) => s + Q[j][i] * l * Q[j][k], 0);
  return A;
}

/** The distinct values of a spectrum with their multiplicities. */
const distinct = (spectrum: number[]) => [...new Set(spectrum)].map((l) => ({ l, m: spectrum.filter((x) => x === l).length }));

/** A second objective over the first n examples of a problem (a minibatch whose float64 reference is the same slice). */
function subset(be: Backend, p: Problem, n: number) {
  const d = p.m64.sizes[0], c = p.m64.sizes[p.m64.sizes.length - 1];
  const X = p.X.slice(0, n * d), Y = p.Y.slice(0, n * c);
  const data = uploadData(be, X, Y, n, d, c);
  const obj = new ModelObjective(be, p.layout, data, { loss: p.loss });
  return { obj, X, Y, n, dispose() { obj.dispose(); be.release(data.X); be.release(data.Y); } };
}

/** Dense float64 matrix from a product (columns), symmetrised, with its spectrum (descending). */
function dense(P: number, prod: (e: Float64Array) => Float64Array): Float64Array {
  const A = new Float64Array(P * P), e = new Float64Array(P);
  for (let k = 0; k < P; k++) { e.fill(0); e[k] = 1; prod(e).forEach((x, r) => { A[r * P + k] = x; }); }
  for (let r = 0; r < P; r++) for (let k = r + 1; k < P; k++) A[r * P + k] = A[k * P + r] = 0.5 * (A[r * P + k] + A[k * P + r]);
  return symEig64(A, P).values;
}

forEachBackend('density', (T) => {
  T('SLQ of a diagonal quadratic: mass at each eigenvalue ∝ its multiplicity, integral 1, seeded', async ({ be }) => {
    // Rademacher starts see a diagonal operator's eigenvalue i with weight exactly 1/P, so every run gives the same quadrature.
    const spectrum = [5, 3, 3, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, -1, -1, 2];
    const P = spectrum.length;
    const obj = new QuadraticObjective(be, withSpectrum(spectrum, false), P);
    const { ctx, dispose } = await makeTestContext(be, { objective: obj, theta: new Float32Array(P).fill(0.3), step: 4, seed: 9 });
    const o = { runs: 4, order: 80, sigma: 0.01, grid: 1000, probe: 'rademacher' as const };
    const d = await spectralDensity(ctx, o);
    assert.ok(Math.abs(mass(d) - 1) < 1e-3, `integral ${mass(d)}`);
    assert.ok(Math.abs(d.lambdaMax - 5) < 1e-4 && Math.abs(d.lambdaMin + 1) < 1e-4, `Ritz range [${d.lambdaMin}, ${d.lambdaMax}]`);
    // The Krylov space closes after one step per distinct eigenvalue.
    for (const r of d.runs) assert.is(r.steps, distinct(spectrum).length);
    for (const { l, m } of distinct(spectrum)) {
      const got = mass(d, l - 3 * d.sigma, l + 3 * d.sigma), want = 0.9973 * m / P;
      assert.ok(Math.abs(got - want) < 0.05 * want, `mass at ${l}: ${got} vs ${want} (multiplicity ${m})`);
    }
    assert.ok(Math.max(...d.se) < 1e-5, 'identical runs: no spread');
    assert.equal(await spectralDensity(ctx, o), d);
    dispose();
    obj.dispose();
  });

  T('SLQ of a rotated quadratic with normal starts: mean weights ∝ multiplicity within 4 standard errors', async ({ be }) => {
    const spectrum = [4, 2, 2, 2, 2, 2, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
    const P = spectrum.length;
    const obj = new QuadraticObjective(be, withSpectrum(spectrum, true), P);
    const { ctx, dispose } = await makeTestContext(be, { objective: obj, theta: new Float32Array(P), step: 0, seed: 2 });
    const d = await spectralDensity(ctx, { runs: 200, order: 80, sigma: 0.01, grid: 400, probe: 'normal' });
    assert.ok(Math.abs(mass(d) - 1) < 1e-3, `integral ${mass(d)}`);
    for (const { l, m } of distinct(spectrum)) {
      const w = d.runs.map((r) => r.nodes.reduce((s, x, k) => s + (Math.abs(x - l) < 1e-3 ? r.weights[k] : 0), 0));
      const mean = w.reduce((a, b) => a + b) / w.length;
      const se = Math.sqrt(w.reduce((s, x) => s + (x - mean) ** 2, 0) / (w.length - 1) / w.length);
      console.log(`  eigenvalue ${l} ×${m}: weight ${mean.toFixed(4)} ± ${se.toFixed(4)} vs ${(m / P).toFixed(4)}`);
      assert.ok(Math.abs(mean - m / P) < 4 * se, `weight at ${l}: ${mean} ± ${se} vs ${m / P}`);
    }
    dispose();
    obj.dispose();
  });

  T('SLQ of a small MLP: extreme Ritz values and first moment against the float64 Hessian; θ untouched', async ({ be }) => {
    const p = makeProblem(be, { sizes: [3, 8, 6, 2], act: 'tanh', bias: true, loss: 'mse', N: 12, seed: 17 });
    const P = p.layout.P, th = paramsAwayFromKinks(p, 60);
    const H = ref.hessian64(p.m64, f64(th), f64(p.X), f64(p.Y), p.N, 'mse');
    const lam = symEig64(H, P).values;
    let tr = 0;
    for (let i = 0; i < P; i++) tr += H[i * P + i];
    const { ctx, dispose } = await makeTestContext(be, { objective: p.obj, theta: th, step: 1, seed: 4 });
    const before = await be.read(ctx.theta), g = await be.read(ctx.grad);
    const d = await spectralDensity(ctx, { runs: 30, order: 60, sigma: 0.01, grid: 1000, probe: 'rademacher' });
    console.log(`  Ritz range [${d.lambdaMin.toFixed(5)}, ${d.lambdaMax.toFixed(5)}] vs float64 [${lam[P - 1].toFixed(5)}, ${lam[0].toFixed(5)}]`);
    assert.ok(Math.abs(d.lambdaMax - lam[0]) < 1e-3 * Math.abs(lam[0]), `λmax ${d.lambdaMax} vs ${lam[0]}`);
    assert.ok(Math.abs(d.lambdaMin - lam[P - 1]) < 1e-3 * Math.abs(lam[0]), `λmin ${d.lambdaMin} vs ${lam[P - 1]}`);
    // Σ τ_k θ_k = vᵀHv for the unit start v: a Hutchinson draw of tr H / P.
    const m1 = d.runs.map((r) => r.nodes.reduce((s, x, k) => s + r.weights[k] * x, 0));
    const mean = m1.reduce((a, b) => a + b) / m1.length;
    const se = Math.sqrt(m1.reduce((s, x) => s + (x - mean) ** 2, 0) / (m1.length - 1) / m1.length);
    assert.ok(Math.abs(mean - tr / P) < 4 * se, `first moment ${mean} ± ${se} vs tr H / P = ${tr / P}`);
    assert.ok(Math.abs(mass(d) - 1) < 1e-3, `integral ${mass(d)}`);
    assert.equal(await be.read(ctx.theta), before);
    assert.equal(await be.read(ctx.grad), g);
    dispose();
    p.dispose();
  });
});

forEachBackend('gauss-newton', (T) => {
  for (const loss of ['mse', 'ce'] as const) {
    T(`${loss}: top eigenvalues of G against the explicit float64 JᵀH_ℓJ, full and on the minibatch`, async ({ be }) => {
      const p = makeProblem(be, { sizes: [4, 7, 3], act: 'tanh', bias: true, loss, N: 10, seed: 23 });
      const P = p.layout.P, th = paramsAwayFromKinks(p, 5);
      const mb = subset(be, p, 4);
      const G = dense(P, (e) => ref.gnvp64(p.m64, f64(th), f64(p.X), f64(p.Y), p.N, loss, e));
      const Gb = dense(P, (e) => ref.gnvp64(p.m64, f64(th), f64(mb.X), f64(mb.Y), mb.n, loss, e));
      const { ctx, dispose } = await makeTestContext(be, { objective: p.obj, theta: th, neigs: 3, seed: 1, liveBatch: () => mb.obj });
      const v = await gaussNewton.run(ctx, { freq: parseFreq('1', 'f'), options: {} });
      assert.equal(Object.keys(v), gaussNewton.columns({ freq: parseFreq('1', 'f'), options: {} }, { neigs: 3, blocks: [] }));
      const got = [v.lambda_gn_1, v.lambda_gn_2, v.lambda_gn_3, v.lambda_gn_batch_1] as number[];
      const want = [G[0], G[1], G[2], Gb[0]];
      console.log(`  λ_gn ${got.map((x) => x.toFixed(6)).join(' ')} vs float64 ${want.map((x) => x.toFixed(6)).join(' ')}`);
      // The solver stops at relative residual 1e-4, which bounds each eigenvalue's error by 1e-4·|λ| (plus f32 rounding).
      got.forEach((x, i) => assert.ok(Math.abs(x - want[i]) < 2e-4 * Math.abs(want[i]) + 1e-6, `value ${i}: ${x} vs ${want[i]}`));
      // Without a live minibatch (full-batch runs) the batch column is empty.
      const { ctx: gd, dispose: d2 } = await makeTestContext(be, { objective: p.obj, theta: th, neigs: 1 });
      const v2 = await gaussNewton.run(gd, { freq: parseFreq('1', 'f'), options: {} });
      assert.is(v2.lambda_gn_batch_1, null);
      assert.ok(Math.abs((v2.lambda_gn_1 as number) - G[0]) < 2e-4 * G[0]);
      d2();
      dispose();
      mb.dispose();
      p.dispose();
    });
  }
});

/** (1/N) Σ_i ∇ℓ_i ∇ℓ_iᵀ in float64 from per-example gradients (grad64 of each example alone). */
function fisher64(p: Problem, th: Float64Array, X: Float32Array, Y: Float32Array, n: number): Float64Array {
  const P = p.layout.P, d = p.m64.sizes[0], c = p.m64.sizes[p.m64.sizes.length - 1];
  const F = new Float64Array(P * P);
  for (let i = 0; i < n; i++) {
    const g = ref.grad64(p.m64, th, f64(X.slice(i * d, (i + 1) * d)), f64(Y.slice(i * c, (i + 1) * c)), 1, p.loss);
    for (let r = 0; r < P; r++) for (let k = 0; k < P; k++) F[r * P + k] += g[r] * g[k] / n;
  }
  return F;
}

forEachBackend('fisher', (T) => {
  for (const loss of ['mse', 'ce'] as const) {
    T(`${loss}: the Fisher product and top eigenvalue against the float64 sum of per-example gradient outer products`, async ({ be }) => {
      const p = makeProblem(be, { sizes: [4, 7, 3], act: 'tanh', bias: true, loss, N: 10, seed: 31 });
      const P = p.layout.P, th = paramsAwayFromKinks(p, 8);
      const mb = subset(be, p, 4);
      const F = fisher64(p, f64(th), p.X, p.Y, p.N), Fb = fisher64(p, f64(th), mb.X, mb.Y, mb.n);
      // The product itself: F v for a random v, entry by entry.
      const v = rand(77), vv = Float32Array.from({ length: P }, () => 2 * v() - 1);
      const tb = be.alloc(P, 'θ'), vb = be.alloc(P, 'v'), out = be.alloc(P, 'Fv');
      be.write(tb, th); be.write(vb, vv);
      await p.obj.hvp(tb, [vb], [out], { fisher: true });
      const got = await be.read(out);
      const want = Array.from({ length: P }, (_, r) => { let s = 0; for (let k = 0; k < P; k++) s += F[r * P + k] * vv[k]; return s; });
      const scale = Math.max(...want.map(Math.abs));
      want.forEach((x, r) => assert.ok(Math.abs(got[r] - x) < 1e-5 * scale + 1e-6, `(Fv)[${r}] ${got[r]} vs ${x}`));
      // It is not the Gauss-Newton product (the kernel's mode reached the head).
      await p.obj.hvp(tb, [vb], [out], { gaussNewton: true });
      const gn = await be.read(out);
      assert.ok(gn.some((x, r) => Math.abs(x - want[r]) > 1e-3 * scale), 'Fisher differs from Gauss-Newton');
      for (const b of [tb, vb, out]) be.release(b);
      const { ctx, dispose } = await makeTestContext(be, { objective: p.obj, theta: th, seed: 1, liveBatch: () => mb.obj });
      const r = await fisherMeasure.run(ctx, { freq: parseFreq('1', 'f'), options: {} });
      const lam = symEig64(F, P).values[0], lamB = symEig64(Fb, P).values[0];
      console.log(`  λ_fisher ${r.lambda_fisher_1} (batch ${r.lambda_fisher_batch_1}) vs float64 ${lam} (batch ${lamB})`);
      assert.ok(Math.abs((r.lambda_fisher_1 as number) - lam) < 2e-4 * lam, `full ${r.lambda_fisher_1} vs ${lam}`);
      assert.ok(Math.abs((r.lambda_fisher_batch_1 as number) - lamB) < 2e-4 * lamB, `batch ${r.lambda_fisher_batch_1} vs ${lamB}`);
      dispose();
      mb.dispose();
      p.dispose();
    });
  }
});

const eoslab = (...args: string[]) => spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', ...args], {
  encoding: 'utf8', env: { ...process.env, EOSLAB_RESULTS: mkdtempSync(join(tmpdir(), 'eoslab-spectral-res-')) },
});
const root = mkdtempSync(join(tmpdir(), 'eoslab-spectral-'));
const RUN = ['train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '4', '--backend', 'wasm', '--batch-size', '16', '--eig-freq', '2', '--neigs', '2'];
const SPECTRAL = ['--density', '--density-freq', '2', '--density-runs', '2', '--density-order', '12', '--density-grid', '50',
  '--gauss-newton', '--gauss-newton-freq', '2', '--fisher', '--fisher-freq', '2'];

test('the CLI: --density, --gauss-newton and --fisher fill their columns where their rules fire and write density/step_<t>.csv; plot draws it', () => {
  const out = join(root, 'run');
  const r = eoslab(...RUN, ...SPECTRAL, '--out', out);
  assert.is(r.status, 0, r.stderr);
  const [head, ...rows] = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  const cols = ['density_lambda_min', 'density_lambda_max', 'lambda_gn_1', 'lambda_gn_2', 'lambda_gn_batch_1', 'lambda_fisher_1', 'lambda_fisher_batch_1'];
  for (const c of cols) assert.ok(head.includes(c), `${c} in ${head.join(',')}`);
  for (const row of rows) {
    const on = Number(row[0]) % 2 === 0;
    for (const c of cols) assert.is(row[head.indexOf(c)] !== '', on, `step ${row[0]} ${c}`);
  }
  const at0 = (c: string) => Number(rows[0][head.indexOf(c)]);
  assert.ok(at0('density_lambda_min') < at0('density_lambda_max'));
  // The top Ritz value of the density's Lanczos runs is the tracked λ₁ (the same Hessian, 12 steps converge its extreme).
  assert.ok(Math.abs(at0('density_lambda_max') - at0('lambda_1')) < 1e-3 * at0('lambda_1'), `${at0('density_lambda_max')} vs λ₁ ${at0('lambda_1')}`);
  assert.ok(at0('lambda_gn_1') >= at0('lambda_gn_2') && at0('lambda_gn_2') > 0);
  assert.equal(readdirSync(join(out, 'density')).sort(), ['step_0.csv', 'step_2.csv', 'step_4.csv']);
  const table = readFileSync(join(out, 'density', 'step_2.csv'), 'utf8').trim().split('\n');
  assert.is(table[0], 'grid,density,density_se');
  assert.is(table.length, 51);
  const meta = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
  assert.equal(meta.config.measures.density.options, { runs: 2, order: 12, sigma: 0.01, grid: 50, probe: 'rademacher' });
  const p = eoslab('plot', out);
  assert.is(p.status, 0, p.stderr);
  const svg = readFileSync(join(out, 'figures', 'density.svg'), 'utf8');
  for (const s of ['step 0', 'step 2', 'step 4']) assert.ok(svg.includes(`${s}</text>`), `${s} in the legend`);
  // --force starts over: the old run's tables go with it.
  const again = eoslab(...RUN.slice(0, 5), '1', ...RUN.slice(6), '--out', out, '--force');
  assert.is(again.status, 0, again.stderr);
  assert.not.ok(existsSync(join(out, 'density')), 'density tables of the old run removed');
});

test('a bad option value is refused in one line naming the fix', () => {
  const r = eoslab(...RUN, '--density', '--density-probe', 'uniform');
  assert.is(r.status, 1);
  assert.match(r.stderr, /--density-probe must be rademacher or normal/);
  assert.is(r.stderr.trim().split('\n').length, 1);
  const q = eoslab('train', 'quadratic:2,1', 'quadratic', 'mse', '0.1', '2', '--backend', 'wasm', '--gauss-newton');
  assert.is(q.status, 1);
  assert.match(q.stderr, /^eoslab: --gauss-newton needs a model and a loss over data.*: drop it/);
  const f = eoslab('train', 'quadratic:2,1', 'quadratic', 'mse', '0.1', '2', '--backend', 'wasm', '--fisher');
  assert.is(f.status, 1);
  assert.match(f.stderr, /^eoslab: --fisher needs per-example losses over data.*: drop it/);
});

test('removeRunFiles removes measure tables (<table>/step_<t>.csv) and nothing else', () => {
  // Before, --force left the old run's density tables beside the new run's.
  const d = join(root, 'clean');
  for (const sub of ['density', 'plots', 'empty', 'Mixed']) mkdirSync(join(d, sub), { recursive: true });
  for (const f of ['step_0.csv', 'step_10.csv.tmp-44']) writeFileSync(join(d, 'density', f), 'x');
  for (const f of ['step_3.csv', 'notes.txt']) writeFileSync(join(d, 'plots', f), 'x');
  for (const f of ['step_1.csv']) writeFileSync(join(d, 'Mixed', f), 'x');
  writeFileSync(join(d, 'step_2.csv'), 'x');
  removeRunFiles(d);
  assert.equal(readdirSync(d).sort(), ['Mixed', 'empty', 'plots', 'step_2.csv']);
  assert.equal(readdirSync(join(d, 'plots')), ['notes.txt']);
  assert.equal(readdirSync(join(d, 'Mixed')), ['step_1.csv']);
});

test.run();
