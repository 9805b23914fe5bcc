// A native-BLAS peer of eoslab: the same full-batch gradient and exact HVP
// (R-operator) of fc-tanh/MSE in float32 NumPy, whose matmuls go to the BLAS
// NumPy links (OpenBLAS in the PyPI wheels, all cores by default). It stands
// in for the issue's "PyTorch + OpenBLAS" target (112 ms gradient, 251 ms HVP
// on a 2-core machine), measured on the same machine in the same run.
//
// The data, θ and v are eoslab's own (written as raw float32 to a temp dir
// and read by bench/numpy_peer.py), so every peer sees the same problem. The
// Python side times a median of `reps` reps after one warm-up
// (time.perf_counter); Python's start-up and the file transfer are not timed.
// `python3` (or $EOSLAB_PYTHON) without NumPy: benchNumpyPeer answers null
// with a logged reason, so the bench still runs.
//
// Standalone: `node --import tsx bench/numpy-peer.ts [--n 5000] [--reps 3]`
// prints the small-problem errors against float64 and the timings.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { MlpLayout } from './mlp-layout.js';
import { grad64, hvp64 } from '../tests/reference/mlp64.js';
import { fmt, relErr, syntheticData } from './common.js';
import { benchLayout, benchParams, CLASSES, D_IN } from './eoslab.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'numpy_peer.py');
const PYTHON = process.env.EOSLAB_PYTHON || 'python3';

export interface NumpyPeerResult {
  gradMs: number;
  hvpMs: number;
  loss: number;
  /** OpenBLAS's thread count as the library reports it (else os.cpu_count() of Python). */
  threads: number;
  /** e.g. "OpenBLAS 0.3.31.188.0" (+ the core OpenBLAS picked, e.g. " (SkylakeX)"). */
  blas: string;
  gradTimes: number[];
  hvpTimes: number[];
  numpy: string;
}

interface PeerJson {
  grad_ms: number | null; hvp_ms: number | null; loss: number; threads: number; threads_source: string;
  blas: string | null; blas_core: string | null; numpy: string; grad_times_ms: number[]; hvp_times_ms: number[];
}

