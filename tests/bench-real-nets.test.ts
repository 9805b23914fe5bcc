// bench/real-nets.ts on tiny settings (N = 4 or 2, physical batch 2 or 1,
// one rep; resnet20 and a 1/16-width vgg11 on 32×32 inputs): the Wasm core
// figures and the HVP's scratch reach the JSON; PyTorch (when a Python with
// torch is here) builds resnet20 from bench/torch_models.py and vgg11 from
// its nn.Sequential on eoslab's θ and gives eoslab's loss up to float32
// rounding; without a Vulkan driver the WebGPU half is skipped in one line;
// on WebGPU, a --webgpu-budget too small for all N times the first physical
// batch and scales (saying so), a large one times all N, and either way the
// WebGPU loss and gradient equal the Wasm core's on the same rows.
// Fails on the code before this change: no --json, no WebGPU half, no resnet
// in PyTorch.
// Tolerances: loss 1e-5, gradient 1e-4 relative (float32 engines summing in
// different orders).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKENDS } from './helpers/backends.js';

const dir = mkdtempSync(join(tmpdir(), 'eoslab-bench-real-'));
const NO_DRIVER = { ...process.env, VK_ICD_FILENAMES: join(dir, 'no-such-icd.json'), VK_DRIVER_FILES: '' };
const TINY = ['--reps', '1', '--threads', '1'];

function bench(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/real-nets.ts', ...TINY, ...args], { encoding: 'utf8', timeout: 180_000, env });
  assert.is(r.status, 0, r.stderr);
  assert.equal((r.stdout + r.stderr).split('\n').filter((l) => /^\s+at \S+ \(|^\s+at file:/.test(l)), [], 'no stack trace');
  return { out: r.stdout, err: r.stderr };
}
const read = (f: string) => JSON.parse(readFileSync(f, 'utf8'));

// The bench's own search ($EOSLAB_PYTHON, else python3, then /usr/bin/python3).
const hasTorch = (process.env.EOSLAB_PYTHON ? [process.env.EOSLAB_PYTHON] : ['python3', '/usr/bin/python3'])
  .some((py) => spawnSync(py, ['-c', 'import torch, numpy'], { encoding: 'utf8' }).status === 0);

test(`no Vulkan driver: Wasm figures and scratch in the JSON, WebGPU skipped in one line; PyTorch ${hasTorch ? 'gives eoslab\'s loss' : 'skipped (no torch here)'}`, () => {
  const f = join(dir, 'cpu.json');
  const r = bench(['--n', '4', '--batch', '2', '--nets', 'resnet20,vgg11:w0.0625', '--json', f], NO_DRIVER);
  const skips = r.err.split('\n').filter((l) => l.startsWith('WebGPU half skipped: '));
  assert.is(skips.length, 1, r.err);
  const j = read(f);
  assert.match(j.real_webgpu.skipped, /no WebGPU adapter/);
  for (const k of ['real_resnet20', 'real_vgg11_w0_0625']) {
    for (const x of ['wasm_grad_ms', 'wasm_hvp_ms', 'wasm_loss', 'hvp_scratch_mb', 'hvp_device_mb']) assert.type(j[`${k}_${x}`], 'number', `${k}_${x}`);
    assert.ok(j[`${k}_hvp_scratch_mb`] > 0 && j[`${k}_hvp_device_mb`] > j[`${k}_hvp_scratch_mb`], k);
    assert.is(j[`${k}_webgpu_grad_ms`], undefined, 'no WebGPU figure invented');
    if (!hasTorch) {
      assert.match(j[`${k}_torch`].skipped, /torch/);
      continue;
    }
    assert.type(j[`${k}_torch_grad_ms`], 'number', `${k}_torch_grad_ms`);
    assert.type(j[`${k}_torch_hvp_ms`], 'number', `${k}_torch_hvp_ms`);
    assert.ok(j[`${k}_torch_loss_rel_diff_vs_wasm`] < 1e-5, `${k}: PyTorch loss ${j[`${k}_torch_loss`]} vs Wasm ${j[`${k}_wasm_loss`]}`);
  }
  if (hasTorch) assert.match(j.real_resnet20_torch, /torch_models\.py resnet20/);
});

if (!BACKENDS.includes('webgpu')) {
  test('WebGPU half (skipped: EOSLAB_TEST_BACKENDS leaves WebGPU out)', () => {});
} else {
  test('WebGPU over budget: the first physical batch timed and scaled ×2, said so; loss and gradient = Wasm\'s on those rows', () => {
    const f = join(dir, 'scaled.json');
    const r = bench(['--n', '4', '--batch', '2', '--nets', 'resnet20', '--skip-torch', '--webgpu-budget', '0', '--json', f]);
    const j = read(f);
    assert.is(j.real_webgpu, undefined, r.err);
    assert.is(j.real_resnet20_webgpu_measured_n, 2);
    assert.is(j.real_resnet20_webgpu_scale, 2);
    assert.match(j.real_resnet20_webgpu_note, /NOT measured at N = 4: timed on 1 of 2 physical batches/);
    assert.match(r.out, /resnet20: WebGPU gradient .*measured on N = 2, ×2\.00/);
    assert.ok(j.real_resnet20_webgpu_grad_ms > 0 && j.real_resnet20_webgpu_hvp_ms > 0);
    assert.ok(j.real_resnet20_webgpu_hvp_scratch_mb > 0);
    assert.ok(j.real_resnet20_webgpu_loss_rel_diff_vs_wasm < 1e-5, `loss rel diff ${j.real_resnet20_webgpu_loss_rel_diff_vs_wasm}`);
    assert.ok(j.real_resnet20_webgpu_grad_rel_err_vs_wasm < 1e-4, `gradient rel err ${j.real_resnet20_webgpu_grad_rel_err_vs_wasm}`);
    // Over the first 2 rows, not all 4: the Wasm loss over all 4 is another number.
    assert.not.equal(j.real_resnet20_webgpu_loss, j.real_resnet20_wasm_loss);
  });

  test('WebGPU within budget: all N timed, nothing scaled; loss and gradient = Wasm\'s full-batch ones', () => {
    const f = join(dir, 'full.json');
    bench(['--n', '2', '--batch', '1', '--nets', 'vgg11:w0.0625', '--skip-torch', '--webgpu-budget', '600', '--json', f]);
    const j = read(f), k = 'real_vgg11_w0_0625';
    assert.is(j[`${k}_webgpu_measured_n`], 2);
    assert.is(j[`${k}_webgpu_scale`], 1);
    assert.is(j[`${k}_webgpu_note`], undefined);
    assert.ok(Math.abs(j[`${k}_webgpu_loss`] - j[`${k}_wasm_loss`]) <= 1e-5 * Math.abs(j[`${k}_wasm_loss`]));
    assert.ok(j[`${k}_webgpu_grad_rel_err_vs_wasm`] < 1e-4, `gradient rel err ${j[`${k}_webgpu_grad_rel_err_vs_wasm`]}`);
  });
}

test.run();
