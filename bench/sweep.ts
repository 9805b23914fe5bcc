// `npm run bench:sweep [-- --quick] [-- --json FILE]`: what batching K sweep
// members into every dispatch buys. A K = 16 learning-rate sweep (GD, MSE,
// fixed steps, no eigen-measurements) of a small MLP on chebyshev-5-20 and of
// fc-tanh on N synthetic CIFAR-shaped examples, run through the sweep
// runner's library API in this process (no process start, no run
// directories): all K members as one batched group, against the same members
// run one after another by the single-run loop (what `eoslab train` in a
// shell loop does), on the same backend. Also: the batched K-model gradient
// alone per step, so the report says how much of a batched step is the
// per-member work around it, and PyTorch running the same K trainings one
// after another (torch_peer.py, `--torch-device cpu|cuda`).
// See bench/README.md ("Sweep benchmark") for the keys.
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import type { Backend } from '../core/ts/backend/types.js';
import { DEFAULT_RUN, type RunConfig } from '../core/ts/run/config.js';
import { runExperiment, type RunResult } from '../core/ts/run/experiment.js';
import { runSweepGroup } from '../core/ts/run/sweep.js';
import { runModel, type RunData } from '../core/ts/run/problem.js';
import type { RunSink } from '../core/ts/run/records.js';
import { parseArchId } from '../core/ts/nn/arch.js';
import { initParams } from '../core/ts/nn/init.js';
import { alignedStride, ModelObjective } from '../core/ts/objective/model-objective.js';
import { uploadData } from '../core/ts/objective/data.js';
import { loadDataset } from '../datasets/registry.js';
import type { DriverPreference } from '../hosts/node/vulkan-env.js';
import { JsonReport, median, oneLine, syntheticData, targetLines, type Target } from './common.js';
import { probeWebGpu, setUpVulkanDriver } from './webgpu-setup.js';
import { runTorch, type TorchDevice } from './torch-run.js';
import { lockstepCase } from './sweep-lockstep.js';

const SMALL_ARCH = 'mlp:64x64:tanh';
const LOCKSTEP_ARCH = 'mlp:64x64:relu:nobias', LOCKSTEP_DATASET = 'gmm-256-16-4';

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    k: { type: 'string' },
    n: { type: 'string' },
    'small-steps': { type: 'string' },
    'fctanh-steps': { type: 'string' },
    reps: { type: 'string' },
    'fctanh-reps': { type: 'string' },
    threads: { type: 'string' },
    driver: { type: 'string', default: 'auto' },
    'skip-wasm': { type: 'boolean', default: false },
    'skip-webgpu': { type: 'boolean', default: false },
    'skip-torch': { type: 'boolean', default: false },
    'skip-fctanh': { type: 'boolean', default: false },
    'skip-cli': { type: 'boolean', default: false },
    'torch-device': { type: 'string', default: 'cpu' },
    catapult: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (argv.help) {
  console.log(`usage: npm run bench:sweep -- [--quick] [--json FILE] [--k K] [--n N] [--small-steps S] [--fctanh-steps S] [--reps R] [--fctanh-reps R] [--threads T]
                            [--driver auto|lavapipe|swiftshader|system] [--skip-wasm] [--skip-webgpu] [--skip-torch] [--skip-fctanh] [--skip-cli]
                            [--torch-device cpu|cuda] [--catapult]
  K = 16 members (learning rates); fc-tanh on N = 5000 (500 with --quick) synthetic CIFAR-shaped examples,
  ${SMALL_ARCH} on chebyshev-5-20; steps 1000 / 20 (200 / 4 with --quick); batched and one after another
  alternate R times (--reps, default 3, for the small MLP; --fctanh-reps, default 1) and the medians are compared
  --catapult: instead, eigen-solves in lockstep against one member at a time: K = 8 (or --k) members of
  ${LOCKSTEP_ARCH} on ${LOCKSTEP_DATASET}, λ₁ every step, 20 steps (5 with --quick)`);
  process.exit(0);
}

