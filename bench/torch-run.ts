// Drives bench/torch_peer.py for any eoslab model (its nn.Sequential layers
// go in the spec, so PyTorch builds the same network with θ's slices as its
// state dict; a ResNet, not one flat Sequential, names its module in
// bench/torch_models.py instead) on a chosen device: full-batch gradient and
// HVP timings, the small-problem check, or a sequential learning-rate sweep.
// The interpreter is the one bench/cnn-torch.ts finds ($EOSLAB_PYTHON,
// python3, /usr/bin/python3: the first that imports torch and numpy).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Model } from '../core/ts/nn/model.js';
import { findTorchPython, type TorchPeerJson } from './cnn-torch.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'torch_peer.py');

export type TorchDevice = 'cpu' | 'cuda';

export interface TorchRunJson extends TorchPeerJson {
  device: string;
  device_name: string | null;
  sweep_ms?: number;
  sweep_member_ms?: number[];
  sweep_final_loss?: number[];
}

export interface TorchRunOptions {
  device: TorchDevice;
  /** A bench/torch_models.py module (resnet20, resnet32) instead of the model's nn.Sequential; θ loads by its names. */
  module?: string;
  /** Physical batch (rows per forward/backward pass). */
  B: number;
  threads: number;
  /** Let cuDNN and cuBLAS use TF32 (PyTorch's default for convolutions on Ampere and later); off: strict fp32. */
  tf32?: boolean;
  /** Timed reps of gradient and HVP (0: none), within budgetS seconds. */
  reps?: number;
  budgetS?: number;
  theta?: Float32Array;
  v?: Float32Array;
  /** Read the gradient and HVP back (and PyTorch's own float32-vs-float64 errors with check64). */
  check?: boolean;
  check64?: boolean;
  /** K GD runs one after another: member k starts from theta0[k·P, (k+1)·P) with lrs[k]. */
  sweep?: { lrs: number[]; steps: number; theta0: Float32Array };
  /** Kills the peer after this long (ms; 0: never). */
  timeoutMs?: number;
}

const f32bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

export async function runTorch(m: Model, X: Float32Array, Y: Float32Array, N: number, o: TorchRunOptions):
  Promise<{ json: TorchRunJson; grad?: Float32Array; hvp?: Float32Array; python: string }> {
  const { python, why } = await findTorchPython();
  if (!python) throw new Error(why);
  const dir = mkdtempSync(join(tmpdir(), 'eoslab-torch-'));
  try {
    const file = (k: string, a: Float32Array) => { const p = join(dir, `${k}.f32`); writeFileSync(p, f32bytes(a)); return p; };
    const zeros = new Float32Array(m.P);
    const spec = {
      params: m.params.map((p) => ({ name: p.name, shape: p.shape, off: p.off })), P: m.P, torch: m.layers.map((l) => l.torch), module: o.module,
      in_shape: m.inShape, classes: m.outShape[0], n: N, physical_batch: o.B, reps: o.reps ?? 0, threads: o.threads, tf32: o.tf32 ?? false,
      budget_s: o.budgetS ?? 120, x: file('x', X), y: file('y', Y), theta: file('theta', o.theta ?? zeros), v: file('v', o.v ?? zeros),
      check: o.check ? join(dir, 'out') : undefined, check64: o.check64 ?? false,
      sweep: o.sweep ? { lrs: o.sweep.lrs, steps: o.sweep.steps, theta0: file('theta0', o.sweep.theta0) } : undefined,
    };
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
    // OMP_NUM_THREADS too: torch.set_num_threads sets intra-op threads, OpenMP's pool follows it.
    const out = await new Promise<string>((resolve, reject) => {
      execFile(python, [SCRIPT, '--device', o.device, join(dir, 'spec.json')],
        { maxBuffer: 1 << 24, timeout: o.timeoutMs ?? 0, env: { ...process.env, OMP_NUM_THREADS: String(o.threads) } },
        (e, stdout, stderr) => (e ? reject(new Error(`${python} torch_peer.py --device ${o.device} failed: ${(stderr || e.message).trim().split('\n').slice(-1)[0]}`)) : resolve(stdout)));
    });
    const json = JSON.parse(out.trim().split('\n').pop() ?? '') as TorchRunJson;
    if (!o.check) return { json, python };
    const read = (name: string) => { const b = readFileSync(join(dir, name)); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); };
    return { json, grad: read('out.grad.f32'), hvp: read('out.hvp.f32'), python };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
