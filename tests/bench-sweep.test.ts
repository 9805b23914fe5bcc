// The sweep benchmark and the GPU bench pack's scripts, on tiny settings:
// the bench's batched and one-after-another runs must end at the same
// losses (and with --catapult its lockstep and one-at-a-time eigen-solves the
// same rows), PyTorch's sequential sweep (the new torch_peer.py mode) must train
// the same model as eoslab, and every refusal is one line naming the fix.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tmp = mkdtempSync(join(tmpdir(), 'eoslab-bench-sweep-'));
const bench = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'bench/sweep.ts', ...args], { encoding: 'utf8', timeout: 180_000 });

test('bench:sweep on a tiny sweep: batched equals one after another, PyTorch trains the same model, keys present', () => {
  const out = join(tmp, 'sweep.json');
  const r = bench(['--skip-webgpu', '--skip-fctanh', '--k', '3', '--small-steps', '3', '--threads', '1', '--json', out]);
  assert.is(r.status, 0, r.stderr);
  const j = JSON.parse(readFileSync(out, 'utf8'));
  for (const k of ['sweep_small_speedup_wasm', 'sweep_small_batched_grad_ms_wasm', 'sweep_small_ops_per_step_batched_wasm', 'sweep_small_cli_speedup_wasm']) assert.type(j[k], 'number', k);
  assert.is(j.sweep_small_batched_equals_sequential_wasm, true);
  assert.is(j.sweep_small_members_finished_wasm, 3);
  // 3 members, each with its own copy-in, copy-out, ‖g‖ and update: the per-member ops the README's proposal removes.
  assert.ok(j.sweep_small_ops_per_step_batched_wasm > j.sweep_small_ops_per_step_single_wasm, 'batched step counts its per-member ops');
  if (typeof j.sweep_small_torch_cpu === 'object') {
    assert.match(j.sweep_small_torch_cpu.skipped, /python|torch/); // no torch here: skipped with its reason
  } else {
    // Same θ₀, η, data and steps: PyTorch's nn.Sequential built from eoslab's layers ends at the same loss up to float32 rounding.
    assert.ok(j.sweep_small_torch_cpu_vs_wasm_final_loss_rel_diff < 1e-4, `rel diff ${j.sweep_small_torch_cpu_vs_wasm_final_loss_rel_diff}`);
  }
});

test('bench:sweep --catapult on a tiny group: lockstep and one member at a time record the same rows, with fewer HVP dispatches in lockstep', () => {
  const out = join(tmp, 'catapult.json');
  const r = bench(['--catapult', '--quick', '--skip-webgpu', '--k', '3', '--threads', '1', '--json', out]);
  assert.is(r.status, 0, r.stderr);
  const j = JSON.parse(readFileSync(out, 'utf8'));
  for (const k of ['sweep_catapult_lockstep_s_wasm', 'sweep_catapult_one_at_a_time_s_wasm', 'sweep_catapult_speedup_wasm', 'sweep_catapult_load_wasm']) assert.type(j[k], 'number', k);
  assert.is(j.sweep_catapult_equal_wasm, true);
  // One member at a time: one product per HVP asked for; in lockstep fewer, the waiting members' HVPs going out together.
  assert.is(j.sweep_catapult_hvp_calls_one_at_a_time_wasm, j.sweep_catapult_hvps_wasm);
  assert.ok(j.sweep_catapult_hvp_calls_lockstep_wasm < j.sweep_catapult_hvps_wasm, `${j.sweep_catapult_hvp_calls_lockstep_wasm} dispatches in lockstep`);
});

test('bench:sweep refuses bad options in one line naming the fix', () => {
  for (const [args, re] of [[['--k', '0'], /--k 0 is not a positive integer: pass e\.g\. --k 16/], [['--k', '65'], /at most 64/],
    [['--torch-device', 'tpu'], /--torch-device takes cpu or cuda/]] as [string[], RegExp][]) {
    const r = bench(['--skip-webgpu', ...args]);
    assert.is(r.status, 1);
    assert.match(r.stderr, re);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('the pack scripts are valid bash and refuse unknown options in one line', () => {
  for (const f of ['scripts/bench-pack.sh', 'bench/pack-run.sh']) {
    assert.is(spawnSync('bash', ['-n', f]).status, 0, `${f} parses`);
    const r = spawnSync('bash', [f, '--bogus'], { encoding: 'utf8', env: { ...process.env, PATH: process.env.PATH } });
    assert.is(r.status, 1);
    assert.match(r.stderr.trim(), /unknown option '--bogus': use /);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test.run();