const quick = argv.quick!;
const log = (s: string) => console.error(s);
const fail = (s: string): never => { log(`eoslab bench:sweep: ${s}`); process.exit(1); };
const posInt = (flag: string, s: string | undefined, dflt: number) => {
  if (s === undefined) return dflt;
  const x = Number(s);
  return Number.isInteger(x) && x >= 1 ? x : fail(`--${flag} ${s} is not a positive integer: pass e.g. --${flag} ${dflt}`);
};
const K = posInt('k', argv.k, 16);
if (K > 64) fail(`--k ${K}: a sweep group holds at most 64 members, pass --k 64 or fewer`);
const N = posInt('n', argv.n, quick ? 500 : 5000);
const smallSteps = posInt('small-steps', argv['small-steps'], quick ? 200 : 1000);
const fcSteps = posInt('fctanh-steps', argv['fctanh-steps'], quick ? 4 : 20);
const smallReps = posInt('reps', argv.reps, 3), fcReps = posInt('fctanh-reps', argv['fctanh-reps'], 1);
const threads = argv.threads ? posInt('threads', argv.threads, 2) : undefined;
const torchDevice = argv['torch-device'] as TorchDevice;
if (torchDevice !== 'cpu' && torchDevice !== 'cuda') fail(`--torch-device takes cpu or cuda, got '${argv['torch-device']}'`);
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;

const driver = argv['skip-webgpu'] ? { note: 'not used (--skip-webgpu)' } : setUpVulkanDriver(argv.driver as DriverPreference, log);
const json = new JsonReport(argv.json);
json.saveOnCrash(log);
const report = json.data;
Object.assign(report, { sweep_k: K, sweep_quick: quick, sweep_fctanh_N: N, sweep_small_steps: smallSteps, sweep_fctanh_steps: fcSteps,
  sweep_small_arch: `${SMALL_ARCH} on chebyshev-5-20, MSE, GD`, sweep_fctanh_arch: 'fc-tanh [3072,200,200,10] on synthetic CIFAR-shaped data, MSE, GD',
  cpu_cores: cpus().length, node: process.version, sweep_driver: driver.note });
json.save();

// ---- --catapult: eigen-solves in lockstep against one member at a time (bench/sweep-lockstep.ts) ----
if (argv.catapult) {
  const kc = argv.k ? K : 8, steps = quick ? 5 : 20, ds = loadDataset(LOCKSTEP_DATASET);
  const w = { dataset: LOCKSTEP_DATASET, arch: LOCKSTEP_ARCH, data: { d: ds.d, c: ds.c, train: ds.train, test: ds.test }, K: kc, steps };
  Object.assign(report, { sweep_catapult_k: kc, sweep_catapult_steps: steps, sweep_catapult_arch: `${LOCKSTEP_ARCH} on ${LOCKSTEP_DATASET}, MSE, GD, η = 2^(0.2j)/λ₀, neigs 1, lobpcg` });
  const out: string[] = [];
  const one = async (name: 'wasm' | 'webgpu', backend: Backend) => {
    const f = await lockstepCase(backend, w, log);
    Object.assign(report, {
      [`sweep_catapult_lockstep_s_${name}`]: f.lockstepS, [`sweep_catapult_one_at_a_time_s_${name}`]: f.oneAtATimeS,
      [`sweep_catapult_speedup_${name}`]: f.oneAtATimeS / f.lockstepS, [`sweep_catapult_hvp_calls_lockstep_${name}`]: f.hvpCallsLockstep,
      [`sweep_catapult_hvp_calls_one_at_a_time_${name}`]: f.hvpCallsOneAtATime, [`sweep_catapult_hvps_${name}`]: f.hvps,
      [`sweep_catapult_equal_${name}`]: f.equal, [`sweep_catapult_load_${name}`]: f.load,
    });
    out.push(`  ${name}: lockstep ${f.lockstepS.toFixed(2)} s, one member at a time ${f.oneAtATimeS.toFixed(2)} s: ${(f.oneAtATimeS / f.lockstepS).toFixed(2)}×; ` +
      `HVP dispatches ${f.hvpCallsLockstep} against ${f.hvpCallsOneAtATime} (${f.hvps} products asked for); rows bit-equal: ${f.equal}; load ${f.load.toFixed(2)}`);
    json.save();
  };
  if (!argv['skip-wasm']) {
    const { createNodeWasm, enableNodeRelaxedSimd } = await import('../hosts/node/wasm.js');
    enableNodeRelaxedSimd();
    const wasm = await createNodeWasm({ threads });
    try { await one('wasm', wasm); } finally { wasm.destroy(); }
  }
  if (!argv['skip-webgpu']) {
    const probe = await probeWebGpu();
    if ('why' in probe) out.push(`  webgpu skipped: ${probe.why}`);
    else {
      const { createNodeGpu } = await import('../hosts/node/device.js');
      const g = await createNodeGpu();
      report.sweep_webgpu_adapter = g.backend.description;
      try { await one('webgpu', g.backend); } finally { g.backend.destroy(); }
    }
  }
  console.log([`eoslab sweep bench --catapult: K = ${kc} members, ${steps} steps, λ₁ every step`, ...out, `total ${elapsed()}`].join('\n'));
  if (argv.json) log(`wrote ${argv.json}`);
  process.exit(0);
}

