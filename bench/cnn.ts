// `npm run bench:cnn [-- --quick] [-- --json FILE]`: the CNN benchmark.
// eoslab's full-batch gradient and exact HVP of cnn-relu (Conv2d → ReLU →
// MaxPool ×2 → Linear, N = 5000 CIFAR-shaped examples, physical batch 500,
// MSE) on the Wasm core and on WebGPU, against TF.js wasm and TF.js webgpu
// in the same process and PyTorch CPU (python subprocess) on the same θ, v
// and data; the Wasm conv ops' GFLOP/s; the HVP's device memory; a float64
// check of every implementation on a small problem. See bench/README.md.
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createNodeWasm, enableNodeRelaxedSimd, nodeCoreFlavour } from '../hosts/node/wasm.js';
import type { CoreFlavour } from '../core/ts/backend/wasm/module.js';
import { fmt, JsonReport, MiB, oneLine, relErr, targetLines, type Target } from './common.js';
import { probeWebGpu, setUpVulkanDriver } from './webgpu-setup.js';
import {
  benchCnnEoslab, benchConvOps, CNN_ARCH, cnnData, cnnEoslabSmall, cnnModel, cnnParams, gradConvFlops, hvpConvFlops,
  reference64, scratchAtSizes, SEEDS, type CnnEoslab, type ConvOpTiming,
} from './cnn-problem.js';
import { benchTfCnn, tfCnnSmall, type TfCnnBench } from './cnn-tfjs.js';
import { findTorchPython, runTorchPeer, type TorchPeerJson } from './cnn-torch.js';

