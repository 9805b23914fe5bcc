// Gradient projections, the one-step loss change and the parameter distance
// on operators with known answers, on both backends: a quadratic ½θᵀAθ with
// A = Q diag(λ) Qᵀ (eigenvectors off the axes) whose gradient Aθ = Qc has
// known components c on them; GD's analytic loss change −1 + (η/2)gᵀAg/‖g‖²;
// momentum and Adam steps taken on copies (θ, ∇L and the optimizer state
// bit for bit unchanged after, and the value equal to the real step's);
// distances against float64. Then the CLI switches and --distance-to.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../core/ts/backend/types.js';
import { QuadraticObjective } from '../core/ts/objective/quadratic.js';
import { makeOptimizer } from '../core/ts/optim/optimizers.js';
import { gradProjection } from '../core/ts/measure/grad-projection.js';
import { oneStepLossChange } from '../core/ts/measure/loss-change.js';
import { distance } from '../core/ts/measure/distance.js';
import { forEachBackend } from './helpers/backends.js';
import { makeTestContext } from './helpers/measure-ctx.js';
import { normals } from '../core/ts/rng/philox.js';

const P = 6;
const LAMBDAS = [10, 7, 4, 2, 1, 0.5];

/** An orthogonal Q (Gram-Schmidt on seeded normals, float64): columns are A's eigenvectors. */
function orthogonal(seed: number): number[][] {
  const z = normals(seed, 0, 0, P * P);
  const cols: number[][] = [];
  for (let j = 0; j < P; j++) {
    const v = Array.from({ length: P }, (_, i) => z[i * P + j]);
    for (let r = 0; r < 2; r++) for (const q of cols) { const d = q.reduce((s, x, i) => s + x * v[i], 0); q.forEach((x, i) => { v[i] -= d * x; }); }
    const n = Math.hypot(...v);
    cols.push(v.map((x) => x / n));
  }
  return cols;
}

/** A = Q diag(λ) Qᵀ and θ = A⁻¹Qc, so ∇L = Aθ = Qc exactly in float64 (c_i on eigenvector i). */
function quadratic(be: Backend, c: number[]) {
  const Q = orthogonal(3);
  const A = new Float64Array(P * P);
  for (let k = 0; k < P; k++) for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) A[i * P + j] += LAMBDAS[k] * Q[k][i] * Q[k][j];
  const theta = new Float64Array(P);
  for (let k = 0; k < P; k++) for (let i = 0; i < P; i++) theta[i] += (c[k] / LAMBDAS[k]) * Q[k][i];
  return { obj: new QuadraticObjective(be, Float32Array.from(A), P), A, theta: Float32Array.from(theta) };
}