interface Workload {
  key: 'small' | 'fctanh';
  dataset: string;
  arch: string;
  data: RunData;
  steps: number;
  /** Member k trains at lrMax·(k+1)/K: every member stays below the edge over the bench's steps, so all run every step. */
  lrMax: number;
  /** Timed pairs (batched, then one after another), alternated: a 2-core VM's clock wanders by ±20% between seconds. */
  reps: number;
  physicalBatch: number;
}

const cheb = loadDataset('chebyshev-5-20');
const fcData = syntheticData(N, 3072, 10, 2024);
const workloads: Workload[] = [
  { key: 'small', dataset: 'chebyshev-5-20', arch: SMALL_ARCH, steps: smallSteps, lrMax: 0.05, physicalBatch: 1000, reps: smallReps,
    data: { d: cheb.d, c: cheb.c, train: cheb.train, test: cheb.test } },
];
if (!argv['skip-fctanh']) {
  const split = { ...fcData, N };
  workloads.push({ key: 'fctanh', dataset: 'synthetic-cifar', arch: 'fc-tanh', steps: fcSteps, lrMax: 0.02, physicalBatch: Math.min(1000, N), reps: fcReps,
    data: { shape: [3, 32, 32], d: 3072, c: 10, train: split, test: split } });
}

const lrs = (w: Workload) => Array.from({ length: K }, (_, k) => (w.lrMax * (k + 1)) / K);
const cfgOf = (w: Workload, lr: number, steps: number): RunConfig => ({
  ...DEFAULT_RUN, kind: 'train', dataset: w.dataset, arch: w.arch, loss: 'mse', lr, maxSteps: steps,
  eigFreq: 0, abridgedSize: 0, physicalBatchSize: w.physicalBatch, checkpointEvery: 0,
});
const nullSink = (): RunSink => ({ row: () => {}, checkpoint: () => {} });

/** Runs fn; the clock starts when prepare (autotuning, once the problem is built) has finished. */
async function timed(fn: (prepare: (objs: ModelObjective[]) => Promise<void>) => Promise<RunResult[]>): Promise<{ s: number; results: RunResult[] }> {
  let t0 = NaN;
  const results = await fn(async (objs) => { for (const o of objs) await o.tune(); t0 = performance.now(); });
  return { s: (performance.now() - t0) / 1000, results };
}

/** ms per call of the K-model full-batch gradient (+ loss read-back): the batched step's floor. */
async function gradMs(backend: Backend, w: Workload, k: number, reps: number): Promise<number> {
  const model = runModel({ arch: w.arch }, w.data);
  const d = uploadData(backend, w.data.train.X, w.data.train.Y, w.data.train.N, w.data.d, w.data.c);
  // Members at the sweep's stride (P rounded up to 4), so WebGPU runs the same vec4 kernels as the sweep.
  const S = alignedStride(model.P);
  const obj = new ModelObjective(backend, model, d, { loss: 'mse', K: k, physicalBatch: w.physicalBatch, stride: S });
  const th = backend.alloc(k * S, 'θ[K]'), g = backend.alloc(k * S, 'gradient[K]');
  try {
    await obj.tune();
    const theta0 = initParams(model, { seed: 0 });
    for (let j = 0; j < k; j++) backend.write(th, theta0, j * S);
    obj.encodeGrad(th, g);
    await obj.readLossAcc();
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) { obj.encodeGrad(th, g); await obj.readLossAcc(); }
    return (performance.now() - t0) / reps;
  } finally {
    for (const b of [th, g, d.X, d.Y]) backend.release(b);
    obj.dispose();
  }
}

