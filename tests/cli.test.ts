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
    [['demo', '--backend', 'cuda'], /unknown backend 'cuda': use webgpu, wasm or auto/],
    [['demo', '--threads', '0'], /--threads must be an integer from 1 to 256/],
  ];
  for (const [args, re] of cases) {
    const r = eoslab(...args);
    assert.is.not(r.code, 0, args.join(' '));
    assert.match(r.err, re);
  }
});

test('with no GPU, auto runs on the Wasm core and says why, in the log and in metadata.json', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'eoslab-')), 'run');
  // No inherited ICD: the machine's own drivers decide (tests may have pointed VK_ICD_FILENAMES at lavapipe).
  const env = { ...process.env };
  delete env.VK_ICD_FILENAMES;
  delete env.VK_DRIVER_FILES;
  const r = spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', 'train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '3', '--out', out],
    { encoding: 'utf8', timeout: 120_000, env });
  assert.is(r.status, 0, r.stderr);
  const meta = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
  const hardware = meta.device.backend === 'webgpu';
  if (hardware) {
    assert.match(meta.device.why, /backend webgpu \(auto\): hardware adapter/);
  } else {
    assert.is(meta.device.backend, 'wasm');
    assert.match(meta.device.why, /^backend wasm \(auto\): (no GPU or hardware Vulkan driver|no WebGPU adapter|the WebGPU adapter is a software rasteriser)/);
    assert.ok(meta.device.threads >= 1);
  }
  assert.ok((r.stdout + r.stderr).includes(meta.device.why), 'the log says which backend and why');
});

test('--backend wasm --threads 1 and --backend webgpu give the same run to f32 tolerance', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eoslab-'));
  const rows: number[][][] = [];
  for (const [i, flags] of [['--backend', 'wasm', '--threads', '1'], ['--backend', 'webgpu']].entries()) {
    const out = join(dir, `run${i}`);
    const r = eoslab('train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '5', '--out', out, ...flags);
    assert.is(r.code, 0, r.err);
    const meta = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
    assert.is(meta.device.backend, flags[1]);
    assert.match(meta.device.why, new RegExp(`\\(--backend ${flags[1]}\\)`));
    const csv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
    const col = csv[0].split(',').indexOf('train_loss');
    rows.push(csv.slice(1).map((l) => [Number(l.split(',')[col])]));
  }
  assert.is(rows[0].length, rows[1].length);
  for (let i = 0; i < rows[0].length; i++) {
    assert.ok(Math.abs(rows[0][i][0] - rows[1][i][0]) <= 1e-5 * Math.abs(rows[1][i][0]), `step ${i}: ${rows[0][i]} vs ${rows[1][i]}`);
  }
});

test.run();
