// `eoslab measure` (a checkpoint measured without training) and `eoslab
// compare` (two runs' iterates at matching times). measure: the row of a
// run's own checkpoint repeats that run's row (loss, ‖∇L‖, seeded trace and
// θ₀ distance bit for bit on the Wasm core; λ's to solver tolerance, the run
// warm-started them); errors are one line. compare: GD and gradient flow on
// a quadratic stay together while λ = 30 < 2/η and part once a learning-rate
// change puts 2/η below it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = 'hosts/node/bin/eoslab.mjs';
const eoslab = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, EOSLAB_RESULTS: base } });
const base = mkdtempSync(join(tmpdir(), 'eoslab-measure-'));
const csv = (text: string) => {
  const [head, ...rows] = text.trim().split('\n').map((l) => l.split(','));
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
};

test('eoslab measure: a run\'s checkpoint gives that run\'s row', () => {
  const run = join(base, 'run');
  const flags = ['--trace', '--trace-max', '30', '--distance', '--grad-projection', '--loss-change'];
  const r = eoslab(['train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '4', '--backend', 'wasm', '--eig-freq', '2', ...flags, '--out', run]);
  assert.is(r.status, 0, r.stderr);
  const want = csv(readFileSync(join(run, 'metrics.csv'), 'utf8'))[4];
  const m = eoslab(['measure', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '--from', join(run, 'checkpoints', 'step_4.safetensors'), '--backend', 'wasm',
    '--neigs', '2', '--lr', '0.1', ...flags]);
  assert.is(m.status, 0, m.stderr);
  // stdout holds the CSV alone: pandas reads `eoslab measure … > row.csv`.
  const rows = csv(m.stdout);
  assert.is(rows.length, 1, m.stdout);
  const got = rows[0];
  assert.is(got.step, '4');
  for (const k of ['train_loss', 'train_acc', 'test_loss', 'grad_norm', 'trace', 'trace_se', 'trace_probes', 'distance_init', 'loss_change', 'threshold']) assert.is(got[k], want[k], k);
  for (const k of ['lambda_1', 'lambda_2']) assert.ok(Math.abs(Number(got[k]) - Number(want[k])) < 1e-3 * Math.abs(Number(want[k])), `${k}: ${got[k]} vs ${want[k]}`);
  for (const k of ['grad_proj_1', 'grad_proj_2']) assert.ok(Math.abs(Number(got[k]) - Number(want[k])) < 1e-2, `${k}: ${got[k]} vs ${want[k]}`);
  // --out writes the file instead.
  const out = join(base, 'row.csv');
  const f = eoslab(['measure', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '--from', join(run, 'checkpoints', 'step_4.safetensors'), '--backend', 'wasm', '--distance', '--out', out]);
  assert.is(f.status, 0, f.stderr);
  assert.is(csv(readFileSync(out, 'utf8'))[0].distance_init, want.distance_init);
});

test('eoslab measure: a wrong architecture, a missing file, --loss-change without --lr: one line each', () => {
  const ckpt = join(base, 'run', 'checkpoints', 'step_4.safetensors');
  const cases: [string[], RegExp][] = [
    [['measure', 'gmm-64-4-2', 'mlp:16:tanh', 'mse', '--from', ckpt], /^eoslab: --from .*step_4\.safetensors: '.*' has shape \[.*\], the model expects \[.*\]$/],
    [['measure', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '--from', join(base, 'none.safetensors')], /^eoslab: --from .*none\.safetensors: cannot read it \(ENOENT\): give an existing \.safetensors checkpoint$/],
    [['measure', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '--from', ckpt, '--loss-change'], /^eoslab: --loss-change needs --lr/],
  ];
  for (const [args, re] of cases) {
    const r = eoslab([...args, '--backend', 'wasm']);
    assert.is(r.status, 1, args.join(' '));
    assert.match(r.stderr.trim(), re);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('eoslab compare: GD and flow stay together while λ < 2/η, and part once 2/η falls below λ', () => {
  const gd = join(base, 'gd'), flow = join(base, 'flow');
  // quadratic:1,30 from (1, 1): η = 0.01 (2/η = 200 > 30) for 40 steps, then η = 0.1 (2/η = 20 < 30) to step 60, time 0.4 + 2.0.
  const g = eoslab(['train', 'quadratic:1,30', 'x', 'mse', '0.01', '60', '--lr-drop', '40:0.1', '--init', '1,1', '--nproj', '8', '--eig-freq', '10',
    '--checkpoint-every', '10', '--backend', 'wasm', '--out', gd]);
  assert.is(g.status, 0, g.stderr);
  const f = eoslab(['flow', 'quadratic:1,30', 'x', 'mse', '0.1', '2.4', '--init', '1,1', '--nproj', '8', '--eig-freq', '1', '--checkpoint-every', '1', '--backend', 'wasm', '--out', flow]);
  assert.is(f.status, 0, f.stderr);
  // The sharpness crosses the threshold where the learning rate changes.
  const m = csv(readFileSync(join(gd, 'metrics.csv'), 'utf8')).filter((r) => r.lambda_1 !== '');
  assert.ok(m.every((r) => Math.abs(Number(r.lambda_1) - 30) < 1e-3));
  assert.equal(m.map((r) => Number(r.threshold) > 30), [true, true, true, true, false, false, false]);
  for (const from of ['projections', 'checkpoints']) {
    const out = join(base, `cmp-${from}`);
    const c = eoslab(['compare', gd, flow, '--out', out, '--from', from]);
    assert.is(c.status, 0, c.stderr);
    assert.ok(existsSync(join(out, 'figures', 'compare.svg')));
    const rows = csv(readFileSync(join(out, 'compare.csv'), 'utf8')).map((r) => ({ t: Number(r.time), d: Number(r.distance), rel: Number(r.relative_distance) }));
    assert.is(rows[0].d, 0);
    // Stable phase (after GD's first steps, whose O(η) error on the stiff direction fades): within 0.5 % of the flow.
    const before = rows.filter((r) => r.t >= 0.15 && r.t <= 0.4 + 1e-9);
    assert.ok(before.length >= 1 && before.every((r) => r.rel < 5e-3), `${from}: ${JSON.stringify(before)}`);
    // Unstable phase: the stiff component doubles every step, and the runs part.
    const last = rows[rows.length - 1];
    assert.ok(Math.abs(last.t - 2.4) < 1e-9 && last.rel > 1, `${from}: ${JSON.stringify(last)}`);
    if (from === 'projections') {
      const tail = rows.slice(-5).map((r) => r.d);
      assert.ok(tail.every((d, i) => i === 0 || d > tail[i - 1]), `growing: ${tail}`);
      assert.is(rows.length, 25);
    }
  }
  // Projections on different directions cannot be compared: one line naming the fix.
  const other = join(base, 'gd-seed1');
  assert.is(eoslab(['train', 'quadratic:1,30', 'x', 'mse', '0.01', '5', '--init', '1,1', '--nproj', '8', '--seed', '1', '--eig-freq', '0', '--backend', 'wasm', '--out', other]).status, 0);
  const bad = eoslab(['compare', gd, other, '--out', join(base, 'cmp-bad'), '--from', 'projections']);
  assert.is(bad.status, 1);
  assert.match(bad.stderr.trim(), /^eoslab: .* project on different directions: rerun with the same --nproj and --seed, or --from checkpoints$/);
  const none = eoslab(['compare', gd, join(base, 'nothing'), '--out', join(base, 'cmp-none')]);
  assert.is(none.status, 1);
  assert.match(none.stderr.trim(), /^eoslab: .*nothing: no metadata\.json: not an eoslab run directory/);
});

test('projections_steps.npy: the step and time of each projections.npy row (GD: Σ η before the step)', () => {
  const steps = readFileSync(join(base, 'gd', 'projections_steps.npy'));
  assert.match(steps.subarray(0, 128).toString('latin1'), /'descr': '<f8'.*'shape': \(61, 2\)/);
  const v = new Float64Array(steps.buffer.slice(steps.byteOffset + 128, steps.byteOffset + 128 + 61 * 16));
  assert.equal([v[0], v[1], v[80], v[81], v[120], v[121]], [0, 0, 40, 0.01 * 40, 60, 0.01 * 40 + 0.1 * 20]);
});

test.run();