/** The backend with every method call counted by name (the objects it hands out are the real ones). */
function counting(backend: Backend): { backend: Backend; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const proxy = new Proxy(backend, {
    get(t, key) {
      const v = Reflect.get(t, key, t);
      if (typeof v !== 'function') return v;
      return (...a: unknown[]) => { calls.set(String(key), (calls.get(String(key)) ?? 0) + 1); return v.apply(t, a); };
    },
  });
  return { backend: proxy, calls };
}

/** Ops the device runs (allocation, upload and read-back excluded). */
const isOp = (name: string) => !/^(alloc|release|write|read|readScalars|flush|destroy|tune|description|kind)$/.test(name);

/**
 * Backend ops per step: all K members batched, and one member alone (the
 * difference between an 8-step and a 2-step run, so set-up is not counted).
 */
async function opsPerStep(backend: Backend, w: Workload): Promise<{ batched: number; single: number; byName: Record<string, number> }> {
  const count = async (steps: number, batched: boolean) => {
    const c = counting(backend);
    if (batched) await runSweepGroup(c.backend, lrs(w).map((lr) => ({ cfg: cfgOf(w, lr, steps), sink: nullSink() })), w.data);
    else await runExperiment(c.backend, cfgOf(w, w.lrMax, steps), w.data, nullSink());
    return c.calls;
  };
  const per = (a: Map<string, number>, b: Map<string, number>) => {
    const out: Record<string, number> = {};
    for (const [k, v] of b) if (isOp(k) && v - (a.get(k) ?? 0) > 0) out[k] = (v - (a.get(k) ?? 0)) / 6;
    return out;
  };
  const b = per(await count(2, true), await count(8, true)), s = per(await count(2, false), await count(8, false));
  const sum = (o: Record<string, number>) => Object.values(o).reduce((x, y) => x + y, 0);
  return { batched: sum(b), single: sum(s), byName: b };
}

interface SweepTimes { batchedS: number; sequentialS: number; finalLoss: number[] }
const targets: Target[] = [];
const lines: string[] = [];
const eoslabLoss = new Map<string, number[]>();

