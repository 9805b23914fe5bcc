// PyTorch CPU as the native peer of the CNN bench: bench/torch_peer.py on the
// same θ, v and data as eoslab (raw float32 files in a temp dir, described by
// a JSON spec), physical batches of B, a fixed thread count. The interpreter:
// $EOSLAB_PYTHON, else the first of `python3` (PATH) and /usr/bin/python3
// that imports torch (a pyenv python3 first on PATH often has no torch while
// Debian's python3-torch lives under /usr/bin). Without one, the peer answers
// null with the reason and the bench goes on.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Model } from '../core/ts/nn/model.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'torch_peer.py');

function exec(cmd: string, args: string[], timeoutMs = 0): Promise<{ ok: boolean; out: string; err: string; code: string | number | null }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 1 << 24, timeout: timeoutMs }, (e, out, err) => {
      const ee = e as (NodeJS.ErrnoException & { code?: string | number }) | null;
      resolve({ ok: !e, out, err, code: ee ? ee.code ?? null : 0 });
    });
  });
}

let pythonFound: Promise<{ python: string | null; why: string }> | null = null;

/** The first interpreter that imports torch, with its version; or null and why. */
export function findTorchPython(): Promise<{ python: string | null; why: string }> {
  return (pythonFound ??= (async () => {
    const candidates = process.env.EOSLAB_PYTHON ? [process.env.EOSLAB_PYTHON] : ['python3', '/usr/bin/python3'];
    const tried: string[] = [];
    for (const py of candidates) {
      const r = await exec(py, ['-c', 'import torch, numpy; print(torch.__version__)'], 60_000);
      if (r.ok) return { python: py, why: `${py} (torch ${r.out.trim()})` };
      tried.push(`${py}: ${r.code === 'ENOENT' ? 'not found' : (r.err.trim().split('\n').pop() ?? 'failed')}`);
    }
    return { python: null, why: `no python with torch and numpy (${tried.join('; ')}); set EOSLAB_PYTHON` };
  })());
}

export interface TorchPeerJson {
  torch: string; threads: number; n: number; physical_batch: number; mkldnn: boolean; blas: string | null;
  grad_ms?: number; hvp_ms?: number; grad_times_ms?: number[]; hvp_times_ms?: number[]; grad_warm_ms?: number; hvp_warm_ms?: number;
  loss?: number; reps?: number; self_grad_rel_err_f64?: number; self_hvp_rel_err_f64?: number;
}

const f32bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/**
 * Runs torch_peer.py: timing (`reps` > 0, median after a warm-up, within
 * `budgetS`) and/or, with `check`, the gradient and HVP read back (and
 * PyTorch's own float32-vs-float64 errors with `check64`).
 */
export async function runTorchPeer(m: Model, X: Float32Array, Y: Float32Array, N: number, theta: Float32Array, v: Float32Array,
                                   o: { B: number; reps: number; threads: number; budgetS: number; check?: boolean; check64?: boolean }):
  Promise<{ json: TorchPeerJson; grad?: Float32Array; hvp?: Float32Array; python: string }> {
  const { python, why } = await findTorchPython();
  if (!python) throw new Error(why);
  const dir = mkdtempSync(join(tmpdir(), 'eoslab-torch-'));
  try {
    const file = (k: string, a: Float32Array) => { const p = join(dir, `${k}.f32`); writeFileSync(p, f32bytes(a)); return p; };
    const spec = {
      params: m.params.map((p) => ({ name: p.name, shape: p.shape, off: p.off })), P: m.P,
      in_shape: m.inShape, classes: m.outShape[0], n: N, physical_batch: o.B, reps: o.reps, threads: o.threads,
      budget_s: o.budgetS, x: file('x', X), y: file('y', Y), theta: file('theta', theta), v: file('v', v),
      check: o.check ? join(dir, 'out') : undefined, check64: o.check64 ?? false,
    };
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
    // OMP_NUM_THREADS too: torch.set_num_threads sets intra-op threads, OpenMP's pool follows it.
    const r = await new Promise<string>((resolve, reject) => {
      execFile(python, [SCRIPT, join(dir, 'spec.json')], { maxBuffer: 1 << 24, env: { ...process.env, OMP_NUM_THREADS: String(o.threads) } },
        (e, out, err) => (e ? reject(new Error(`${python} torch_peer.py failed: ${(err || e.message).trim().split('\n').slice(-1)[0]}`)) : resolve(out)));
    });
    const json = JSON.parse(r.trim().split('\n').pop() ?? '') as TorchPeerJson;
    if (!o.check) return { json, python };
    const read = (name: string) => { const b = readFileSync(join(dir, name)); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); };
    return { json, grad: read('out.grad.f32'), hvp: read('out.hvp.f32'), python };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
