// The CPU half of `npm run bench`: eoslab's Wasm core (all cores, worker
// threads) against TF.js's wasm backend in the same process, on the same W
// (fc-tanh, N examples, same θ, v and data as the WebGPU half), plus the
// three dense-layer matmuls. It runs before any Dawn device exists in the
// process, so no busy-polling thread competes for the cores.
import { cpus } from 'node:os';
import type { MlpLayout } from './mlp-layout.js';
import { createNodeWasm } from '../hosts/node/wasm.js';
import { grad64, hvp64 } from '../tests/reference/mlp64.js';
import { fmt, relErr, syntheticData, type Target } from './common.js';
import { benchEoslab, CLASSES, D_IN, eoslabSmall, type EoslabResult } from './eoslab.js';
import { benchWasmMatmul, type WasmMatmul } from './wasm-matmul.js';
import { benchNumpyPeer, numpyPeerErrors, type NumpyPeerResult } from './numpy-peer.js';
import { benchTfjsWasm, benchTfjsWasmMatmul, loadTfjsWasm, tfjsWasmSmallErrors, unloadTfjsWasm, type TfBench, type TfjsWasmMatmul } from './tfjs-wasm.js';

/** PyTorch + OpenBLAS on a 2-core machine, as the issue quotes them (not measured here). */
export const PYTORCH_2CORE = { gradMs: 112, hvpMs: 251 };

export interface CpuBenchOptions {
  N: number;
  physicalBatch: number;
  reps: number;
  budgetMs: number;
  threads?: number;
  skipTfjs: boolean;
  skipNumpy: boolean;
  layout: MlpLayout;
  theta: Float32Array;
  v: Float32Array;
  small: { X: Float32Array; Y: Float32Array; N: number };
  log: (s: string) => void;
}

export interface CpuBench {
  report: Record<string, string | number | boolean | null>;
  lines: string[];
  targets: Target[];
  notes: string[];
}