async function benchBackend(backend: Backend, name: 'wasm' | 'webgpu', cpuLike: boolean): Promise<void> {
  for (const w of workloads) {
    const p = `sweep_${w.key}`, cfgs = lrs(w).map((lr) => cfgOf(w, lr, w.steps));
    log(`[${elapsed()}] ${name}: ${w.key} (${w.arch} on ${w.dataset}), K = ${K}, ${w.steps} steps: warm-up`);
    // Pipelines (WebGPU) and scratch for both shapes are made here, not in the timed runs, and
    // the Wasm engine's code is hot: V8 starts Wasm functions in its baseline compiler and
    // optimises the hot ones over the first ~10⁵ calls (the worker threads' too), which made the
    // first few hundred steps of whichever part ran first up to 2× slower than its steady state.
    const warmSteps = name === 'wasm' ? w.steps : 1;
    await runSweepGroup(backend, lrs(w).map((lr) => ({ cfg: cfgOf(w, lr, warmSteps), sink: nullSink() })), w.data);
    for (let r = 0; r < (name === 'wasm' ? 4 : 1); r++) await runExperiment(backend, cfgOf(w, w.lrMax, warmSteps), w.data, nullSink());
    const batchedS: number[] = [], sequentialS: number[] = [];
    let b: { s: number; results: RunResult[] } | null = null;
    const seqResults: RunResult[] = [];
    for (let rep = 0; rep < w.reps; rep++) {
      log(`[${elapsed()}] ${name}: ${w.key} batched${w.reps > 1 ? ` (${rep + 1}/${w.reps})` : ''}`);
      b = await timed((prepare) => runSweepGroup(backend, cfgs.map((cfg) => ({ cfg, sink: nullSink() })), w.data, { prepare }));
      batchedS.push(b.s);
      log(`[${elapsed()}] ${name}: ${w.key} one after another${w.reps > 1 ? ` (${rep + 1}/${w.reps})` : ''}`);
      let seqS = 0;
      seqResults.length = 0;
      for (const cfg of cfgs) {
        const r = await timed(async (prepare) => [await runExperiment(backend, cfg, w.data, nullSink(), { prepare })]);
        seqS += r.s;
        seqResults.push(r.results[0]);
      }
      sequentialS.push(seqS);
    }
    const ops = await opsPerStep(backend, w);
    const gradK = await gradMs(backend, w, K, Math.min(w.steps, 20)), grad1 = await gradMs(backend, w, 1, Math.min(w.steps, 20));
    const t: SweepTimes = { batchedS: median(batchedS), sequentialS: median(sequentialS), finalLoss: b!.results.map((r) => r.lastRow?.train_loss ?? NaN) };
    const seqLoss = seqResults.map((r) => r.lastRow?.train_loss ?? NaN);
    const rows = w.steps + 1, speedup = t.sequentialS / t.batchedS;
    const batchedStepMs = (1000 * t.batchedS) / rows, seqStepMs = (1000 * t.sequentialS) / (rows * K);
    const finished = b!.results.filter((r) => r.reason === 'max_steps').length;
    eoslabLoss.set(`${w.key}_${name}`, t.finalLoss);
    Object.assign(report, {
      [`${p}_speedup_${name}`]: speedup, [`${p}_reps_${name}`]: w.reps,
      [`${p}_batched_s_reps_${name}`]: batchedS, [`${p}_sequential_s_reps_${name}`]: sequentialS,
      [`${p}_batched_s_${name}`]: t.batchedS, [`${p}_sequential_s_${name}`]: t.sequentialS,
      [`${p}_members_per_s_batched_${name}`]: K / t.batchedS, [`${p}_members_per_s_sequential_${name}`]: K / t.sequentialS,
      [`${p}_batched_step_ms_${name}`]: batchedStepMs, [`${p}_batched_grad_ms_${name}`]: gradK,
      [`${p}_batched_overhead_share_${name}`]: Math.max(0, 1 - gradK / batchedStepMs),
      [`${p}_sequential_step_ms_${name}`]: seqStepMs, [`${p}_single_grad_ms_${name}`]: grad1,
      [`${p}_members_finished_${name}`]: finished,
      [`${p}_ops_per_step_batched_${name}`]: ops.batched, [`${p}_ops_per_step_single_${name}`]: ops.single,
      [`${p}_batched_ops_by_kind_${name}`]: Object.entries(ops.byName).map(([k, v]) => `${k}:${v}`).join(' '),
      // Same backend, same members: batched and alone must agree bit for bit (tests/sweep.test.ts); a difference is a bug.
      [`${p}_batched_equals_sequential_${name}`]: t.finalLoss.every((x, i) => Object.is(x, seqLoss[i])),
    });
    const repNote = w.reps > 1 ? ` (medians of ${w.reps} alternating runs; speedups ${batchedS.map((x, i) => (sequentialS[i] / x).toFixed(2)).join(', ')})` : '';
    lines.push(`  ${name} ${w.key.padEnd(6)}: batched ${t.batchedS.toFixed(2)} s (${(K / t.batchedS).toFixed(2)} members/s), one after another ` +
      `${t.sequentialS.toFixed(2)} s (${(K / t.sequentialS).toFixed(2)} members/s): ${speedup.toFixed(2)}×${repNote}; batched step ${batchedStepMs.toFixed(2)} ms ` +
      `of which the K-model gradient ${gradK.toFixed(2)} ms; single step ${seqStepMs.toFixed(2)} ms (gradient ${grad1.toFixed(2)} ms); ${finished}/${K} ran all steps; ` +
      `backend ops per step: batched ${ops.batched} (${Object.entries(ops.byName).map(([k, v]) => `${k} ${v}`).join(', ')}), one member alone ${ops.single}`);
    // The issue's targets are the small MLP's, "where dispatch overhead dominates": ≥ 4× on the Wasm
    // core, ≥ 8× on a GPU. fc-tanh at N = 5000 is compute-bound for one member already (a K-model
    // step costs about K/5 single ones on the Wasm core and K/3.5 on an H200), so it is reported, not judged.
    const goal = w.key !== 'small' ? null : name === 'wasm' ? 4 : 8;
    if (goal !== null) {
      // A CPU Vulkan driver is no GPU: the ≥ 8× GPU target is not judged there.
      const met = name === 'webgpu' && cpuLike ? null : speedup >= goal;
      const where = name === 'wasm' ? `wasm, ${(backend as { threads?: number }).threads ?? 1} threads on ${cpus().length} cores` : name;
      targets.push([`target_${p}_speedup_${name}_met`, `${w.key} sweep batched ≥ ${goal}× one after another (${where}${met === null ? ', CPU Vulkan: not judged' : ''})`, met, `${speedup.toFixed(2)}×`]);
      report[`target_${p}_speedup_${name}_met`] = met;
    }
    json.save();
  }
}