forEachBackend('measure misc', (T) => {
  T('gradient projections: a gradient built from known eigenvector components gives their squared shares', async ({ be }) => {
    const c = [3, -1, 2, 0.5, 1, -2];
    const q = quadratic(be, c);
    const { ctx, dispose } = await makeTestContext(be, { objective: q.obj, theta: q.theta, eigK: 3, neigs: 3 });
    const got = await gradProjection.run(ctx, { freq: { every: 1, after: [] }, options: {} });
    const c2 = c.reduce((s, x) => s + x * x, 0);
    for (let i = 0; i < 3; i++) {
      const want = (c[i] * c[i]) / c2;
      assert.ok(Math.abs((got[`grad_proj_${i + 1}`] as number) - want) < 2e-4, `grad_proj_${i + 1}: ${got[`grad_proj_${i + 1}`]} vs ${want}`);
    }
    // Before the first solve there are no directions: nothing is reported (empty cells, not zeros).
    const none = await makeTestContext(be, { objective: q.obj, theta: q.theta, neigs: 3 });
    assert.equal(await gradProjection.run(none.ctx, { freq: { every: 1, after: [] }, options: {} }), {});
    none.dispose();
    dispose();
    q.obj.dispose();
  });

  T('one-step loss change under GD is −1 + (η/2)·gᵀAg/‖g‖² on a quadratic', async ({ be }) => {
    const c = [3, -1, 2, 0.5, 1, -2];
    const q = quadratic(be, c);
    const opt = makeOptimizer({ name: 'gd' });
    for (const lr of [0.02, 0.15, 0.3]) {
      const state = opt.init(be, P);
      const { ctx, dispose } = await makeTestContext(be, { objective: q.obj, theta: q.theta, lr, optimizer: { opt, state } });
      // g = Qc, so gᵀAg = Σ λ_i c_i² and ‖g‖² = Σ c_i².
      const want = -1 + (lr / 2) * c.reduce((s, x, i) => s + LAMBDAS[i] * x * x, 0) / c.reduce((s, x) => s + x * x, 0);
      const got = await oneStepLossChange(ctx);
      assert.ok(Math.abs(got - want) < 2e-3 * Math.max(1, Math.abs(want)), `η ${lr}: ${got} vs ${want}`);
      dispose();
    }
    q.obj.dispose();
  });

  for (const name of ['polyak', 'adam'] as const) {
    T(`one-step loss change under ${name}: the step is taken on copies (θ, ∇L and the state bit for bit unchanged) and equals the real step's`, async ({ be }) => {
      const q = quadratic(be, [3, -1, 2, 0.5, 1, -2]);
      const opt = makeOptimizer({ name });
      const state = opt.init(be, P);
      const lr = 0.05;
      const { ctx, dispose } = await makeTestContext(be, { objective: q.obj, theta: q.theta, lr, optimizer: { opt, state } });
      // A few real steps first, so the momentum / moments are not zero and the step count matters (Adam's bias correction).
      const g0 = ctx.alloc('g');
      for (let i = 0; i < 3; i++) { await q.obj.grad(ctx.theta, g0); opt.update(be, ctx.theta, g0, state, lr); }
      const fresh = await makeTestContext(be, { objective: q.obj, theta: await be.read(ctx.theta), lr, optimizer: { opt, state } });
      const snap = async () => ({
        theta: await be.read(fresh.ctx.theta), grad: await be.read(fresh.ctx.grad), step: state.step,
        tensors: Object.fromEntries(await Promise.all(Object.entries(state.tensors).map(async ([k, b]) => [k, await be.read(b)] as const))),
      });
      const before = await snap();
      const got = await oneStepLossChange(fresh.ctx);
      assert.equal(await snap(), before);
      // The real step from the same θ and state.
      opt.update(be, fresh.ctx.theta, fresh.ctx.grad, state, lr);
      const after = (await q.obj.lossAcc(fresh.ctx.theta)).loss[0];
      const want = (after - fresh.ctx.trainLoss) / (lr * fresh.ctx.gradNorm ** 2);
      assert.ok(Number.isFinite(got) && Math.abs(got - want) < 1e-6 * Math.max(1, Math.abs(want)), `${got} vs the real step's ${want}`);
      fresh.dispose();
      dispose();
      opt.dispose(be, state);
      q.obj.dispose();
    });
  }

  T('parameter distance to θ₀ and to a reference, against float64', async ({ be }) => {
    const q = quadratic(be, [1, 2, 3, 4, 5, 6]);
    const x0 = Float32Array.from(normals(9, 0, 0, P)), ref = Float32Array.from(normals(10, 0, 0, P));
    const { ctx, dispose } = await makeTestContext(be, { objective: q.obj, theta: q.theta });
    const dist = (x: Float32Array) => Math.sqrt(x.reduce((s, v, i) => s + (q.theta[i] - v) ** 2, 0));
    const withRef = { ...ctx, initialTheta: () => x0, reference: (n: string) => (n === 'distance' ? ref : null) };
    const got = await distance.run(withRef, { freq: { every: 1, after: [] }, options: { to: 'ref.safetensors' } });
    assert.ok(Math.abs((got.distance_init as number) - dist(x0)) < 1e-5 * dist(x0), `${got.distance_init} vs ${dist(x0)}`);
    assert.ok(Math.abs((got.distance_ref as number) - dist(ref)) < 1e-5 * dist(ref), `${got.distance_ref} vs ${dist(ref)}`);
    assert.equal(Object.keys(await distance.run(withRef, { freq: { every: 1, after: [] }, options: { to: '' } })), ['distance_init']);
    // A host that did not load the file must not produce a silent distance_ref.
    await distance.run({ ...ctx, reference: () => null }, { freq: { every: 1, after: [] }, options: { to: 'x.safetensors' } })
      .then(() => assert.unreachable('no reference loaded'), (e: Error) => assert.match(e.message, /--distance-to x\.safetensors: the host did not load it/));
    dispose();
    q.obj.dispose();
  });
});

