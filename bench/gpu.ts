// The WebGPU half of `npm run bench`: matmul throughput per kernel variant
// (child processes), eoslab's full-batch gradient and exact HVP on Dawn, and
// TF.js's WebGPU backend on the same adapter. Every stage writes its figures
// into the report and saves it before the next begins, so a stage that fails
// later loses nothing measured earlier.
import { cpus } from 'node:os';
import { createNodeGpu, isCpuAdapter, nodeGpuInstance } from '../hosts/node/device.js';
import { hvp64 } from '../tests/reference/mlp64.js';
import { fmt, MiB, oneLine, relErr, syntheticData, type JsonReport, type Target } from './common.js';
import { benchEoslab, CLASSES, D_IN, eoslabSmall, type EoslabResult } from './eoslab.js';
import { benchMatmul, type LayoutResult } from './matmul.js';
import type { MlpLayout } from './mlp-layout.js';
import { benchTfjs, loadTfjs, tfSmall, unloadTfjs, type TfBench } from './tfjs.js';

export interface GpuBenchOptions {
  N: number;
  physicalBatch: number;
  reps: number;
  budgetMs: number;
  quick: boolean;
  variantTimeoutMs: number;
  skipMatmul: boolean;
  skipTfjs: boolean;
  layout: MlpLayout;
  theta: Float32Array;
  v: Float32Array;
  small: { X: Float32Array; Y: Float32Array; N: number };
  driverNote: string;
  json: JsonReport;
  log: (s: string) => void;
  elapsed: () => string;
}

export interface GpuBench {
  /** The printed table (adapter, timings, correctness, memory, matmul, autotune). */
  lines: string[];
  targets: Target[];
  notes: string[];
  cpuLike: boolean;
}

