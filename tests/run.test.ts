// The run loop through the CLI: records users load (metadata.json,
// metrics.csv with the documented columns, PyTorch-loadable checkpoints),
// resume reproducing an uninterrupted run bit for bit, reuse of finished
// runs, and bad input rejected with nothing written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors } from '../core/ts/io/safetensors.js';
import { decodeNpy } from '../core/ts/io/npy.js';

const root = mkdtempSync(join(tmpdir(), 'eoslab-run-'));

function eoslab(...args: string[]) {
  const r = spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', ...args], {
    encoding: 'utf8', timeout: 300_000, env: { ...process.env, EOSLAB_RESULTS: root },
  });
  return { code: r.status, out: r.stdout, err: r.stderr.split('\n').filter((l) => !l.startsWith('Warning: max')).join('\n') };
}

function csv(path: string): { header: string[]; rows: string[][] } {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  return { header: lines[0].split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

const TRAIN = ['train', 'gmm-64-6-3', 'mlp:16x16:tanh', 'mse', '0.2'];

test('train writes metadata.json, metrics.csv with the documented columns, and checkpoints', () => {
  const out = join(root, 'a');
  const r = eoslab(...TRAIN, '12', '--neigs', '2', '--eig-freq', '4', '--checkpoint-every', '5', '--nproj', '3', '--out', out);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`run directory: ${out}`));
  const meta = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
  assert.is(meta.status, 'finished');
  assert.is(meta.stop_reason, 'max_steps');
  assert.is(meta.config.lr, 0.2);
  assert.ok(meta.device.adapter.length > 0 && meta.eoslab_version && meta.conventions.mse);
  assert.match(meta.dataset_source, /generated/);
  const m = csv(join(out, 'metrics.csv'));
  assert.equal(m.header, ['step', 'train_loss', 'train_acc', 'test_loss', 'test_acc', 'lambda_1', 'lambda_2', 'threshold', 'lr', 'grad_norm',
    'eig_hvps', 'eig_residual', 'eig_converged', 'wall_s']);
  assert.is(m.rows.length, 13, 'rows for steps 0..12');
  m.rows.forEach((row, t) => {
    assert.is(Number(row[0]), t);
    const measured = t % 4 === 0;
    assert.is(row[5] !== '', measured, `lambda_1 at step ${t}`);
    assert.ok(Math.abs(Number(row[7]) - 2 / 0.2) < 1e-9, 'threshold 2/η');
  });
  const ck = readdirSync(join(out, 'checkpoints')).sort();
  assert.equal(ck, ['step_0.optim.safetensors', 'step_0.safetensors', 'step_10.optim.safetensors', 'step_10.safetensors',
    'step_12.optim.safetensors', 'step_12.safetensors', 'step_5.optim.safetensors', 'step_5.safetensors']);
  const th = decodeSafetensors(new Uint8Array(readFileSync(join(out, 'checkpoints', 'step_12.safetensors'))));
  assert.equal(th.tensors.map((t) => [t.name, t.shape]), [['1.weight', [16, 6]], ['1.bias', [16]], ['3.weight', [16, 16]], ['3.bias', [16]], ['5.weight', [3, 16]], ['5.bias', [3]]]);
  const proj = decodeNpy(new Uint8Array(readFileSync(join(out, 'projections.npy'))));
  assert.equal(proj.shape, [13, 3]);
});