const { values: argv } = parseArgs({
  options: {
    json: { type: 'string' },
    quick: { type: 'boolean', default: false },
    n: { type: 'string' },
    'physical-batch': { type: 'string', default: '500' },
    reps: { type: 'string' },
    threads: { type: 'string', default: '2' },
    driver: { type: 'string', default: 'auto' },
    'small-n': { type: 'string', default: '16' },
    'peer-budget': { type: 'string' },
    'no-relaxed': { type: 'boolean', default: false },
    'skip-wasm': { type: 'boolean', default: false },
    'skip-webgpu': { type: 'boolean', default: false },
    'skip-tfjs': { type: 'boolean', default: false },
    'skip-torch': { type: 'boolean', default: false },
    'skip-cpu-peers': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (argv.help) {
  console.log(`usage: npm run bench:cnn -- [--quick] [--json FILE] [--n N] [--physical-batch B] [--reps R] [--threads T]
                          [--driver auto|lavapipe|swiftshader|system] [--small-n N] [--peer-budget SECONDS]
                          [--no-relaxed] [--skip-wasm] [--skip-webgpu] [--skip-tfjs] [--skip-torch] [--skip-cpu-peers]
  --quick          N = 1000, 2 reps, smaller budgets: a smoke run
  --n N            examples (default 5000); --physical-batch B (default 500)
  --threads T      eoslab Wasm and PyTorch threads (default 2)
  --peer-budget S  seconds one TF.js backend may spend timing (warm-up + reps of gradient and HVP); a
                   peer too slow for it is timed on fewer physical batches and scaled linearly to N,
                   and the report says so (default 360, 60 with --quick)
  --no-relaxed     time the plain SIMD (threads) build of the Wasm core; by default the bench turns on
                   relaxed SIMD as the eoslab CLI does (enableNodeRelaxedSimd) and times the FMA build
  --skip-webgpu    only the CPU side (eoslab Wasm, TF.js wasm, PyTorch)
  --skip-cpu-peers leave out TF.js wasm and PyTorch CPU but keep the Wasm core and the WebGPU half (TF.js
                   webgpu included): the bench pack's choice on a GPU machine`);
  process.exit(0);
}

const quick = argv.quick!;
const N = argv.n ? Number(argv.n) : quick ? 1000 : 5000;
const B = Number(argv['physical-batch']);
const reps = argv.reps ? Number(argv.reps) : quick ? 2 : 3;
const threads = Number(argv.threads);
const SMALL_N = Number(argv['small-n']);
const opBudgetMs = quick ? 20_000 : 90_000;
const peerBudgetMs = (argv['peer-budget'] ? Number(argv['peer-budget']) : quick ? 60 : 360) * 1000;
// The Wasm build users run: the eoslab CLI calls enableNodeRelaxedSimd() (hosts/node/wasm.ts),
// so Node runs the relaxed-SIMD (FMA) build where it validates; --no-relaxed times the plain SIMD build.
const relaxedWanted = !argv['no-relaxed'];
const relaxedOn = relaxedWanted && enableNodeRelaxedSimd();
const wasmFlavour: CoreFlavour = (() => {
  const best = nodeCoreFlavour();
  return !relaxedWanted && best === 'relaxed' ? 'threads' : best;
})();
const started = performance.now();
const log = (s: string) => console.error(s);
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
const loadStart = loadavg();

// Set the driver up as `npm start` and `npm test` do, before anything creates a device
// (only when WebGPU runs); this may re-exec the process.
const driverNote = argv['skip-webgpu'] ? 'not used (--skip-webgpu)' : setUpVulkanDriver(argv.driver as 'auto', log).note;

// Saved after every stage and on a crash: a later failure never loses figures already measured.
const json = new JsonReport(argv.json);
json.saveOnCrash(log);
const report = json.data;
const notes: string[] = [];
const m = cnnModel();
const { theta, v } = cnnParams(m);
Object.assign(report, {
  cnn_arch: `${CNN_ARCH} [3,32,32] → 10 (${m.layers.map((l) => l.torch).join(' → ')}), MSE`,
  cnn_P: m.P, cnn_N: N, cnn_physical_batch: B, cnn_reps: reps, cnn_quick: quick, cpu_cores: cpus().length,
  cpu_model: cpus()[0]?.model.trim() ?? '?', node: process.version, cnn_driver: driverNote,
  cnn_loadavg_start: loadStart.map((x) => x.toFixed(2)).join(' '), cnn_wasm_flavour: wasmFlavour,
});
json.save();
log(`eoslab CNN bench${quick ? ' (--quick)' : ''}: ${CNN_ARCH}, P = ${m.P}, N = ${N}, physical batch ${B}, ${reps} timed reps after a warm-up; ` +
  `load average ${loadStart.map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores; Wasm core: the ${wasmFlavour} build` +
  (relaxedWanted ? (relaxedOn ? ' (relaxed SIMD on, as the eoslab CLI)' : ' (relaxed SIMD does not validate on this Node)') : ' (--no-relaxed)'));

const big = cnnData(N);
const small = cnnData(SMALL_N, SEEDS.small);
const MiBf = (b: number) => b / MiB;

// ---- float64 reference on the small problem ---------------------------------------------
log(`[${elapsed()}] float64 reference on the small problem (N = ${SMALL_N})`);
const { ref, why: refWhy } = await reference64(m, small.X, small.Y, SMALL_N, theta, v);
report.cnn_reference = ref ? `float64 ${refWhy}` : null;
if (ref?.kinkMargin != null) report.cnn_small_kink_margin = ref.kinkMargin;
if (!ref) notes.push(`no float64 reference (${refWhy}): the implementations are compared with each other (PyTorch's float32 as the yardstick)`);
json.save();
/** Small-problem results of each implementation, compared at the end. */
const smalls: Record<string, { grad: Float32Array; hvp: Float32Array | null }> = {};

let wasm: CnnEoslab | null = null, conv: ConvOpTiming[] = [], wasmDesc = '';
let tfw: TfCnnBench | null = null, tfwDesc = '';
let torch: TorchPeerJson | null = null, torchPython = '';
let gpu: CnnEoslab | null = null, tfg: TfCnnBench | null = null, adapter = '', tfgAdapter = '';
const best = (ts: number[]) => Math.min(...ts);
const times = (ts: number[]) => ts.map((t) => t.toFixed(1)).join(' ');
const gradConvF = gradConvFlops(m, B); // one physical batch

/** Puts every figure measured so far into the report and saves it: called after each stage, so a later failure loses none. */
function save(): void {
  const convMs = conv.reduce((s, c) => s + c.ms, 0);
  const convGflops = conv.length ? gradConvF / (convMs * 1e6) : null;
  if (wasm) {
    Object.assign(report, {
      cnn_wasm_grad_ms: wasm.gradMs, cnn_wasm_hvp_ms: wasm.hvpMs,
      cnn_wasm_grad_best_ms: best(wasm.gradTimes), cnn_wasm_hvp_best_ms: best(wasm.hvpTimes),
      cnn_wasm_grad_times_ms: times(wasm.gradTimes), cnn_wasm_hvp_times_ms: times(wasm.hvpTimes),
      cnn_wasm_loss: wasm.loss, cnn_hvp_over_grad: wasm.hvpMs / wasm.gradMs,
      cnn_hvp_device_mb: MiBf(wasm.mem.totalBytes), cnn_hvp_scratch_mb: MiBf(wasm.mem.scratchBytes),
      cnn_hvp_data_mb: MiBf(wasm.mem.dataBytes), cnn_hvp_vectors_mb: MiBf(wasm.mem.vectorBytes),
      cnn_grad_conv_gflop: gradConvFlops(m, N) / 1e9, cnn_hvp_conv_gflop: hvpConvFlops(m, N) / 1e9,
      // The HVP's conv work over the gradient's: what the HVP/gradient time ratio tends to when convs dominate.
      cnn_hvp_over_grad_conv_flops: hvpConvFlops(m, N) / gradConvFlops(m, N),
      cnn_wasm_grad_conv_gflops_effective: gradConvFlops(m, N) / (wasm.gradMs * 1e6),
      cnn_wasm_hvp_conv_gflops_effective: hvpConvFlops(m, N) / (wasm.hvpMs * 1e6),
    });
  }
  if (conv.length) {
    report.cnn_conv_gflops = convGflops;
    report.cnn_conv_ms_per_physical_batch = convMs;
    for (const c of conv) {
      const k = c.name.replace(' ', '_');
      report[`cnn_conv_ms_${k}`] = c.ms;
      report[`cnn_conv_gflops_${k}`] = c.gflops;
    }
    if (wasm) report.cnn_conv_share_of_wasm_grad = (convMs * Math.ceil(N / B)) / wasm.gradMs;
  }
  if (gpu) {
    Object.assign(report, {
      cnn_webgpu_grad_ms: gpu.gradMs, cnn_webgpu_hvp_ms: gpu.hvpMs,
      cnn_webgpu_grad_best_ms: best(gpu.gradTimes), cnn_webgpu_hvp_best_ms: best(gpu.hvpTimes),
      cnn_webgpu_grad_times_ms: times(gpu.gradTimes), cnn_webgpu_hvp_times_ms: times(gpu.hvpTimes),
      cnn_webgpu_hvp_over_grad: gpu.hvpMs / gpu.gradMs, cnn_webgpu_tune_ms: gpu.tuneMs,
      cnn_webgpu_warmup_ms: `${gpu.gradWarmMs.toFixed(0)} ${gpu.hvpWarmMs.toFixed(0)}`,
      cnn_webgpu_hvp_device_mb: MiBf(gpu.mem.totalBytes),
    });
    if (!wasm) report.cnn_hvp_device_mb = MiBf(gpu.mem.totalBytes);
  } else {
    report.cnn_webgpu_grad_ms = null;
    report.cnn_webgpu_hvp_ms = null;
  }
  const peerKeys = (prefix: string, t: TfCnnBench | null) => {
    report[`${prefix}_grad_ms`] = t?.gradMs ?? null;
    report[`${prefix}_hvp_ms`] = t?.hvpMs ?? null;
    if (!t) return;
    Object.assign(report, {
      [`${prefix}_grad_best_ms`]: best(t.gradTimes), [`${prefix}_hvp_best_ms`]: best(t.hvpTimes),
      [`${prefix}_grad_times_ms`]: times(t.gradTimes), [`${prefix}_hvp_times_ms`]: times(t.hvpTimes),
      [`${prefix}_grad_variant`]: t.gradVariant, [`${prefix}_hvp_variant`]: t.hvpVariant,
      [`${prefix}_measured_n`]: t.measuredN, [`${prefix}_scaled`]: t.scale !== 1, [`${prefix}_leaked_tensors`]: t.leakedTensors,
    });
    if (t.scale !== 1) {
      const note = `${prefix}_grad_ms/_hvp_ms are NOT measured at N = ${N}: timed on ${t.chunksTimed} of ${Math.ceil(N / B)} physical batches ` +
        `(N = ${t.measuredN}) to fit --peer-budget, and multiplied by ${t.scale.toFixed(2)} (each physical batch is the same work)`;
      report[`${prefix}_note`] = note;
      notes.push(note);
    }
  };
  peerKeys('cnn_tfjs_wasm', tfw);
  peerKeys('cnn_tfjs_webgpu', tfg);
  if (torch) {
    Object.assign(report, {
      cnn_torch_grad_ms: torch.grad_ms ?? null, cnn_torch_hvp_ms: torch.hvp_ms ?? null,
      cnn_torch_grad_best_ms: best(torch.grad_times_ms ?? [NaN]), cnn_torch_hvp_best_ms: best(torch.hvp_times_ms ?? [NaN]),
      cnn_torch_grad_times_ms: times(torch.grad_times_ms ?? []), cnn_torch_hvp_times_ms: times(torch.hvp_times_ms ?? []),
      cnn_torch_loss: torch.loss ?? null,
    });
  } else {
    report.cnn_torch_grad_ms = null;
    report.cnn_torch_hvp_ms = null;
  }
  if (wasm && tfw) {
    report.cnn_speedup_wasm_grad_vs_tfjs_wasm = tfw.gradMs / wasm.gradMs;
    report.cnn_speedup_wasm_hvp_vs_tfjs_wasm = tfw.hvpMs / wasm.hvpMs;
  }
  if (wasm && torch?.grad_ms) {
    report.cnn_wasm_grad_over_torch = wasm.gradMs / torch.grad_ms;
    report.cnn_wasm_hvp_over_torch = wasm.hvpMs / torch.hvp_ms!;
  }
  if (gpu && tfg) {
    report.cnn_speedup_webgpu_grad_vs_tfjs_webgpu = tfg.gradMs / gpu.gradMs;
    report.cnn_speedup_webgpu_hvp_vs_tfjs_webgpu = tfg.hvpMs / gpu.hvpMs;
  }
  json.save();
}

// ---- CPU: eoslab Wasm -----------------------------------------------------------------------
if (!argv['skip-wasm']) {
  log(`[${elapsed()}] eoslab Wasm core, ${threads} threads`);
  try {
    const be = await createNodeWasm({ threads, flavour: wasmFlavour });
    try {
      wasmDesc = `${be.description}; ${be.threads} thread${be.threads === 1 ? '' : 's'}`;
      smalls['eoslab wasm'] = await cnnEoslabSmall(be, m, small.X, small.Y, SMALL_N, theta, v);
      wasm = await benchCnnEoslab(be, m, big.X, big.Y, N, theta, v, { physicalBatch: B, reps, budgetMs: opBudgetMs, log });
      log(`[${elapsed()}]   conv ops alone (physical batch ${B})`);
      conv = await benchConvOps(be, m, B, { reps: Math.max(reps, 5), budgetMs: 20_000 });
      const sizes = [...new Set([B, N, 2 * N])];
      const scr = scratchAtSizes(be, m, B, sizes);
      sizes.forEach((n, i) => { report[`cnn_hvp_scratch_mb_at_n_${n}`] = MiBf(scr[i]); });
      report.cnn_hvp_scratch_independent_of_n = scr.every((s) => s === scr[0]);
      const scrHalf = scratchAtSizes(be, m, Math.max(1, B >> 1), [N])[0];
      report[`cnn_hvp_scratch_mb_at_physical_batch_${Math.max(1, B >> 1)}`] = MiBf(scrHalf);
    } finally {
      be.destroy();
    }
    report.cnn_wasm_backend = wasmDesc;
    report.cnn_wasm_threads = threads;
  } catch (e) {
    // What was timed before the failure (wasm, conv) stays in the report.
    if (!wasm) report.cnn_wasm = { skipped: oneLine(e) };
    log(`  eoslab Wasm ${wasm ? 'failed' : 'skipped'}: ${oneLine(e)}`);
    notes.push(`eoslab Wasm ${wasm ? 'failed' : 'skipped'}: ${oneLine(e)}`);
  }
  save();
}

// ---- CPU: TF.js wasm ----------------------------------------------------------------------------
if (!argv['skip-tfjs'] && !argv['skip-cpu-peers']) {
  log(`[${elapsed()}] TF.js wasm (same process, same θ and data)`);
  try {
    const { loadTfjsWasm, unloadTfjsWasm } = await import('./tfjs-wasm.js');
    const t = await loadTfjsWasm();
    tfwDesc = t.description;
    report.cnn_tfjs_wasm_backend = t.description;
    report.cnn_tfjs_wasm_threads = t.threads;
    try {
      const s = await tfCnnSmall(t.tf, m, small.X, small.Y, SMALL_N, theta, v, Math.ceil(SMALL_N / 2));
      smalls['TF.js wasm'] = s;
      tfw = await benchTfCnn(t.tf, m, big.X, big.Y, N, theta, v, { B, reps, budgetMs: peerBudgetMs, log, label: 'TF.js wasm' });
    } finally {
      unloadTfjsWasm(t.tf);
    }
  } catch (e) {
    log(`  TF.js wasm failed: ${oneLine(e)}`);
    notes.push(`TF.js wasm failed: ${oneLine(e)}`);
  }
  save();
}

// ---- CPU: PyTorch -------------------------------------------------------------------------------
if (!argv['skip-torch'] && !argv['skip-cpu-peers']) {
  const found = await findTorchPython();
  if (!found.python) {
    log(`  PyTorch peer skipped: ${found.why}`);
    notes.push(`PyTorch peer not measured: ${found.why}`);
  } else {
    log(`[${elapsed()}] PyTorch CPU, ${threads} threads: ${found.why}`);
    torchPython = found.why;
    try {
      const chk = await runTorchPeer(m, small.X, small.Y, SMALL_N, theta, v, { B: Math.ceil(SMALL_N / 2), reps: 0, threads, budgetS: 60, check: true, check64: true });
      smalls.PyTorch = { grad: chk.grad!, hvp: chk.hvp! };
      if (chk.json.self_grad_rel_err_f64 !== undefined) report.cnn_torch_self_grad_rel_err_f64 = chk.json.self_grad_rel_err_f64;
      if (chk.json.self_hvp_rel_err_f64 !== undefined) report.cnn_torch_self_hvp_rel_err_f64 = chk.json.self_hvp_rel_err_f64;
      torch = (await runTorchPeer(m, big.X, big.Y, N, theta, v, { B, reps: Math.max(reps, 3), threads, budgetS: (2 * opBudgetMs) / 1000 })).json;
      Object.assign(report, { cnn_torch: `PyTorch ${torch.torch} (${found.why.split(' ')[0]}), oneDNN ${torch.mkldnn ? 'on' : 'off'}, BLAS ${torch.blas}`, cnn_torch_threads: torch.threads });
    } catch (e) {
      log(`  PyTorch peer failed: ${oneLine(e)}`);
      notes.push(`PyTorch peer failed: ${oneLine(e)}`);
    }
  }
  save();
}

// ---- WebGPU: eoslab, then TF.js webgpu ---------------------------------------------------------
if (!argv['skip-webgpu']) {
  const { createNodeGpu, nodeGpuInstance } = await import('../hosts/node/device.js');
  log(`[${elapsed()}] eoslab WebGPU`);
  // No device here (no driver, no adapter): the whole WebGPU half is skipped, in one line. Asked of a
  // child first, so that Dawn's own Vulkan warnings of a failed start stay out of this output.
  let g: Awaited<ReturnType<typeof createNodeGpu>> | null = null;
  try {
    const probe = await probeWebGpu();
    if ('why' in probe) throw new Error(probe.why);
    g = await createNodeGpu({ backend: { tuneCache: new Map() } });
  } catch (e) {
    report.cnn_webgpu = { skipped: oneLine(e) };
    log(`WebGPU half skipped: ${oneLine(e)}`);
    notes.push(`WebGPU half skipped: ${oneLine(e)}`);
  }
  if (g) {
    try {
      adapter = g.backend.description;
      report.cnn_webgpu_adapter = adapter;
      smalls['eoslab webgpu'] = await cnnEoslabSmall(g.backend, m, small.X, small.Y, SMALL_N, theta, v);
      gpu = await benchCnnEoslab(g.backend, m, big.X, big.Y, N, theta, v, { physicalBatch: B, reps, budgetMs: opBudgetMs, log });
    } catch (e) {
      log(`  eoslab WebGPU failed: ${oneLine(e)}`);
      notes.push(`eoslab WebGPU failed: ${oneLine(e)}`);
    } finally {
      g.backend.destroy(); // Dawn busy-polls a core while a device lives
    }
    save();
  }
  if (g && !argv['skip-tfjs'] && nodeGpuInstance()) {
    log(`[${elapsed()}] TF.js webgpu on the same Dawn instance`);
    try {
      const { loadTfjs, unloadTfjs } = await import('./tfjs.js');
      const { tf, device, description } = await loadTfjs(nodeGpuInstance()!);
      tfgAdapter = description;
      report.cnn_tfjs_webgpu_adapter = description;
      try {
        const s = await tfCnnSmall(tf, m, small.X, small.Y, SMALL_N, theta, v, Math.ceil(SMALL_N / 2));
        smalls['TF.js webgpu'] = s;
        if (s.gradStock) smalls['TF.js webgpu (stock grad)'] = { grad: s.gradStock, hvp: null };
        tfg = await benchTfCnn(tf, m, big.X, big.Y, N, theta, v, {
          B, reps, budgetMs: peerBudgetMs, log, label: 'TF.js webgpu', sync: () => device.queue.onSubmittedWorkDone(),
        });
      } finally {
        unloadTfjs(tf, device);
      }
    } catch (e) {
      log(`  TF.js webgpu failed: ${oneLine(e)}`);
      notes.push(`TF.js webgpu failed: ${oneLine(e)}`);
    }
  }
}

// ---- correctness --------------------------------------------------------------------------------
const yard = ref ? { name: 'float64', grad: ref.grad, hvp: ref.hvp } : smalls.PyTorch ? { name: 'PyTorch float32', ...smalls.PyTorch } : null;
const errs: { name: string; grad: number; hvp: number | null }[] = [];
if (yard) {
  const suffix = ref ? 'f64' : 'vs_torch';
  const keyOf = (name: string) => name.toLowerCase().replace('tf.js', 'tfjs').replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '').replace('eoslab_', '').replace('pytorch', 'torch').replace('stock_grad', 'stock');
  for (const [name, s] of Object.entries(smalls)) {
    if (!ref && name === 'PyTorch') continue;
    const e = { name, grad: relErr(s.grad, yard.grad), hvp: s.hvp && yard.hvp ? relErr(s.hvp, yard.hvp) : null };
    errs.push(e);
    report[`cnn_${keyOf(name)}_grad_rel_err_${suffix}`] = e.grad;
    if (e.hvp !== null) report[`cnn_${keyOf(name)}_hvp_rel_err_${suffix}`] = e.hvp;
  }
}

// ---- report -----------------------------------------------------------------------------------------
// benchConvOps times exactly the gradient's conv products (forward, dweight, and dinput where the walk wants it).
const convMs = conv.reduce((s, c) => s + c.ms, 0);
const convGflops = conv.length ? gradConvF / (convMs * 1e6) : null;
save();

const targets: Target[] = [
  ['target_cnn_wasm_grad_le_torch_met', 'Wasm gradient ≤ PyTorch CPU (same run, same threads)', wasm && torch?.grad_ms ? wasm.gradMs <= torch.grad_ms : null,
    wasm && torch?.grad_ms ? `${fmt(wasm.gradMs, 0)} vs ${fmt(torch.grad_ms, 0)} ms (${(wasm.gradMs / torch.grad_ms).toFixed(2)}×)` : 'not measured'],
  ['target_cnn_wasm_hvp_le_torch_met', 'Wasm HVP ≤ PyTorch CPU (same run, same threads)', wasm && torch?.hvp_ms ? wasm.hvpMs <= torch.hvp_ms : null,
    wasm && torch?.hvp_ms ? `${fmt(wasm.hvpMs, 0)} vs ${fmt(torch.hvp_ms, 0)} ms (${(wasm.hvpMs / torch.hvp_ms).toFixed(2)}×)` : 'not measured'],
  ['target_cnn_conv_40gflops_met', 'Wasm conv ≥ 40 GFLOP/s (gradient\'s conv products at the bench shapes)', convGflops !== null ? convGflops >= 40 : null,
    convGflops !== null ? `${convGflops.toFixed(1)} GFLOP/s` : 'not measured'],
  ['target_cnn_wasm_grad_10x_tfjs_wasm_met', 'Wasm gradient ≥ 10× faster than TF.js wasm', wasm && tfw ? tfw.gradMs / wasm.gradMs >= 10 : null,
    wasm && tfw ? `${(tfw.gradMs / wasm.gradMs).toFixed(1)}×${tfw.scale !== 1 ? ' (TF.js scaled from N = ' + tfw.measuredN + ')' : ''}` : 'not measured'],
  ['target_cnn_wasm_hvp_10x_tfjs_wasm_met', 'Wasm HVP ≥ 10× faster than TF.js wasm', wasm && tfw ? tfw.hvpMs / wasm.hvpMs >= 10 : null,
    wasm && tfw ? `${(tfw.hvpMs / wasm.hvpMs).toFixed(1)}×${tfw.scale !== 1 ? ' (TF.js scaled from N = ' + tfw.measuredN + ')' : ''}` : 'not measured'],
  ['target_cnn_hvp_over_grad_met', 'Wasm HVP ≤ 2× gradient', wasm ? wasm.hvpMs / wasm.gradMs <= 2 : null,
    wasm ? `${(wasm.hvpMs / wasm.gradMs).toFixed(2)}× (conv flops alone: ${(hvpConvFlops(m, N) / gradConvFlops(m, N)).toFixed(2)}×)` : 'not measured'],
  ['target_cnn_webgpu_hvp_over_grad_met', 'WebGPU HVP ≤ 2× gradient', gpu ? gpu.hvpMs / gpu.gradMs <= 2 : null, gpu ? `${(gpu.hvpMs / gpu.gradMs).toFixed(2)}×` : 'not measured'],
  ['target_cnn_hvp_memory_o_b_met', 'HVP scratch independent of N (O(physical batch))', report.cnn_hvp_scratch_independent_of_n === undefined ? null : report.cnn_hvp_scratch_independent_of_n === true,
    report.cnn_hvp_scratch_mb !== undefined ? `scratch ${fmt(report.cnn_hvp_scratch_mb as number)} MiB at B = ${B} for N = ${[...new Set([B, N, 2 * N])].join(', ')}` : 'not measured'],
];
for (const [key, , met] of targets) report[key] = met;

const loadEnd = loadavg();
report.cnn_loadavg_end = loadEnd.map((x) => x.toFixed(2)).join(' ');
const caveat = `${cpus().length} CPU cores, load average ${loadStart[0].toFixed(1)} at the start and ${loadEnd[0].toFixed(1)} at the end` +
  (loadStart[0] > cpus().length * 0.5 || loadEnd[0] > cpus().length * 0.5 ? ' (other work was running: timings are noisy; compare within this run, best-of-reps given too)' : '') +
  (gpu ? `; WebGPU on ${adapter}: a CPU Vulkan driver computes on the same cores while Dawn busy-polls one` : '');
report.cnn_caveat = caveat;
notes.push(caveat);
if (tfw) notes.push(`TF.js wasm runs one thread (no multithread support under Node), eoslab Wasm and PyTorch ${threads}`);
report.cnn_notes = notes.join(' | ');

const out: string[] = [''];
out.push(`problem: ${report.cnn_arch}; P = ${m.P}; N = ${N} synthetic CIFAR-shaped examples, physical batch ${B} (every implementation); ` +
  `median of ${reps}+ reps after a warm-up`);
out.push(`CPU:     ${cpus().length} cores (${report.cpu_model}); node ${process.version}`);
if (wasmDesc) out.push(`  eoslab Wasm: ${wasmDesc}`);
if (tfwDesc) out.push(`  TF.js wasm:  ${tfwDesc}`);
if (torch) out.push(`  PyTorch:     ${report.cnn_torch}, ${torch.threads} threads`);
if (adapter) out.push(`WebGPU:  ${adapter}; ${driverNote}${tfgAdapter ? `; TF.js on ${tfgAdapter}` : ''}`);
out.push('');
const cell = (x: number | null | undefined) => (x === null || x === undefined ? '—' : fmt(x, 0)).padStart(10);
out.push('                  eoslab wasm  TF.js wasm     PyTorch  eoslab webgpu  TF.js webgpu   (ms, median; best in the JSON)');
out.push(`gradient         ${cell(wasm?.gradMs)}  ${cell(tfw?.gradMs)}  ${cell(torch?.grad_ms)}     ${cell(gpu?.gradMs)}    ${cell(tfg?.gradMs)}`);
out.push(`HVP              ${cell(wasm?.hvpMs)}  ${cell(tfw?.hvpMs)}  ${cell(torch?.hvp_ms)}     ${cell(gpu?.hvpMs)}    ${cell(tfg?.hvpMs)}`);
const ratio = (a?: number | null, b?: number | null) => (a && b ? (b / a).toFixed(2) + '×' : '—').padStart(10);
out.push(`HVP / gradient   ${ratio(wasm?.gradMs, wasm?.hvpMs)}  ${ratio(tfw?.gradMs, tfw?.hvpMs)}  ${ratio(torch?.grad_ms, torch?.hvp_ms)}     ${ratio(gpu?.gradMs, gpu?.hvpMs)}    ${ratio(tfg?.gradMs, tfg?.hvpMs)}`);
if (wasm) out.push(`  eoslab wasm reps: grad ${times(wasm.gradTimes)}; HVP ${times(wasm.hvpTimes)}`);
if (tfw) out.push(`  TF.js wasm reps:  grad ${times(tfw.gradTimes)}; HVP ${times(tfw.hvpTimes)}${tfw.scale !== 1 ? `  (×${tfw.scale.toFixed(2)}: measured at N = ${tfw.measuredN})` : ''}`);
if (torch) out.push(`  PyTorch reps:     grad ${times(torch.grad_times_ms ?? [])}; HVP ${times(torch.hvp_times_ms ?? [])}`);
if (gpu) out.push(`  eoslab webgpu reps: grad ${times(gpu.gradTimes)}; HVP ${times(gpu.hvpTimes)}; warm-ups ${fmt(gpu.gradWarmMs, 0)} / ${fmt(gpu.hvpWarmMs, 0)}`);
if (tfg) out.push(`  TF.js webgpu reps: grad ${times(tfg.gradTimes)}; HVP ${times(tfg.hvpTimes)}${tfg.scale !== 1 ? `  (×${tfg.scale.toFixed(2)}: measured at N = ${tfg.measuredN})` : ''}`);
if (tfw) out.push(`  TF.js wasm gradient and HVP: ${tfw.hvpVariant}`);
if (tfg) out.push(`  TF.js webgpu gradient: ${tfg.gradVariant}; HVP: ${tfg.hvpVariant}`);
out.push('');
if (conv.length) {
  out.push(`Wasm conv ops alone (physical batch ${B}, ${threads} threads; GFLOP/s = 2·B·Cout·Ho·Wo·Cin·kh·kw / time):`);
  for (const c of conv) out.push(`  ${c.name.padEnd(16)} ${c.shape.padEnd(28)} ${fmt(c.ms, 1).padStart(8)} ms  ${fmt(c.gflops, 1).padStart(6)} GFLOP/s`);
  out.push(`  gradient's conv products: ${(gradConvF / 1e9).toFixed(2)} GFLOP per physical batch in ${fmt(convMs, 1)} ms = ${fmt(convGflops, 1)} GFLOP/s` +
    (wasm ? `; ×${Math.ceil(N / B)} batches = ${((convMs * Math.ceil(N / B)) / wasm.gradMs * 100).toFixed(0)}% of the Wasm gradient's time` : ''));
  out.push('');
}
if (wasm) {
  out.push(`HVP device memory (N = ${N}, physical batch ${B}): ${fmt(MiBf(wasm.mem.totalBytes))} MiB = data ${fmt(MiBf(wasm.mem.dataBytes))} + θ,v,Hv ${fmt(MiBf(wasm.mem.vectorBytes), 2)}` +
    ` + scratch ${fmt(MiBf(wasm.mem.scratchBytes))} (ModelObjective.scratchBytes; the same at N = ${[...new Set([B, N, 2 * N])].join(', ')}: ${report.cnn_hvp_scratch_independent_of_n ? 'yes' : 'NO'};` +
    ` ${fmt(report[`cnn_hvp_scratch_mb_at_physical_batch_${Math.max(1, B >> 1)}`] as number)} MiB at physical batch ${Math.max(1, B >> 1)})`);
  out.push('');
}
out.push(`correctness (small problem, N = ${SMALL_N}, two physical batches; rel err = ‖a−b‖∞/‖b‖∞ against ${yard ? (ref ? `float64 (${refWhy})` : yard.name) : 'nothing'}):`);
for (const e of errs) out.push(`  ${e.name.padEnd(26)} grad ${e.grad.toExponential(2)}${e.hvp !== null ? `   HVP ${e.hvp.toExponential(2)}` : ''}`);
if (report.cnn_torch_self_grad_rel_err_f64 !== undefined) {
  out.push(`  PyTorch float32 vs PyTorch float64: grad ${(report.cnn_torch_self_grad_rel_err_f64 as number).toExponential(2)}   HVP ${(report.cnn_torch_self_hvp_rel_err_f64 as number).toExponential(2)}`);
}
if (ref?.kinkMargin != null) out.push(`  (smallest distance of a ReLU input to 0 / max-pool gap on this problem: ${ref.kinkMargin.toExponential(2)})`);
out.push('');
out.push('targets:', ...targetLines(targets));
out.push('');
for (const n of notes) out.push(`note: ${n}`);
out.push(`total bench time ${elapsed()}`);
console.log(out.join('\n'));
save();
if (argv.json) log(`wrote ${argv.json}`);
process.exit(0);