const CLI = 'hosts/node/bin/eoslab.mjs';
const train = (args: string[]) => spawnSync(process.execPath, [CLI, 'train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '4', '--backend', 'wasm', ...args], { encoding: 'utf8' });
const readCsv = (path: string) => {
  const [head, ...rows] = readFileSync(path, 'utf8').trim().split('\n').map((l) => l.split(','));
  return { col: (name: string) => rows.map((r) => r[head.indexOf(name)]), head };
};

test('the CLI switches: --grad-projection, --loss-change and --distance fill their columns', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'eoslab-misc-')), 'run');
  const r = train(['--eig-freq', '2', '--grad-projection', '--loss-change', '--distance', '--distance-freq', '1', '--out', out]);
  assert.is(r.status, 0, r.stderr);
  const { col, head } = readCsv(join(out, 'metrics.csv'));
  for (const c of ['grad_proj_1', 'grad_proj_2', 'loss_change', 'distance_init']) assert.ok(head.includes(c), head.join(','));
  assert.not.ok(head.includes('distance_ref'));
  // Their rule defaults to --eig-freq: rows 0, 2, 4; distance every step; θ₀ is row 0's θ.
  assert.equal(col('grad_proj_1').map((x) => x !== ''), [true, false, true, false, true]);
  assert.is(Number(col('distance_init')[0]), 0);
  assert.ok(col('distance_init').slice(1).every((x) => Number(x) > 0));
  for (const x of col('grad_proj_1').filter((x) => x !== '')) assert.ok(Number(x) >= 0 && Number(x) <= 1.0001, x);
  // A small GD step decreases the loss: the normalised change lies near −1.
  for (const x of col('loss_change').filter((x) => x !== '')) assert.ok(Number(x) < -0.5 && Number(x) > -1.5, x);
});

test('--distance-to a checkpoint: distance_ref is 0 where the runs coincide; a missing or mismatched file is one line', () => {
  const base = mkdtempSync(join(tmpdir(), 'eoslab-dist-'));
  const a = train(['--eig-freq', '0', '--out', join(base, 'a')]);
  assert.is(a.status, 0, a.stderr);
  const ckpt = join(base, 'a', 'checkpoints', 'step_4.safetensors');
  const b = train(['--eig-freq', '0', '--distance', '--distance-freq', '1', '--distance-to', ckpt, '--out', join(base, 'b')]);
  assert.is(b.status, 0, b.stderr);
  const { col } = readCsv(join(base, 'b', 'metrics.csv'));
  // The same seed and data: run b reaches a's step-4 θ at its own step 4, bit for bit on the Wasm core.
  assert.is(Number(col('distance_ref')[4]), 0);
  assert.is(col('distance_ref')[0], col('distance_init')[4]);
  const meta = JSON.parse(readFileSync(join(base, 'b', 'metadata.json'), 'utf8'));
  assert.equal(meta.config.measures.distance.options, { to: ckpt });
  const missing = train(['--distance', '--distance-to', join(base, 'nope.safetensors'), '--out', join(base, 'c')]);
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /^eoslab: --distance-to .*nope\.safetensors: cannot read it \(ENOENT\): give an existing \.safetensors checkpoint\n$/);
  const other = spawnSync(process.execPath, [CLI, 'train', 'gmm-64-4-2', 'mlp:16:tanh', 'mse', '0.1', '2', '--backend', 'wasm', '--distance', '--distance-to', ckpt, '--out', join(base, 'd')], { encoding: 'utf8' });
  assert.is(other.status, 1);
  assert.match(other.stderr, /^eoslab: --distance-to .*step_4\.safetensors: '.*' has shape \[.*\], the model expects \[.*\]\n$/);
  writeFileSync(join(base, 'junk.safetensors'), 'not a safetensors file');
  const junk = train(['--distance', '--distance-to', join(base, 'junk.safetensors'), '--out', join(base, 'e')]);
  assert.is(junk.status, 1);
  assert.is(junk.stderr.trim().split('\n').length, 1, junk.stderr);
});

test.run();