test('flow records time, leaves lr and threshold empty, and stops at max time', () => {
  const out = join(root, 'flow');
  const r = eoslab('flow', 'chebyshev-3-20', 'mlp:16:tanh', 'mse', '0.5', '2', '--neigs', '1', '--eig-freq', '1', '--out', out);
  assert.is(r.code, 0, r.err);
  const m = csv(join(out, 'metrics.csv'));
  assert.equal(m.header.slice(0, 3), ['step', 'time', 'train_loss']);
  assert.equal(m.rows.map((row) => Number(row[1])), [0, 0.5, 1, 1.5, 2]);
  for (const row of m.rows) {
    assert.is(row[m.header.indexOf('threshold')], '');
    assert.is(row[m.header.indexOf('lr')], '');
    assert.is(row[m.header.indexOf('train_acc')], '', 'no accuracy for regression');
  }
  const loss = m.rows.map((row) => Number(row[2]));
  assert.ok(loss.every((l, i) => i === 0 || l < loss[i - 1]), 'gradient flow decreases the loss monotonically');
  assert.is(JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8')).stop_reason, 'max_time');
});

test('--lr-drop changes η (and the threshold) from the given steps on', () => {
  const out = join(root, 'drop');
  const r = eoslab(...TRAIN, '8', '--eig-freq', '0', '--lr-drop', '6:0.01,3:0.05', '--out', out);
  assert.is(r.code, 0, r.err);
  const m = csv(join(out, 'metrics.csv'));
  const lr = m.rows.map((row) => Number(row[m.header.indexOf('lr')]));
  assert.equal(lr, [0.2, 0.2, 0.2, 0.05, 0.05, 0.05, 0.01, 0.01, 0.01]);
  const thr = m.rows.map((row) => Number(row[m.header.indexOf('threshold')]));
  thr.forEach((t, i) => assert.ok(Math.abs(t - 2 / lr[i]) < 1e-9));
  assert.is(eoslab(...TRAIN, '8', '--lr-drop', '3', '--out', join(root, 'drop2')).code, 1);
});

test('toy objectives run through the same loop: the minimalist example settles at 2/η, θ saved as one tensor', () => {
  const out = join(root, 'toy');
  const r = eoslab('train', 'toy:xyzw', '-', 'mse', '0.2', '2000', '--init', '2.5,0.5,2.5,0.5', '--neigs', '1', '--eig-freq', '100', '--out', out);
  assert.is(r.code, 0, r.err);
  const m = csv(join(out, 'metrics.csv'));
  const lam = m.rows.filter((row) => row[m.header.indexOf('lambda_1')] !== '').map((row) => Number(row[m.header.indexOf('lambda_1')]));
  assert.ok(lam[0] > 2 * 10, `starts sharp: ${lam[0]}`);
  assert.ok(Math.abs(lam[lam.length - 1] / 10 - 1) < 0.02, `ends at 2/η: ${lam[lam.length - 1]}`);
  const th = decodeSafetensors(new Uint8Array(readFileSync(join(out, 'checkpoints', 'step_2000.safetensors'))));
  assert.equal(th.tensors.map((t) => [t.name, t.shape]), [['theta', [4]]]);
  const bad = eoslab('train', 'toy:xyzw', '-', 'mse', '0.2', '10', '--init', '1,2', '--out', join(root, 'toybad'));
  assert.match(bad.err, /--init gives 2 values, the model has 4 parameters/);
  assert.not.ok(existsSync(join(root, 'toybad')));
});

test('quadratic:<spectrum>: GD converges below 2/λ_max and diverges above it', () => {
  const go = (lr: string, out: string) => eoslab('train', 'quadratic:10,3,1', '-', 'mse', lr, '200', '--neigs', '1', '--eig-freq', '50', '--out', join(root, out));
  const below = go('0.19', 'qb'), above = go('0.21', 'qa');
  assert.is(below.code, 0, below.err);
  assert.match(below.out, /finished: max_steps/);
  assert.match(above.out, /finished: diverged/);
  const m = csv(join(root, 'qb', 'metrics.csv'));
  assert.ok(Math.abs(Number(m.rows[0][m.header.indexOf('lambda_1')]) - 10) < 1e-4, 'λ₁ = λ_max of the spectrum');
});

test('a finished run is reused unless --force', () => {
  const out = join(root, 'a');
  // The same settings as the run in 'a' (a run with any other setting is not reused: tests/run-identity.test.ts).
  const r = eoslab(...TRAIN, '12', '--neigs', '2', '--eig-freq', '4', '--checkpoint-every', '5', '--nproj', '3', '--out', out);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /already finished \(max_steps at step 12\)/);
});