export async function benchGpu(o: GpuBenchOptions): Promise<GpuBench> {
  const { N, reps, layout, theta, v, small, log, elapsed } = o;
  const report = o.json.data;
  const notes: string[] = [];
  const SMALL_N = small.N;

  // ---- matmul variants (child processes, no device held here meanwhile) -------
  let matmul: LayoutResult[] = [];
  if (!o.skipMatmul) {
    log(`[${elapsed()}] matmul variants (each in a child process, timeout ${o.variantTimeoutMs / 1000} s)`);
    const r = await benchMatmul({ Nb: N, reps, budgetMs: o.quick ? 4000 : 8000, timeoutMs: o.variantTimeoutMs, log });
    matmul = r.layouts;
    if (r.adapter) report.adapter = r.adapter;
    for (const l of matmul) {
      report[`matmul_gflops_${l.layout}`] = l.best?.gflops ?? null;
      report[`matmul_best_${l.layout}`] = l.best?.variant ?? null;
      report[`matmul_shape_${l.layout}`] = `M=${l.M} N=${l.N} L=${l.L}`;
      for (const x of l.variants) {
        report[`matmul_ms_${l.layout} ${x.variant}`] = x.ms;
        if (x.skipped) report[`matmul_skipped_${l.layout} ${x.variant}`] = x.skipped;
      }
    }
    o.json.save();
  }

  // ---- eoslab ------------------------------------------------------------------
  log(`[${elapsed()}] eoslab: fc-tanh gradient and HVP`);
  let eos: EoslabResult;
  let eosSmall: Awaited<ReturnType<typeof eoslabSmall>>;
  let cpuLike = false;
  {
    const gpu = await createNodeGpu({ backend: { tuneCache: new Map() } }); // fresh autotune, not the per-adapter cache
    try {
      report.adapter = gpu.backend.description;
      cpuLike = isCpuAdapter(gpu.adapterInfo);
      eos = await benchEoslab(gpu.backend, { N, physicalBatch: o.physicalBatch, reps, budgetMs: o.budgetMs, log });
      eosSmall = await eoslabSmall(gpu.backend, layout, small.X, small.Y, SMALL_N, theta, v);
    } finally {
      gpu.backend.destroy(); // Dawn busy-polls a core while a device lives
    }
  }
  const gradMs = eos.gradMs, hvpMs = eos.hvpMs;
  const ratio = hvpMs / gradMs;
  const residentMiB = eos.mem.dataBytes / MiB;
  const hvpMiB = eos.mem.totalBytes / MiB;
  Object.assign(report, {
    grad_ms: gradMs,
    hvp_ms: hvpMs,
    hvp_over_grad: ratio,
    grad_times_ms: eos.gradTimes.map((t) => t.toFixed(1)).join(' '),
    hvp_times_ms: eos.hvpTimes.map((t) => t.toFixed(1)).join(' '),
    loss: eos.loss,
    tune_ms: eos.tuneMs,
    hvp_device_mb: hvpMiB,
    resident_data_mb: residentMiB,
    hvp_device_over_data: hvpMiB / residentMiB,
    hvp_scratch_mb: eos.mem.scratchBytes / MiB,
    hvp_vectors_mb: eos.mem.vectorBytes / MiB,
  });
  for (const [k, id] of eos.choices) report[`autotune ${k}`] = id;
  o.json.save();
  log(`[${elapsed()}] float64 reference HVP on the small problem (N = ${SMALL_N})`);
  const m64 = { sizes: layout.spec.sizes, act: 'tanh' as const, bias: true };
  const hvpRef64 = hvp64(m64, Float64Array.from(theta), Float64Array.from(small.X), Float64Array.from(small.Y), SMALL_N, 'mse', Float64Array.from(v));
  const eosHvpErr64 = relErr(eosSmall.hvp, hvpRef64);
  report.eoslab_hvp_rel_err_f64 = eosHvpErr64;
  o.json.save();

  // ---- TF.js webgpu --------------------------------------------------------------
  let tfb: TfBench | null = null;
  let tfErr: { grad: number; hvp: number; hvpBuiltinTanh: number } | null = null;
  if (!o.skipTfjs) {
    log(`[${elapsed()}] TF.js webgpu on the same Dawn instance`);
    try {
      const { tf, device, description } = await loadTfjs(nodeGpuInstance()!);
      report.tfjs_adapter = description;
      try {
        const fixed = await tfSmall(tf, layout, small.X, small.Y, SMALL_N, theta, v, true);
        const builtin = await tfSmall(tf, layout, small.X, small.Y, SMALL_N, theta, v, false);
        tfErr = { grad: relErr(fixed.grad, eosSmall.grad), hvp: relErr(fixed.hvp, eosSmall.hvp), hvpBuiltinTanh: relErr(builtin.hvp, eosSmall.hvp) };
        report.tfjs_grad_rel_err = tfErr.grad;
        report.tfjs_hvp_rel_err = tfErr.hvp;
        report.tfjs_hvp_rel_err_builtin_tanh = tfErr.hvpBuiltinTanh;
        log(`  small-problem check vs eoslab: grad rel err ${tfErr.grad.toExponential(2)}, HVP rel err ${tfErr.hvp.toExponential(2)} ` +
          `(with TF.js's built-in tanh gradient: ${tfErr.hvpBuiltinTanh.toExponential(2)})`);
        if (!(tfErr.hvp < 1e-3)) throw new Error(`TF.js HVP disagrees with eoslab (rel err ${tfErr.hvp}); not timing it`);
        const big = syntheticData(N, D_IN, CLASSES, 2024);
        tfb = await benchTfjs(tf, device, layout, big.X, big.Y, N, theta, v, { reps, budgetMs: o.budgetMs, log });
      } finally {
        unloadTfjs(tf, device);
      }
    } catch (e) {
      log(`  TF.js webgpu failed: ${oneLine(e)}`);
      notes.push(`TF.js webgpu failed: ${oneLine(e)}`);
    }
  }
  if (tfb) {
    Object.assign(report, {
      tfjs_webgpu_grad_ms: tfb.gradMs,
      tfjs_webgpu_hvp_ms: tfb.hvpMs,
      tfjs_grad_times_ms: tfb.gradTimes.map((t) => t.toFixed(1)).join(' '),
      tfjs_hvp_times_ms: tfb.hvpTimes.map((t) => t.toFixed(1)).join(' '),
      tfjs_loss: tfb.loss,
      tfjs_leaked_tensors: tfb.leakedTensors,
      speedup_grad_vs_tfjs: tfb.gradMs / gradMs,
      speedup_hvp_vs_tfjs: tfb.hvpMs / hvpMs,
    });
  } else {
    report.tfjs_webgpu_grad_ms = null;
    report.tfjs_webgpu_hvp_ms = null;
  }

  // Targets.
  const desc = String(report.adapter ?? '');
  const lavapipe = /llvmpipe|lavapipe/i.test(desc), swiftshader = /swiftshader/i.test(desc);
  const matmulTarget = lavapipe ? 5 : swiftshader ? 1.5 : null;
  const minMatmul = matmul.length ? Math.min(...matmul.map((l) => l.best?.gflops ?? 0)) : null;
  const targets: Target[] = [
    ['target_hvp_over_grad_met', 'hvp_over_grad ≤ 2.5', ratio <= 2.5, `${ratio.toFixed(2)}×`],
    ['target_grad_2x_tfjs_met', 'grad ≥ 2× faster than TF.js', tfb ? tfb.gradMs / gradMs >= 2 : null, tfb ? `${(tfb.gradMs / gradMs).toFixed(2)}×` : 'not measured'],
    ['target_hvp_2x_tfjs_met', 'HVP ≥ 2× faster than TF.js', tfb ? tfb.hvpMs / hvpMs >= 2 : null, tfb ? `${(tfb.hvpMs / hvpMs).toFixed(2)}×` : 'not measured'],
    ['target_matmul_met', `matmul ≥ ${matmulTarget ?? '?'} GFLOP/s (every layout, best variant)`, matmulTarget !== null && minMatmul !== null ? minMatmul >= matmulTarget : null,
      minMatmul !== null ? `min ${minMatmul.toFixed(2)} GFLOP/s` : 'not measured'],
    // Defined at N = 5000: with --quick's N = 1000 the data is 5× smaller, the scratch is not.
    ['target_memory_met', 'HVP device memory ≤ 1.5× resident data', o.quick ? null : hvpMiB / residentMiB <= 1.5,
      `${(hvpMiB / residentMiB).toFixed(2)}×${o.quick ? ' (target defined at N = 5000)' : ''}`],
  ];
  for (const [key, , met] of targets) report[key] = met;
  o.json.save();

  const out: string[] = [];
  out.push('');
  out.push(`adapter: ${report.adapter}`);
  out.push(`driver:  ${o.driverNote}; node ${process.version}; ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`);
  out.push(`problem: fc-tanh [3072, 200, 200, 10] + bias, MSE, N = ${N} synthetic CIFAR-shaped examples, physical batch ${eos.physicalBatch}` +
    `; times = median of ${reps} reps after a warm-up, each rep = encode full-batch op + await loss read-back`);
  out.push('');
  out.push('                       eoslab        TF.js webgpu   TF.js / eoslab');
  const row = (name: string, a: number, b: number | null) =>
    `${name.padEnd(22)} ${fmt(a).padStart(9)} ms  ${(b === null ? '—' : fmt(b)).padStart(10)} ms   ${b === null ? '—' : (b / a).toFixed(2) + '×'}`;
  out.push(row('gradient', gradMs, tfb?.gradMs ?? null));
  out.push(row('HVP', hvpMs, tfb?.hvpMs ?? null));
  out.push(`${'HVP / gradient'.padEnd(22)} ${ratio.toFixed(2).padStart(9)}×    ${(tfb ? (tfb.hvpMs / tfb.gradMs).toFixed(2) : '—').padStart(10)}×`);
  out.push(`  eoslab reps (ms): grad ${report.grad_times_ms}; HVP ${report.hvp_times_ms}; warm-ups ${fmt(eos.gradWarmMs)} / ${fmt(eos.hvpWarmMs)}; autotune ${fmt(eos.tuneMs)} ms`);
  if (tfb) out.push(`  TF.js reps (ms):  grad ${report.tfjs_grad_times_ms}; HVP ${report.tfjs_hvp_times_ms}; warm-ups ${fmt(tfb.gradWarmMs)} / ${fmt(tfb.hvpWarmMs)}; full batch ${N} (no physical batching), tensors leaked per run: ${tfb.leakedTensors}`);
  out.push('');
  out.push(`correctness (small problem, N = ${SMALL_N}, same architecture; rel err = ‖a−b‖∞/‖b‖∞):`);
  out.push(`  eoslab HVP vs float64 reference:          ${eosHvpErr64.toExponential(2)}`);
  if (tfErr) {
    out.push(`  TF.js gradient vs eoslab:                 ${tfErr.grad.toExponential(2)}`);
    out.push(`  TF.js HVP (customGrad tanh) vs eoslab:    ${tfErr.hvp.toExponential(2)}`);
    out.push(`  TF.js HVP (built-in tanh grad) vs eoslab: ${tfErr.hvpBuiltinTanh.toExponential(2)}  ← why the bench uses the customGrad tanh`);
  }
  out.push('');
  out.push(`HVP device memory (N = ${N}, physical batch ${eos.physicalBatch}): ${hvpMiB.toFixed(1)} MiB = data ${residentMiB.toFixed(1)} + θ,v,Hv ${(eos.mem.vectorBytes / MiB).toFixed(1)} + scratch ${(eos.mem.scratchBytes / MiB).toFixed(1)}` +
    `; resident_data_mb ${residentMiB.toFixed(1)}; ratio ${(hvpMiB / residentMiB).toFixed(2)}× (target ≤ 1.5×)`);
  out.push('');
  if (matmul.length) {
    out.push('matmul (GFLOP/s = 2·M·N·L / time; ms per call, median):');
    const ids = matmul[0].variants.map((x) => x.variant);
    out.push(`  ${'layout  M×N×L'.padEnd(24)}${ids.map((id) => id.padStart(17)).join('')}   best`);
    for (const l of matmul) {
      const cells = l.variants.map((x) => (x.ms === null ? 'skipped' : `${fmt(x.ms, 0)} ms ${fmt(x.gflops, 2)}`).padStart(17)).join('');
      out.push(`  ${`${l.layout.padEnd(4)} ${l.M}×${l.N}×${l.L}`.padEnd(24)}${cells}   ${l.best ? `${l.best.gflops!.toFixed(2)} GFLOP/s (${l.best.variant})` : '—'}`);
      for (const x of l.variants) if (x.skipped) out.push(`      ${x.variant}: ${x.skipped}`);
    }
    out.push('  (abt = forward X·Wᵀ, ab = backward δ·W, atb = weight gradient δᵀ·X of a dense layer 3072→200)');
    out.push('');
  }
  out.push(`autotune choices (physical batch ${eos.physicalBatch}; ms per call of each variant):`);
  for (const [k, id] of eos.choices) {
    const t = eos.timings.get(k);
    out.push(`  ${k.padEnd(26)} → ${id.padEnd(16)} ${t ? Object.entries(t).map(([vid, ms]) => `${vid} ${ms.toFixed(1)}`).join(', ') : ''}`);
  }
  out.push('');
  return { lines: out, targets, notes, cpuLike };
}