// ---- Wasm core -------------------------------------------------------------------
if (!argv['skip-wasm']) {
  const { createNodeWasm, enableNodeRelaxedSimd } = await import('../hosts/node/wasm.js');
  enableNodeRelaxedSimd(); // the build the CLI runs
  const wasm = await createNodeWasm({ threads });
  report.sweep_wasm_backend = `${wasm.description}; ${wasm.threads} threads`;
  try {
    await benchBackend(wasm, 'wasm', false);
  } catch (e) {
    report.sweep_wasm = { skipped: oneLine(e) };
    lines.push(`  wasm skipped: ${oneLine(e)}`);
  } finally {
    wasm.destroy();
  }
  json.save();
}

// ---- The command line: one `eoslab sweep` against K `eoslab train` processes ---------------
// What a user without sweeps does (the reference code runs each member as its own process):
// every process pays Node's start, the Wasm compile and worker start, the data and its run
// directory; the sweep pays them once. Both write the same run directories (Wasm core).
if (!argv['skip-wasm'] && !argv['skip-cli']) {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const w = workloads[0];
  const dir = mkdtempSync(join(tmpdir(), 'eoslab-bench-sweep-'));
  const common = ['--backend', 'wasm', '--eig-freq', '0', '--abridged-size', '0', '--physical-batch-size', String(w.physicalBatch),
    '--checkpoint-every', '0', ...(threads ? ['--threads', String(threads)] : [])];
  const cli = (args: string[]) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', ...args], { encoding: 'utf8', env: { ...process.env, EOSLAB_RESULTS: dir } });
    if (r.status !== 0) throw new Error(`eoslab ${args.slice(0, 2).join(' ')} exited ${r.status}: ${oneLine(r.stderr || r.stdout || '')}`);
    return (performance.now() - t0) / 1000;
  };
  try {
    log(`[${elapsed()}] CLI: eoslab sweep train (K = ${K}) against ${K} eoslab train processes`);
    const lrList = lrs(w).map((x) => String(x));
    const sweepS = cli(['sweep', 'train', w.dataset, w.arch, 'mse', lrList.join(','), String(w.steps), ...common, '--out', join(dir, 'sweep')]);
    let trainS = 0;
    lrList.forEach((lr, k) => { trainS += cli(['train', w.dataset, w.arch, 'mse', lr, String(w.steps), ...common, '--out', join(dir, `train-${k}`)]); });
    Object.assign(report, { sweep_small_cli_sweep_s_wasm: sweepS, sweep_small_cli_train_processes_s_wasm: trainS, sweep_small_cli_speedup_wasm: trainS / sweepS });
    lines.push(`  CLI small (wasm): eoslab sweep ${sweepS.toFixed(2)} s, ${K} eoslab train processes ${trainS.toFixed(2)} s: ${(trainS / sweepS).toFixed(2)}× ` +
      `(process start, Wasm compile and run directories included; not the target's measure)`);
  } catch (e) {
    report.sweep_small_cli = { skipped: oneLine(e) };
    lines.push(`  CLI small skipped: ${oneLine(e)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  json.save();
}

// ---- WebGPU -------------------------------------------------------------------------
if (!argv['skip-webgpu']) {
  log(`[${elapsed()}] WebGPU: is there an adapter?`);
  const probe = await probeWebGpu();
  try {
    if ('why' in probe) throw new Error(probe.why);
    const { createNodeGpu } = await import('../hosts/node/device.js');
    const g = await createNodeGpu();
    report.sweep_webgpu_adapter = g.backend.description;
    try {
      await benchBackend(g.backend, 'webgpu', g.cpuLike);
    } finally {
      g.backend.destroy(); // Dawn busy-polls a core while a device lives
    }
  } catch (e) {
    report.sweep_webgpu = { skipped: oneLine(e) };
    lines.push(`  WebGPU skipped: ${oneLine(e)}`);
    log(`WebGPU half skipped: ${oneLine(e)}`);
  }
  json.save();
}

// ---- PyTorch, K trainings one after another ---------------------------------------------
if (!argv['skip-torch']) {
  for (const w of workloads) {
    const p = `sweep_${w.key}_torch_${torchDevice}`;
    log(`[${elapsed()}] PyTorch ${torchDevice}: ${w.key}, ${K} trainings one after another`);
    try {
      const model = runModel({ arch: w.arch }, w.data);
      const theta0 = new Float32Array(K * model.P);
      const t0 = initParams(model, { seed: 0, scheme: parseArchId(w.arch, w.data.c).init });
      for (let k = 0; k < K; k++) theta0.set(t0, k * model.P);
      const r = await runTorch(model, w.data.train.X, w.data.train.Y, w.data.train.N, {
        device: torchDevice, B: w.physicalBatch, threads: threads ?? cpus().length, sweep: { lrs: lrs(w), steps: w.steps, theta0 }, timeoutMs: 600_000,
      });
      const s = r.json.sweep_ms! / 1000;
      Object.assign(report, { [`${p}_s`]: s, [`${p}_members_per_s`]: K / s, [`${p}_device_name`]: r.json.device_name ?? torchDevice, sweep_torch_version: r.json.torch });
      const parts = [`  PyTorch ${torchDevice} ${w.key.padEnd(6)}: ${s.toFixed(2)} s one after another (${(K / s).toFixed(2)} members/s)`];
      for (const name of ['wasm', 'webgpu']) {
        const bs = report[`sweep_${w.key}_batched_s_${name}`];
        if (typeof bs !== 'number') continue;
        report[`sweep_${w.key}_batched_${name}_over_torch_${torchDevice}`] = s / bs;
        parts.push(`eoslab ${name} batched ${(s / bs).toFixed(2)}× its members/s`);
        // Same θ₀, η and data in float32: the final losses agree to rounding (different summation orders).
        const el = eoslabLoss.get(`${w.key}_${name}`), tl = r.json.sweep_final_loss ?? [];
        if (el) report[`sweep_${w.key}_torch_${torchDevice}_vs_${name}_final_loss_rel_diff`] = Math.max(...el.map((x, i) => Math.abs(x - tl[i]) / Math.abs(x)));
      }
      lines.push(parts.join('; '));
    } catch (e) {
      report[p] = { skipped: oneLine(e) };
      lines.push(`  PyTorch ${torchDevice} ${w.key} skipped: ${oneLine(e)}`);
    }
    json.save();
  }
}

console.log([`eoslab sweep bench${quick ? ' (--quick)' : ''}: K = ${K} learning rates, GD, ${smallSteps} steps (small) / ${fcSteps} (fc-tanh, N = ${N})`,
  ...lines, '', 'targets:', ...targetLines(targets), `total ${elapsed()}`].join('\n'));
if (argv.json) log(`wrote ${argv.json}`);
process.exit(0);
