// BatchNorm running statistics are tracked as PyTorch's train() does (issue
// 14): per physical batch of an update's gradient, mean ← 0.9 mean + 0.1 μ_B,
// var ← 0.9 var + 0.1 σ²_B n/(n−1), num_batches_tracked += 1. Before, every
// checkpoint held the initial 0/1/0 (and a "not tracked" metadata line), so
// the recomputation below fails there.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors, type TensorEntry } from '../core/ts/io/safetensors.js';
import { loadDataset } from '../datasets/registry.js';

const root = mkdtempSync(join(tmpdir(), 'eoslab-bnck-'));
const STEPS = 3;

function train(out: string, steps = STEPS) {
  const r = spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', 'train', 'gmm-16-4-2', 'fc-bn-tanh', 'mse', '0.05', String(steps),
    '--backend', 'wasm', '--physical-batch-size', '8', '--eig-freq', '0', '--checkpoint-every', '1', '--out', out],
  { encoding: 'utf8', timeout: 120_000, env: { ...process.env, EOSLAB_RESULTS: root } });
  assert.is(r.status, 0, r.stderr);
}

const ckpt = (out: string, t: number) => decodeSafetensors(readFileSync(join(out, 'checkpoints', `step_${t}.safetensors`)));
const get = (ts: TensorEntry[], name: string) => ts.find((x) => x.name === name)!.data;

test('GD checkpoints hold PyTorch\'s running statistics over the same batches and θ trajectory (float64 host)', () => {
  const out = join(root, 'gd');
  train(out);
  const X = loadDataset('gmm-16-4-2').train.X as Float32Array;
  const d = 4, N = X.length / d, H = 200;
  const rm = [new Float64Array(H), new Float64Array(H)], rv = [new Float64Array(H).fill(1), new Float64Array(H).fill(1)];
  for (let t = 0; t <= STEPS; t++) {
    const ts = ckpt(out, t).tensors;
    // Forward in float64 at θ_t, batch statistics per physical batch of 8 (the checkpoint of step t holds step t's gradient's).
    assert.is(N, 16);
    for (let r0 = 0; r0 < N; r0 += 8) {
      let h: Float64Array[] = [];
      for (let i = r0; i < r0 + 8; i++) h.push(Float64Array.from(X.subarray(i * d, (i + 1) * d)));
      [1, 4].forEach((li, k) => {
        const W = get(ts, `${li}.weight`) as Float32Array, b = get(ts, `${li}.bias`) as Float32Array, inD = h[0].length;
        h = h.map((x) => Float64Array.from({ length: H }, (_, o) => { let s = b[o]; for (let j = 0; j < inD; j++) s += W[o * inD + j] * x[j]; return Math.tanh(s); }));
        const g = get(ts, `${li + 2}.weight`) as Float32Array, be = get(ts, `${li + 2}.bias`) as Float32Array;
        const next = h.map(() => new Float64Array(H));
        for (let c = 0; c < H; c++) {
          const mu = h.reduce((a, x) => a + x[c], 0) / 8, v = h.reduce((a, x) => a + (x[c] - mu) ** 2, 0) / 8;
          rm[k][c] = 0.9 * rm[k][c] + 0.1 * mu;
          rv[k][c] = 0.9 * rv[k][c] + 0.1 * v * 8 / 7;
          h.forEach((x, i) => { next[i][c] = g[c] * (x[c] - mu) / Math.sqrt(v + 1e-5) + be[c]; });
        }
        h = next;
      });
    }
    [3, 6].forEach((li, k) => {
      const m = get(ts, `${li}.running_mean`) as Float32Array, v = get(ts, `${li}.running_var`) as Float32Array;
      for (let c = 0; c < H; c++) {
        assert.ok(Math.abs(m[c] - rm[k][c]) < 1e-5, `step ${t} ${li}.running_mean[${c}] ${m[c]} vs ${rm[k][c]}`);
        assert.ok(Math.abs(v[c] - rv[k][c]) < 1e-5 * Math.max(1, rv[k][c]), `step ${t} ${li}.running_var[${c}] ${v[c]} vs ${rv[k][c]}`);
      }
      assert.is((get(ts, `${li}.num_batches_tracked`) as BigInt64Array)[0], BigInt(2 * (t + 1)));
    });
    assert.is(ckpt(out, t).metadata.bn_running_stats, undefined);
  }
});

test('a resumed run restores the running statistics: its checkpoints equal an uninterrupted run\'s bit for bit', () => {
  const whole = join(root, 'whole'), part = join(root, 'part');
  train(whole, STEPS + 1);
  train(part, STEPS);
  const r = spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', 'resume', part, '--max-steps', String(STEPS + 1)],
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, EOSLAB_RESULTS: root } });
  assert.is(r.status, 0, r.stderr);
  const full = ckpt(whole, STEPS + 1).tensors;
  for (const name of ['3.running_mean', '3.running_var', '6.running_var']) {
    assert.equal(Array.from(get(ckpt(part, STEPS + 1).tensors, name) as Float32Array), Array.from(get(full, name) as Float32Array));
  }
  assert.is((get(ckpt(part, STEPS + 1).tensors, '3.num_batches_tracked') as BigInt64Array)[0], BigInt(2 * (STEPS + 2)));
});

test.after(() => rmSync(root, { recursive: true, force: true }));
test.run();