const f32bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Runs numpy_peer.py on eoslab's inputs in a fresh temp dir; `check` also reads back grad and Hv. */
async function runPeer(layout: MlpLayout, X: Float32Array, Y: Float32Array, N: number, theta: Float32Array, v: Float32Array,
                       reps: number, check: boolean): Promise<{ json: PeerJson; grad?: Float32Array; hvp?: Float32Array }> {
  const sizes = layout.spec.sizes;
  if (!layout.spec.bias || layout.layers.some((l, i) => l.act !== (i === layout.layers.length - 1 ? 'identity' : 'tanh'))) {
    throw new Error('numpy peer: only tanh MLPs with biases (fc-tanh) are implemented');
  }
  if (X.length !== N * sizes[0] || Y.length !== N * sizes[sizes.length - 1] || theta.length !== layout.P || v.length !== layout.P) {
    throw new Error('numpy peer: input sizes do not match the layout');
  }
  const dir = mkdtempSync(join(tmpdir(), 'eoslab-numpy-'));
  try {
    const files = { x: X, y: Y, theta, v };
    const args = [SCRIPT, '--sizes', sizes.join(','), '--n', String(N), '--reps', String(reps)];
    for (const [k, a] of Object.entries(files)) {
      writeFileSync(join(dir, `${k}.f32`), f32bytes(a));
      args.push(`--${k}`, join(dir, `${k}.f32`));
    }
    if (check) args.push('--check', join(dir, 'out'));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(PYTHON, args, { maxBuffer: 1 << 24 }, (err, out, errOut) => {
        if (err) {
          const e = err as NodeJS.ErrnoException;
          reject(new Error(e.code === 'ENOENT' ? `${PYTHON} not found`
            : `${PYTHON} ${SCRIPT} failed: ${(errOut || e.message).trim().split('\n').slice(-1)[0]}`));
        } else resolve(out);
      });
    });
    const line = stdout.trim().split('\n').pop() ?? '';
    const json = JSON.parse(line) as PeerJson;
    if (!check) return { json };
    const read = (name: string) => {
      const b = readFileSync(join(dir, name));
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    return { json, grad: read('out.grad.f32'), hvp: read('out.hvp.f32') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Times NumPy's full-batch gradient and HVP (median of `reps` after a
 * warm-up) on the given problem. null, with the reason logged, when python3
 * or NumPy is missing or the script fails.
 */
export async function benchNumpyPeer(layout: MlpLayout, X: Float32Array, Y: Float32Array, N: number, theta: Float32Array, v: Float32Array,
                                     opts: { reps: number; log: (s: string) => void }): Promise<NumpyPeerResult | null> {
  let json: PeerJson;
  try {
    ({ json } = await runPeer(layout, X, Y, N, theta, v, Math.max(1, opts.reps), false));
  } catch (e) {
    opts.log(`  numpy peer skipped: ${(e as Error).message}`);
    return null;
  }
  return {
    gradMs: json.grad_ms!, hvpMs: json.hvp_ms!, loss: json.loss, threads: json.threads,
    blas: `${json.blas ?? 'unknown BLAS'}${json.blas_core ? ` (${json.blas_core})` : ''}`,
    gradTimes: json.grad_times_ms, hvpTimes: json.hvp_times_ms, numpy: json.numpy,
  };
}

/**
 * Relative errors ‖a − b‖∞/‖b‖∞ of NumPy's float32 gradient and HVP against
 * the float64 reference (tests/reference/mlp64.ts) on a small problem.
 * Throws when python3/NumPy is missing (benchNumpyPeer tells that first).
 */
export async function numpyPeerErrors(layout: MlpLayout, Xsmall: Float32Array, Ysmall: Float32Array, Nsmall: number,
                                      theta: Float32Array, v: Float32Array): Promise<{ grad: number; hvp: number }> {
  const { grad, hvp } = await runPeer(layout, Xsmall, Ysmall, Nsmall, theta, v, 0, true);
  const m64 = { sizes: layout.spec.sizes, act: 'tanh' as const, bias: true };
  const th = Float64Array.from(theta), X = Float64Array.from(Xsmall), Y = Float64Array.from(Ysmall);
  return {
    grad: relErr(grad!, grad64(m64, th, X, Y, Nsmall, 'mse')),
    hvp: relErr(hvp!, hvp64(m64, th, X, Y, Nsmall, 'mse', Float64Array.from(v))),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { n: { type: 'string', default: '5000' }, reps: { type: 'string', default: '3' }, 'small-n': { type: 'string', default: '64' } } });
  const N = Number(values.n), reps = Number(values.reps), SMALL_N = Number(values['small-n']);
  const log = (s: string) => console.error(s);
  const layout = benchLayout();
  const { theta, v } = benchParams(layout);
  const big = syntheticData(N, D_IN, CLASSES, 2024);
  const res = await benchNumpyPeer(layout, big.X, big.Y, N, theta, v, { reps, log });
  if (!res) process.exit(1);
  const small = syntheticData(SMALL_N, D_IN, CLASSES, 99);
  const err = await numpyPeerErrors(layout, small.X, small.Y, SMALL_N, theta, v);
  console.log(`numpy peer: NumPy ${res.numpy}, ${res.blas}, ${res.threads} BLAS threads`);
  console.log(`  small problem (N = ${SMALL_N}) vs float64: grad rel err ${err.grad.toExponential(2)}, HVP rel err ${err.hvp.toExponential(2)}`);
  console.log(`  N = ${N}: gradient ${fmt(res.gradMs)} ms [${res.gradTimes.map((t) => t.toFixed(1)).join(' ')}], ` +
    `HVP ${fmt(res.hvpMs)} ms [${res.hvpTimes.map((t) => t.toFixed(1)).join(' ')}], HVP/grad ${(res.hvpMs / res.gradMs).toFixed(2)}, loss ${res.loss.toFixed(6)}`);
}
