// The eoslab command: a short demo run prints its rows and λ₁; bad flags and
// unknown ids exit non-zero with one line naming the fix.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors } from '../core/ts/io/safetensors.js';

function eoslab(...args: string[]) {
  const r = spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr.split('\n').filter((l) => !l.startsWith('Warning: max')).join('\n') };
}

test('demo runs GD with loss, accuracy and λ₁ rows', () => {
  const r = eoslab('demo', '--dataset', 'chebyshev-3-20', '--arch', 'mlp:16:tanh', '--steps', '4', '--eig-freq', '2', '--lr', '0.05');
  assert.is(r.code, 0, r.err);
  const rows = r.out.split('\n').filter((l) => /^\s+\d+\s/.test(l));
  assert.is(rows.length, 5);
  const lambdas = rows.map((l) => l.trim().split(/\s+/)).filter((c) => c.length === 6).map((c) => Number(c[4]));
  assert.is(lambdas.length, 3, 'λ₁ at steps 0, 2, 4');
  assert.ok(lambdas.every((x) => x > 0 && Number.isFinite(x)));
  const losses = rows.map((l) => Number(l.trim().split(/\s+/)[1]));
  assert.ok(losses[4] < losses[0], 'GD at a small step size lowers the loss');
});

test('--save writes θ as a PyTorch state dict that loads back', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'eoslab-')), 'theta.safetensors');
  const r = eoslab('demo', '--dataset', 'gmm-32-5-3', '--arch', 'mlp:8:relu', '--steps', '2', '--eig-freq', '0', '--save', file);
  assert.is(r.code, 0, r.err);
  const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(file)));
  assert.equal(tensors.map((t) => [t.name, t.shape]), [['1.weight', [8, 5]], ['1.bias', [8]], ['3.weight', [3, 8]], ['3.bias', [3]]]);
  assert.is(metadata.arch, 'mlp:8:relu');
});

test('bad input: one line, non-zero exit', () => {
  const cases: [string[], RegExp][] = [
    [['demo', '--lr', '-1'], /--lr must be a positive number/],
    [['demo', '--steps', 'many'], /--steps must be a non-negative integer/],
    [['demo', '--dataset', 'nope', '--steps', '0'], /unknown dataset 'nope'/],
    [['demo', '--arch', 'resnet', '--steps', '0'], /unknown architecture 'resnet'/],
    [['demo', '--loss', 'hinge'], /--loss must be mse or ce/],
    [['demo', '--bogus'], /unknown option '--bogus'/],
  ];
  for (const [args, re] of cases) {
    const r = eoslab(...args);
    assert.is.not(r.code, 0, args.join(' '));
    assert.match(r.err, re);
  }
});

test.run();
