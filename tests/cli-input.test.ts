// Flags and records found wrong when eoslab was tried as a new user would:
// numbers read leniently (0x10, 1e309, empty list entries), settings that
// were accepted and then ignored or failed after the run directory existed,
// an Adam display that compared the wrong eigenvalue, f32 records written
// with float64 noise digits. Each case failed on the code before the fix.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shortestF32 } from '../core/ts/run/records.js';
import { robustRange } from '../hosts/node/chart.js';
import { curvatureText, Held } from '../hosts/node/progress.js';
import { parseLrDrops, resolveOptimizer } from '../core/ts/run/config.js';
import { thresholdFormula } from '../core/ts/optim/optimizers.js';

const root = mkdtempSync(join(tmpdir(), 'eoslab-input-'));

function eoslab(...args: string[]) {
  const r = spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', ...args], {
    encoding: 'utf8', timeout: 120_000, env: { ...process.env, EOSLAB_RESULTS: root },
  });
  return { code: r.status, out: r.stdout, err: r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning: max')).join('\n') };
}

const tiny = ['train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '3', '--backend', 'wasm', '--eig-freq', '0'];

test('bad numbers and settings: one line, exit 1, and nothing written', () => {
  const cases: [string[], RegExp][] = [
    [['train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '0x10'], /MAX_STEPS must be a non-negative integer, got '0x10'/],
    [[...tiny, '--lr-drop', '2:1e309'], /--lr-drop .*finite positive LR/],
    [[...tiny, '--lr-drop', '2:0.1,,4:0.01'], /--lr-drop .*without empty entries/],
    [[...tiny, '--init', '2.5,,2.5'], /--init takes comma-separated numbers without empty entries/],
    [[...tiny, '--seed', String(2 ** 53 + 2)], /--seed must be an integer from 0 to 4294967295/],
    [[...tiny, '--physical-batch-size', '0'], /--physical-batch-size must be a positive integer/],
    [[...tiny, '--opt', 'adam', '--beta1', '1'], /--beta1 must be in \[0, 1\)/],
    [[...tiny, '--opt', 'adam', '--eps', '-1e-8'], /--eps must be a non-negative number/],
    [[...tiny, '--opt', 'polyak', '--beta', 'nan'], /--beta must be in \[0, 1\)/],
    [[...tiny, '--acc-goal', '1.5'], /--acc-goal must be in \(0, 1\]/],
    [[...tiny, '--loss-goal', '0'], /--loss-goal must be a positive number/],
    // --beta with gd: the message says who takes it.
    [[...tiny, '--beta', '0.9'], /--beta does not apply to gd: it is for polyak, sgdm, nesterov/],
    [[...tiny, '--opt', 'sgd'], /--opt sgd needs --batch-size B/],
    // Cross-entropy and accuracy on a regression set ran and printed loss 0.000 / ignored the goal.
    [['train', 'chebyshev-3-20', 'mlp:8:tanh', 'ce', '0.1', '3', '--backend', 'wasm'], /ce needs a classification dataset/],
    [['train', 'chebyshev-3-20', 'mlp:8:tanh', 'mse', '0.1', '3', '--backend', 'wasm', '--acc-goal', '0.9'], /--acc-goal needs a classification dataset/],
    [['train', 'quadratic:1,2', 'none', 'ce', '0.1', '3'], /ce needs a classification dataset/],
    [[...tiny, '--batch-size', '65'], /--batch-size 65 exceeds the 64 training examples/],
  ];
  for (const [args, want] of cases) {
    const out = join(root, 'bad');
    const r = eoslab(...args, '--out', out);
    assert.is(r.code, 1, `${args.join(' ')} should fail`);
    assert.match(r.err, want, args.join(' '));
    assert.is(r.err.trim().split('\n').length, 1, `one line for ${args.join(' ')}: ${r.err}`);
    assert.not.ok(existsSync(out), `nothing written for ${args.join(' ')}`);
  }
});

test('sgd and sgdm: the names users know run GD and heavy-ball momentum on minibatches', () => {
  assert.is(resolveOptimizer('sgd', 16), 'gd');
  assert.is(resolveOptimizer('sgdm', 16), 'polyak');
  assert.is(resolveOptimizer('adam', 0), 'adam');
  assert.throws(() => resolveOptimizer('sgdm', 0), /needs --batch-size/);
  assert.throws(() => resolveOptimizer('lion', 0), /unknown optimizer 'lion': use one of .*sgdm/);
  const out = join(root, 'sgdm');
  const r = eoslab(...tiny, '--opt', 'sgdm', '--beta', '0.5', '--batch-size', '16', '--out', out);
  assert.is(r.code, 0, r.err);
  const meta = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
  assert.equal([meta.config.opt.name, meta.config.opt.beta, meta.config.batchSize], ['polyak', 0.5, 16]);
});

test('--lr-drop parses steps and finite rates', () => {
  assert.equal(parseLrDrops('20:0.1,10:0.5'), [{ step: 10, lr: 0.5 }, { step: 20, lr: 0.1 }]);
  assert.throws(() => parseLrDrops('2:inf'), /finite positive/);
  assert.throws(() => parseLrDrops('1.5:0.1'), /integer STEP/);
});

test('metrics.csv: measured f32 values as the shortest decimal that reads back as the same f32', () => {
  assert.is(shortestF32(0.17400000989437103), '0.17400001');
  assert.is(shortestF32(Math.fround(0.1)), '0.1');
  assert.is(shortestF32(Math.fround(1 / 3)), '0.33333334');
  // Every finite f32 round-trips, from 2^20 random bit patterns.
  const bits = new Uint32Array(1 << 20), f = new Float32Array(bits.buffer);
  let s = 12345;
  for (let i = 0; i < bits.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; bits[i] = s; }
  for (const x of f) if (Number.isFinite(x)) assert.ok(Math.fround(Number(shortestF32(x))) === x, `${x}`);
  const out = join(root, 'f32');
  const r = eoslab('train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '4', '--backend', 'wasm', '--eig-freq', '2', '--out', out);
  assert.is(r.code, 0, r.err);
  const [head, ...rows] = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  for (const name of ['train_loss', 'test_loss', 'lambda_1', 'grad_norm']) {
    for (const row of rows) {
      const cell = row[head.indexOf(name)];
      if (cell === '') continue;
      assert.ok(cell.replace(/^-?0?\.?0*/, '').replace(/e.*$/, '').replace('.', '').length <= 9, `${name} ${cell} has float64 noise digits`);
      assert.is(cell, shortestF32(Number(cell)), `${name} ${cell} is not the shortest form`);
    }
  }
});

test('flow stops at max_time: the last tick is cut, not overshot', () => {
  const out = join(root, 'flow');
  const r = eoslab('flow', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.4', '1', '--backend', 'wasm', '--out', out);
  assert.is(r.code, 0, r.err);
  const rows = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[1]));
  assert.equal(rows, [0, 0.4, 0.8, 1], 'times 0, 0.4, 0.8 and the cut tick at 1 (not 1.2)');
});

test('--threads above the cores is capped, and says so', () => {
  const r = eoslab(...tiny, '--threads', '256', '--out', join(root, 'threads'));
  assert.is(r.code, 0, r.err);
  assert.match(r.err, /--threads 256 exceeds the \d+ CPU cores here: using \d+/);
});

test('progress lines: a held λ₁ says when it was measured; adaptive methods show λ_A beside its threshold', () => {
  const lam = new Held(), lamA = new Held();
  lam.take(12.5, 40);
  assert.is(curvatureText(40, lam, lamA, 20, { thresholdName: '2/η' }), 'λ1 12.50 vs 2/η 20.00');
  assert.is(curvatureText(43, lam, lamA, 20, { thresholdName: '2/η' }), 'λ1 12.50 (step 40) vs 2/η 20.00');
  lamA.take(370, 40);
  const adam = { preconditioned: true, lambdaA: true, thresholdName: thresholdFormula({ name: 'adam' }) };
  assert.is(curvatureText(40, lam, lamA, 380, adam), 'λ1 12.50  λ_A 370.0 vs 38/η 380.0');
  assert.match(curvatureText(40, lam, lamA, 380, { ...adam, lambdaA: false }), /38\/η 380.0 bounds λ_A: track it with --lambda-a/);
  assert.is(thresholdFormula({ name: 'adam', beta1: 0.8 }), '(2+2β1)/((1−β1)η)');
});

test("the terminal chart's axis ignores Adam's step-0 λ_A (P = ε there)", () => {
  const ys = [4.6e8, 380, 120, 150, 200, 260, 300, 380, 350, 380];
  assert.equal(robustRange(ys), [120, 380]);
  assert.equal(robustRange([1, 2, 3]), [1, 3]);
  assert.equal(robustRange([0, 0, 5]), [0, 5]);
});

test.run();