for (const backend of ['wasm', 'webgpu']) {
  test(`resume continues bit for bit, Adam state included (${backend}; resume keeps the backend)`, () => {
    const args = ['train', 'gmm-64-6-3', 'mlp:16x16:tanh', 'ce', '0.01', '--opt', 'adam', '--beta2', '0.99', '--neigs', '1', '--eig-freq', '5',
      '--checkpoint-every', '5', '--backend', backend];
    const whole = join(root, `whole-${backend}`), parts = join(root, `parts-${backend}`);
    assert.is(eoslab(...args.slice(0, 5), '20', ...args.slice(5), '--out', whole).code, 0);
    assert.is(eoslab(...args.slice(0, 5), '10', ...args.slice(5), '--out', parts).code, 0);
    const r = eoslab('resume', parts, '--max-steps', '20');
    assert.is(r.code, 0, r.err);
    const a = csv(join(whole, 'metrics.csv')), b = csv(join(parts, 'metrics.csv'));
    assert.is(b.rows.length, 21);
    const strip = (rows: string[][]) => rows.map((row) => row.slice(0, -1)); // wall_s differs
    assert.equal(strip(b.rows), strip(a.rows));
    const bytes = (d: string) => readFileSync(join(d, 'checkpoints', 'step_20.safetensors'));
    assert.ok(bytes(whole).equals(bytes(parts)), 'final θ identical');
    const meta = JSON.parse(readFileSync(join(parts, 'metadata.json'), 'utf8'));
    assert.is(meta.resumes.length, 1);
    assert.is(meta.resumes[0].from_step, 10);
    assert.is(meta.device.backend, backend);
  });
}

test('SGD minibatches follow the dataset seed: same seed, same trajectory; another seed, another one', () => {
  const sgd = (seed: string, out: string) => eoslab('train', 'gmm-64-6-3', 'mlp:16:tanh', 'mse', '0.2', '8', '--batch-size', '16', '--dataset-seed', seed, '--eig-freq', '0', '--out', join(root, out));
  for (const [seed, out] of [['1', 's1'], ['1', 's1b'], ['2', 's2']]) assert.is(sgd(seed, out).code, 0);
  const loss = (out: string) => csv(join(root, out, 'metrics.csv')).rows.map((r) => r[1]);
  assert.equal(loss('s1'), loss('s1b'));
  assert.not.equal(loss('s1'), loss('s2'));
  const meta = JSON.parse(readFileSync(join(root, 's1', 'metadata.json'), 'utf8'));
  assert.match(meta.config.batchSize.toString(), /16/);
});

test('divergence is recorded as such, not a crash', () => {
  const out = join(root, 'div');
  const r = eoslab('train', 'gmm-64-6-3', 'mlp:16x16:tanh', 'mse', '200', '50', '--eig-freq', '0', '--out', out);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /finished: diverged/);
  const meta = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
  assert.is(meta.stop_reason, 'diverged');
  assert.ok(meta.last_step < 50);
});

test('bad input: one-line error, non-zero exit, nothing written', () => {
  const cases: [string[], RegExp][] = [
    [['train', 'nope', 'mlp:8:tanh', 'mse', '0.1', '5'], /unknown dataset 'nope'/],
    [['train', 'gmm-32-4-2', 'resnet', 'mse', '0.1', '5'], /unknown architecture 'resnet'/],
    [['train', 'gmm-32-4-2', 'mlp:8:tanh', 'mse', '-0.1', '5'], /LR must be a positive number/],
    [['train', 'gmm-32-4-2', 'mlp:8:tanh', 'mse', '0.1', '5', '--opt', 'lion'], /Allowed choices are gd, polyak/],
    [['train', 'gmm-32-4-2', 'mlp:8:tanh', 'mse', '0.1', '5', '--beta1', '0.9'], /--beta1 does not apply to gd/],
    [['train', 'gmm-32-4-2', 'mlp:8:tanh', 'mse', '0.1', '5', '--opt', 'adam', '--beta', '0.9'], /--beta does not apply to adam/],
    [['train', 'gmm-32-4-2', 'mlp:8:tanh', 'mse', '0.1', '5', '--lambda-a'], /--lambda-a needs an adaptive optimizer/],
    [['train', 'gmm-32-4-2', 'mlp:8:tanh', 'hinge', '0.1', '5'], /LOSS must be mse or ce/],
    [['resume', join(root, 'missing')], /has no metadata.json/],
  ];
  for (const [args, re] of cases) {
    const out = join(root, 'bad');
    const r = eoslab(...args, ...(args[0] === 'train' ? ['--out', out] : []));
    assert.is.not(r.code, 0, args.join(' '));
    assert.match(r.err, re);
    assert.is(r.err.trim().split('\n').length, 1, `one line: ${r.err}`);
    assert.not.ok(existsSync(out), 'nothing written');
  }
});

test.run();
