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

test.run();