export async function benchCpu(o: CpuBenchOptions): Promise<CpuBench> {
  const report: CpuBench['report'] = {};
  const notes: string[] = [];
  const m64 = { sizes: o.layout.spec.sizes, act: 'tanh' as const, bias: o.layout.spec.bias };
  const args64 = [m64, Float64Array.from(o.theta), Float64Array.from(o.small.X), Float64Array.from(o.small.Y), o.small.N, 'mse'] as const;
  const g64 = grad64(...args64), h64 = hvp64(...args64, Float64Array.from(o.v));

  // ---- eoslab Wasm ------------------------------------------------------------
  o.log(`  eoslab Wasm core (${o.threads ?? 'all'} threads): fc-tanh gradient and HVP`);
  const wasm = await createNodeWasm({ threads: o.threads });
  let eos: EoslabResult, mm: WasmMatmul[], errs: { grad: number; hvp: number };
  try {
    const s = await eoslabSmall(wasm, o.layout, o.small.X, o.small.Y, o.small.N, o.theta, o.v);
    errs = { grad: relErr(s.grad, g64), hvp: relErr(s.hvp, h64) };
    eos = await benchEoslab(wasm, { N: o.N, physicalBatch: o.physicalBatch, reps: o.reps, budgetMs: o.budgetMs, log: o.log });
    o.log('  Wasm matmul, three layouts');
    mm = benchWasmMatmul(wasm, { N: o.N, reps: o.reps });
  } finally {
    wasm.destroy();
  }
  Object.assign(report, {
    wasm_backend: wasm.description,
    wasm_threads: wasm.threads,
    wasm_grad_ms: eos.gradMs,
    wasm_hvp_ms: eos.hvpMs,
    wasm_hvp_over_grad: eos.hvpMs / eos.gradMs,
    wasm_grad_times_ms: eos.gradTimes.map((t) => t.toFixed(1)).join(' '),
    wasm_hvp_times_ms: eos.hvpTimes.map((t) => t.toFixed(1)).join(' '),
    wasm_loss: eos.loss,
    wasm_grad_rel_err_f64: errs.grad,
    wasm_hvp_rel_err_f64: errs.hvp,
  });
  for (const m of mm) {
    report[`wasm_matmul_gflops_${m.layout}`] = m.gflops;
    report[`wasm_matmul_ms_${m.layout}`] = m.ms;
  }

  // ---- TF.js wasm ---------------------------------------------------------------
  let tf: TfBench | null = null, tfMm: TfjsWasmMatmul | null = null, tfErr: { grad: number; hvp: number } | null = null;
  let tfDesc = '';
  if (!o.skipTfjs) {
    o.log('  TF.js wasm backend (same process, same W)');
    try {
      const t = await loadTfjsWasm();
      tfDesc = t.description;
      report.tfjs_wasm_backend = t.description;
      report.tfjs_wasm_threads = t.threads;
      try {
        const e = await tfjsWasmSmallErrors(t.tf, o.layout, o.small.X, o.small.Y, o.small.N, o.theta, o.v);
        tfErr = { grad: e.grad, hvp: e.hvp };
        if (!(e.hvp < 1e-3)) throw new Error(`TF.js wasm HVP disagrees with float64 (rel err ${e.hvp}); not timing it`);
        const big = syntheticData(o.N, D_IN, CLASSES, 2024);
        tf = await benchTfjsWasm(t.tf, o.layout, big.X, big.Y, o.N, o.theta, o.v, { reps: o.reps, budgetMs: o.budgetMs, log: o.log });
        tfMm = await benchTfjsWasmMatmul(t.tf, { N: o.N, reps: o.reps, log: o.log });
      } finally {
        unloadTfjsWasm(t.tf);
      }
    } catch (e) {
      o.log(`  TF.js wasm failed: ${(e as Error).stack ?? e}`);
      notes.push(`TF.js wasm failed: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  report.tfjs_wasm_grad_ms = tf?.gradMs ?? null;
  report.tfjs_wasm_hvp_ms = tf?.hvpMs ?? null;
  if (tfErr) { report.tfjs_wasm_grad_rel_err_f64 = tfErr.grad; report.tfjs_wasm_hvp_rel_err_f64 = tfErr.hvp; }
  if (tfMm) for (const l of ['ab', 'abt', 'atb'] as const) report[`tfjs_wasm_matmul_gflops_${l}`] = tfMm[l];
  if (tf) {
    report.speedup_wasm_grad_vs_tfjs_wasm = tf.gradMs / eos.gradMs;
    report.speedup_wasm_hvp_vs_tfjs_wasm = tf.hvpMs / eos.hvpMs;
  }
  // ---- NumPy + OpenBLAS ------------------------------------------------------------
  // The issue's PyTorch + OpenBLAS figure comes from another machine; NumPy on
  // OpenBLAS is the native peer measured here, on the same data, in this run.
  let np: NumpyPeerResult | null = null, npErr: { grad: number; hvp: number } | null = null;
  if (!o.skipNumpy) {
    o.log('  NumPy + OpenBLAS peer (python3, same W)');
    const big = syntheticData(o.N, D_IN, CLASSES, 2024);
    np = await benchNumpyPeer(o.layout, big.X, big.Y, o.N, o.theta, o.v, { reps: Math.max(o.reps, 5), log: o.log });
    if (np) npErr = await numpyPeerErrors(o.layout, o.small.X, o.small.Y, o.small.N, o.theta, o.v).catch(() => null);
    if (!np) notes.push('NumPy peer not measured (python3 with NumPy not found)');
  }
  report.numpy_grad_ms = np?.gradMs ?? null;
  report.numpy_hvp_ms = np?.hvpMs ?? null;
  if (np) {
    Object.assign(report, { numpy_threads: np.threads, numpy_blas: np.blas, numpy_version: np.numpy,
      wasm_grad_over_numpy: eos.gradMs / np.gradMs, wasm_hvp_over_numpy: eos.hvpMs / np.hvpMs });
  }
  if (npErr) { report.numpy_grad_rel_err_f64 = npErr.grad; report.numpy_hvp_rel_err_f64 = npErr.hvp; }
  report.wasm_grad_over_pytorch_2core = eos.gradMs / PYTORCH_2CORE.gradMs;
  report.wasm_hvp_over_pytorch_2core = eos.hvpMs / PYTORCH_2CORE.hvpMs;

  // ---- report ---------------------------------------------------------------------
  const lines: string[] = [];
  const vs = (a: number, c: number | null) => (c === null ? '—' : `${fmt(c, 0)} ms (eoslab ${(a / c).toFixed(2)}×)`);
  const row = (name: string, a: number, b: number | null, c: number | null, d: number) =>
    `${name.padEnd(16)} ${fmt(a).padStart(9)} ms  ${(b === null ? '—' : fmt(b)).padStart(10)} ms  ${(b === null ? '—' : (b / a).toFixed(1) + '×').padStart(8)}` +
    `   ${vs(a, c).padEnd(26)} ${vs(a, d)}`;
  lines.push(`CPU: ${cpus().length} cores (${cpus()[0]?.model.trim() ?? '?'}); N = ${o.N}, physical batch ${eos.physicalBatch}; median of ${o.reps} reps after a warm-up`);
  lines.push(`  eoslab: ${wasm.description}`);
  if (tfDesc) lines.push(`  peer:   ${tfDesc}`);
  if (np) lines.push(`  native: NumPy ${np.numpy} on ${np.blas}, ${np.threads} threads (python3; the stand-in for PyTorch + OpenBLAS)`);
  lines.push('');
  lines.push('                 eoslab wasm   TF.js wasm   speed-up   NumPy+OpenBLAS (here)      PyTorch+OpenBLAS (issue, 2 cores)');
  lines.push(row('gradient', eos.gradMs, tf?.gradMs ?? null, np?.gradMs ?? null, PYTORCH_2CORE.gradMs));
  lines.push(row('HVP', eos.hvpMs, tf?.hvpMs ?? null, np?.hvpMs ?? null, PYTORCH_2CORE.hvpMs));
  lines.push(`  eoslab wasm reps (ms): grad ${report.wasm_grad_times_ms}; HVP ${report.wasm_hvp_times_ms}; HVP/grad ${(eos.hvpMs / eos.gradMs).toFixed(2)}×`);
  lines.push(`  vs float64 (N = ${o.small.N}): eoslab wasm grad ${errs.grad.toExponential(2)}, HVP ${errs.hvp.toExponential(2)}` +
    (tfErr ? `; TF.js wasm grad ${tfErr.grad.toExponential(2)}, HVP ${tfErr.hvp.toExponential(2)}` : '') +
    (npErr ? `; NumPy grad ${npErr.grad.toExponential(2)}, HVP ${npErr.hvp.toExponential(2)}` : ''));
  lines.push('');
  lines.push('  matmul GFLOP/s       eoslab wasm   TF.js wasm');
  for (const m of mm) {
    lines.push(`  ${`${m.layout.padEnd(4)} ${m.M}×${m.N}×${m.L}`.padEnd(20)} ${m.gflops.toFixed(1).padStart(11)}   ${(tfMm ? tfMm[m.layout].toFixed(1) : '—').padStart(10)}`);
  }

  const targets: CpuBench['targets'] = [
    ['target_wasm_grad_10x_tfjs_met', 'Wasm gradient ≥ 10× faster than TF.js wasm', tf ? tf.gradMs / eos.gradMs >= 10 : null, tf ? `${(tf.gradMs / eos.gradMs).toFixed(1)}×` : 'not measured'],
    ['target_wasm_hvp_10x_tfjs_met', 'Wasm HVP ≥ 10× faster than TF.js wasm', tf ? tf.hvpMs / eos.hvpMs >= 10 : null, tf ? `${(tf.hvpMs / eos.hvpMs).toFixed(1)}×` : 'not measured'],
    ['target_wasm_grad_4x_pytorch_met', 'Wasm gradient within 4× of PyTorch+OpenBLAS (112 ms on 2 cores)', cpus().length === 2 && o.N === 5000 ? eos.gradMs <= 4 * PYTORCH_2CORE.gradMs : null,
      `${(eos.gradMs / PYTORCH_2CORE.gradMs).toFixed(2)}×${o.N !== 5000 ? ' (defined at N = 5000)' : ''}`],
    ['target_wasm_hvp_4x_pytorch_met', 'Wasm HVP within 4× of PyTorch+OpenBLAS (251 ms on 2 cores)', cpus().length === 2 && o.N === 5000 ? eos.hvpMs <= 4 * PYTORCH_2CORE.hvpMs : null,
      `${(eos.hvpMs / PYTORCH_2CORE.hvpMs).toFixed(2)}×${o.N !== 5000 ? ' (defined at N = 5000)' : ''}`],
    ['target_wasm_grad_4x_numpy_met', 'Wasm gradient within 4× of NumPy+OpenBLAS measured here', np ? eos.gradMs <= 4 * np.gradMs : null,
      np ? `${(eos.gradMs / np.gradMs).toFixed(2)}×` : 'not measured'],
    ['target_wasm_hvp_4x_numpy_met', 'Wasm HVP within 4× of NumPy+OpenBLAS measured here', np ? eos.hvpMs <= 4 * np.hvpMs : null,
      np ? `${(eos.hvpMs / np.hvpMs).toFixed(2)}×` : 'not measured'],
  ];
  for (const [key, , met] of targets) report[key] = met;
  return { report, lines, targets, notes };
}
