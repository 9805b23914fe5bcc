// The real networks' costs (issue 14): resnet32 and vgg11 on N CIFAR-shaped
// inputs (3×32×32, 10 classes, MSE; N = 1000, --quick 100): full-batch
// gradient and HVP time on the Wasm core and on WebGPU, PyTorch CPU in the
// same run on the same θ, v and data where a Python with torch is found
// (resnets: bench/torch_models.py's CIFAR ResNet, θ loaded by state-dict
// names; vgg11: its nn.Sequential), and the HVP's device memory
// (ModelObjective.scratchBytes: activations, cotangents, tangents and
// R-cotangents of one physical batch, K = 1; plus data and θ, v, Hv).
// BatchNorm nets run in train() mode everywhere: statistics per physical batch.
//   node --import tsx bench/real-nets.ts [--quick] [--json FILE] [--webgpu-budget S] [--help]
// On a CPU Vulkan driver (lavapipe) one resnet32 physical batch takes minutes
// on WebGPU: within --webgpu-budget the WebGPU reps cover the first k
// physical batches and are scaled to N, and the output says so (as
// bench/cnn.ts does for TF.js). The WebGPU loss and gradient are checked
// against the Wasm core's on the same rows.
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Backend } from '../core/ts/backend/types.js';
import { modelFromArch, parseArchId } from '../core/ts/nn/arch.js';
import { initParams } from '../core/ts/nn/init.js';
import type { Model } from '../core/ts/nn/model.js';
import { uploadData } from '../core/ts/objective/data.js';
import { ModelObjective } from '../core/ts/objective/model-objective.js';
import { createNodeWasm } from '../hosts/node/wasm.js';
import { fmt, JsonReport, median, MiB, oneLine, relErr, signedArray, syntheticData, timeReps } from './common.js';
import { runTorch } from './torch-run.js';
import { probeWebGpu, setUpVulkanDriver } from './webgpu-setup.js';

const { values: argv } = parseArgs({
  options: {
    json: { type: 'string' },
    quick: { type: 'boolean', default: false },
    n: { type: 'string' },
    batch: { type: 'string' },
    threads: { type: 'string', default: '2' },
    reps: { type: 'string' },
    nets: { type: 'string', default: 'resnet32,vgg11' },
    'webgpu-budget': { type: 'string' },
    'torch-budget': { type: 'string' },
    driver: { type: 'string', default: 'auto' },
    'skip-webgpu': { type: 'boolean', default: false },
    'skip-torch': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (argv.help) {
  console.log(`usage: node --import tsx bench/real-nets.ts [--quick] [--json FILE] [--n N] [--batch B] [--threads T] [--reps R]
         [--nets resnet32,vgg11] [--webgpu-budget S] [--torch-budget S] [--driver auto|lavapipe|swiftshader|system]
         [--skip-webgpu] [--skip-torch]
  --quick            N = 100, physical batch 100, 2 reps, 60 s budgets: a smoke run
  --nets LIST        arch ids on [3, 32, 32] → 10 (default resnet32,vgg11; resnet20, vgg11:w0.25, ... too)
  --webgpu-budget S  seconds of timed WebGPU reps per net (default 240, 60 with --quick; tuning and
                     the warm-up of one physical batch are not counted): when 2 reps of gradient and
                     HVP over all N would not fit, the reps cover the first k physical batches and are
                     scaled by N / (k·B), and the output says so; at least one rep of each is timed
  --torch-budget S   seconds the PyTorch peer may spend timing each net (default 240, 60 with --quick)`);
  process.exit(0);
}

const quick = argv.quick!;
/** A numeric flag: a positive integer, or (seconds) any number ≥ 0. */
const num = (k: 'n' | 'batch' | 'threads' | 'reps' | 'webgpu-budget' | 'torch-budget', d: number, seconds = false): number => {
  const s = argv[k];
  if (s === undefined) return d;
  const x = Number(s);
  if (seconds ? !(x >= 0) : !(Number.isInteger(x) && x > 0)) {
    console.error(`real-nets: --${k} wants ${seconds ? 'a number of seconds ≥ 0' : 'a positive integer'}, got '${s}'`);
    process.exit(1);
  }
  return x;
};
const N = num('n', quick ? 100 : 1000), B = num('batch', quick ? 100 : 250), threads = num('threads', 2), reps = num('reps', quick ? 2 : 3);
const webgpuBudgetMs = num('webgpu-budget', quick ? 60 : 240, true) * 1000, torchBudgetS = num('torch-budget', quick ? 60 : 240, true);
const wasmBudgetMs = quick ? 60_000 : 120_000;
const nets = argv.nets!.split(',').map((s) => s.trim()).filter(Boolean);
const D = 3 * 32 * 32, C = 10;
const log = (s: string) => console.error(s);
const loadStart = loadavg();

// The driver as `npm start` sets it up, before anything makes a device (this may re-exec the process).
const driverNote = argv['skip-webgpu'] ? 'not used (--skip-webgpu)' : setUpVulkanDriver(argv.driver as 'auto', log).note;
const json = new JsonReport(argv.json);
json.saveOnCrash(log);
const report = json.data;
Object.assign(report, {
  real_N: N, real_physical_batch: B, real_threads: threads, real_reps: reps, real_quick: quick, real_nets: nets.join(','),
  real_webgpu_budget_s: webgpuBudgetMs / 1000, real_driver: driverNote, cpu_cores: cpus().length, cpu_model: cpus()[0]?.model.trim() ?? '?',
  node: process.version, real_loadavg_start: loadStart.map((x) => x.toFixed(2)).join(' '),
});
json.save();
console.log(`real-nets bench: N = ${N} inputs [3, 32, 32], ${C} classes, MSE, physical batch ${B}, Wasm ${threads} threads${quick ? ' (--quick)' : ''}; ` +
  `load average ${loadStart.map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores`);

/** A net's problem: the same θ, v and data for every implementation. */
interface Net { arch: string; key: string; m: Model; X: Float32Array; Y: Float32Array; theta: Float32Array; v: Float32Array }

function makeNet(arch: string): Net {
  const m = modelFromArch(arch, [3, 32, 32], C);
  const { X, Y } = syntheticData(N, D, C, 7);
  const theta = initParams(m, { seed: 1, scheme: parseArchId(arch, C).init });
  return { arch, key: `real_${arch.replace(/[^a-zA-Z0-9]+/g, '_')}`, m, X, Y, theta, v: signedArray(m.P, 2) };
}

/** The objective over the first n rows, with θ, v, g and Hv buffers; grad/hvp keep the last loss. */
function setUp(be: Backend, net: Net, n: number) {
  const data = uploadData(be, net.X.subarray(0, n * D), net.Y.subarray(0, n * C), n, D, C);
  const obj = new ModelObjective(be, net.m, data, { loss: 'mse', physicalBatch: B });
  const [tb, vb, gb, hb] = ['θ', 'v', 'g', 'Hv'].map((s) => be.alloc(net.m.P, s));
  be.write(tb, net.theta);
  be.write(vb, net.v);
  let loss = NaN;
  return {
    obj,
    grad: async () => { loss = (await obj.grad(tb, gb)).loss[0]; },
    hvp: async () => { await obj.hvp(tb, [vb], [hb]); },
    loss: () => loss,
    readGrad: () => be.read(gb),
    /** The HVP's device memory: data, θ, v, Hv and the objective's scratch. */
    mem: () => ({ scratch: obj.scratchBytes(), total: obj.scratchBytes() + n * (D + C) * 4 + 3 * net.m.P * 4 }),
    dispose: () => { for (const b of [tb, vb, gb, hb, data.X, data.Y]) be.release(b); obj.dispose(); },
  };
}

async function msOf(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * Appends timed runs of fn to `times` until there are `reps`, or sooner once
 * the next would pass the budget (runs already in `times` count; at least one).
 */
async function repsWithin(fn: () => Promise<void>, reps: number, budgetMs: number, times: number[] = []): Promise<number[]> {
  const start = performance.now() - times.reduce((a, b) => a + b, 0);
  while (times.length < Math.max(1, reps)) {
    if (times.length > 0 && performance.now() - start + times[times.length - 1] > budgetMs) break;
    times.push(await msOf(fn));
  }
  return times;
}

const list = (ts: number[]) => ts.map((t) => t.toFixed(0)).join(' ');
const relDiff = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const mb = (bytes: number) => bytes / MiB;
const problems = nets.map(makeNet);
/** The Wasm core's full-N loss and gradient per net: the yardstick of the WebGPU check. */
const wasmFull = new Map<string, { loss: number; grad: Float32Array }>();

// ---- Wasm core, then PyTorch CPU, net by net -------------------------------------------------
for (const net of problems) {
  const { arch, key: k, m } = net;
  report[`${k}_P`] = m.P;
  log(`${arch} (P = ${m.P}): Wasm core`);
  // A Wasm instance per net: its memory never shrinks, and resnet32's HVP scratch (~3.5 GiB at B = 250) leaves no room for vgg11's.
  const be = await createNodeWasm({ threads });
  try {
    const s = setUp(be, net, N);
    const g = await timeReps(s.grad, reps, wasmBudgetMs);
    const h = await timeReps(s.hvp, reps, wasmBudgetMs);
    wasmFull.set(arch, { loss: s.loss(), grad: await s.readGrad() });
    const mem = s.mem();
    s.dispose();
    Object.assign(report, {
      [`${k}_wasm_grad_ms`]: median(g.times), [`${k}_wasm_hvp_ms`]: median(h.times),
      [`${k}_wasm_grad_times_ms`]: list(g.times), [`${k}_wasm_hvp_times_ms`]: list(h.times), [`${k}_wasm_loss`]: s.loss(),
      [`${k}_hvp_scratch_mb`]: mb(mem.scratch), [`${k}_hvp_device_mb`]: mb(mem.total),
    });
    console.log(`${arch} (P = ${m.P}): Wasm gradient ${fmt(median(g.times), 0)} ms, HVP ${fmt(median(h.times), 0)} ms; ` +
      `HVP scratch ${fmt(mb(mem.scratch))} MiB (B = ${B}), with data and θ, v, Hv ${fmt(mb(mem.total))} MiB; loss ${s.loss().toPrecision(6)}`);
  } catch (e) {
    report[`${k}_wasm`] = { skipped: oneLine(e) };
    console.log(`${arch}: Wasm failed: ${oneLine(e)}`);
  } finally {
    be.destroy();
  }
  json.save();

  if (argv['skip-torch']) {
    report[`${k}_torch`] = { skipped: '--skip-torch' };
    continue;
  }
  // A resnet is a nested module (torch_models.py), loaded by eoslab's names. torch_peer.py's nn.Sequential names its
  // parameters '<i>.weight': vgg11's nested names (features.<i>, classifier.<i>) are renamed to those indices.
  const resnet = /^resnet\d+$/.test(arch);
  const flat = resnet ? m : { ...m, params: m.layers.flatMap((l) => l.params.map((p) => ({ ...p, name: `${l.index}.${p.name.split('.').pop()}` }))) } as Model;
  try {
    if (!resnet && m.layers.some((l) => l.kind === 'residual')) throw new Error(`${arch} has residual blocks and no module in bench/torch_models.py`);
    log(`${arch}: PyTorch CPU, ${threads} threads`);
    const t = (await runTorch(flat, net.X, net.Y, N, { device: 'cpu', B, threads, reps, budgetS: torchBudgetS, theta: net.theta, v: net.v, module: resnet ? arch : undefined })).json;
    const w = wasmFull.get(arch);
    Object.assign(report, {
      [`${k}_torch`]: `PyTorch ${t.torch} CPU, ${t.threads} threads, ${resnet ? `torch_models.py ${arch}` : 'nn.Sequential'}`,
      [`${k}_torch_grad_ms`]: t.grad_ms ?? null, [`${k}_torch_hvp_ms`]: t.hvp_ms ?? null,
      [`${k}_torch_grad_times_ms`]: list(t.grad_times_ms ?? []), [`${k}_torch_hvp_times_ms`]: list(t.hvp_times_ms ?? []), [`${k}_torch_loss`]: t.loss ?? null,
    });
    // Same θ and rows: the two losses differ by float32 rounding only.
    if (w && t.loss !== undefined) report[`${k}_torch_loss_rel_diff_vs_wasm`] = relDiff(w.loss, t.loss);
    if (report[`${k}_wasm_grad_ms`] && t.grad_ms) {
      report[`${k}_wasm_grad_over_torch`] = (report[`${k}_wasm_grad_ms`] as number) / t.grad_ms;
      report[`${k}_wasm_hvp_over_torch`] = (report[`${k}_wasm_hvp_ms`] as number) / t.hvp_ms!;
    }
    console.log(`${arch}: PyTorch ${t.torch} CPU (${t.threads} threads) gradient ${fmt(t.grad_ms, 0)} ms, HVP ${fmt(t.hvp_ms, 0)} ms; loss ${t.loss?.toPrecision(6)}` +
      (w && t.loss !== undefined ? ` (relative difference to the Wasm loss ${relDiff(w.loss, t.loss).toExponential(1)})` : ''));
  } catch (e) {
    report[`${k}_torch`] = { skipped: oneLine(e) };
    console.log(`${arch}: PyTorch skipped (${oneLine(e)})`);
  }
  json.save();
}

// ---- WebGPU: one device for every net --------------------------------------------------------
/** Per net: the rows the WebGPU reps covered, and the loss and gradient they ended with. */
const gpuRows = new Map<string, { n: number; loss: number; grad: Float32Array }>();
if (argv['skip-webgpu']) {
  report.real_webgpu = { skipped: '--skip-webgpu' };
} else {
  const { createNodeGpu } = await import('../hosts/node/device.js');
  let gpu: Awaited<ReturnType<typeof createNodeGpu>> | null = null;
  try {
    // Asked of a child first: Dawn's own Vulkan warnings of a failed start stay out of this output.
    const probe = await probeWebGpu();
    if ('why' in probe) throw new Error(probe.why);
    gpu = await createNodeGpu({ backend: { tuneCache: new Map() } });
    report.real_webgpu_adapter = gpu.backend.description;
  } catch (e) {
    report.real_webgpu = { skipped: oneLine(e) };
    log(`WebGPU half skipped: ${oneLine(e)}`);
  }
  if (gpu) {
    const be = gpu.backend;
    try {
      for (const net of problems) await webgpuNet(be, net);
    } finally {
      be.destroy(); // Dawn busy-polls a core while a device lives
    }
  }
}

/**
 * One physical batch first: tuning, a warm-up of each op (pipeline compiles),
 * then one timed rep each, which sizes the rest. When 2 reps of both over all
 * N would pass the budget, the reps cover the first k physical batches and
 * the times are scaled by N / (k·B): each batch is the same work.
 */
async function webgpuNet(be: Backend, net: Net): Promise<void> {
  const { arch, key: k } = net, nb = Math.ceil(N / B);
  log(`${arch}: WebGPU (${be.description.split(' / ')[0]})`);
  const first = setUp(be, net, Math.min(B, N));
  let one: typeof first | null = first, many: typeof first | null = null;
  try {
    const tuneMs = await msOf(() => first.obj.tune());
    const warm = [await msOf(first.grad), await msOf(first.hvp)];
    const g1 = await msOf(first.grad), h1 = await msOf(first.hvp);
    const chunks = 2 * nb * (g1 + h1) <= webgpuBudgetMs ? nb : Math.max(1, Math.min(nb, Math.floor(webgpuBudgetMs / (2 * (g1 + h1)))));
    const n = Math.min(N, chunks * B), scale = N / n;
    let s = first, gt: number[] = [], ht: number[] = [];
    if (chunks === 1) {
      gt = [g1];
      ht = [h1];
    } else {
      // Scratch is O(B): the bigger objective needs one batch's worth again, so the first goes first.
      first.dispose();
      one = null;
      s = many = setUp(be, net, n);
    }
    log(`  one physical batch of ${Math.min(B, N)}: gradient ${fmt(warm[0], 0)} then ${fmt(g1, 0)} ms, HVP ${fmt(warm[1], 0)} then ${fmt(h1, 0)} ms` +
      (chunks < nb ? `; timing ${chunks} of ${nb} physical batches (N = ${n}) and scaling ×${scale.toFixed(2)} to fit --webgpu-budget` : ''));
    gt = await repsWithin(s.grad, reps, (webgpuBudgetMs * g1) / (g1 + h1), gt);
    const loss = s.loss(), grad = await s.readGrad();
    ht = await repsWithin(s.hvp, reps, (webgpuBudgetMs * h1) / (g1 + h1), ht);
    gpuRows.set(arch, { n, loss, grad });
    const mem = s.mem(), fullData = (N - n) * (D + C) * 4;
    Object.assign(report, {
      [`${k}_webgpu_grad_ms`]: median(gt) * scale, [`${k}_webgpu_hvp_ms`]: median(ht) * scale,
      [`${k}_webgpu_grad_times_ms`]: list(gt), [`${k}_webgpu_hvp_times_ms`]: list(ht),
      [`${k}_webgpu_measured_n`]: n, [`${k}_webgpu_scale`]: scale, [`${k}_webgpu_loss`]: loss,
      [`${k}_webgpu_tune_ms`]: tuneMs, [`${k}_webgpu_warmup_ms`]: list(warm),
      // Scratch depends on B only; the data at full N is what a run over all N rows would hold.
      [`${k}_webgpu_hvp_scratch_mb`]: mb(mem.scratch), [`${k}_webgpu_hvp_device_mb`]: mb(mem.total + fullData),
    });
    if (scale !== 1) {
      report[`${k}_webgpu_note`] = `${k}_webgpu_grad_ms/_hvp_ms are NOT measured at N = ${N}: timed on ${chunks} of ${nb} physical batches ` +
        `(N = ${n}) to fit --webgpu-budget ${webgpuBudgetMs / 1000} s, and multiplied by ${scale.toFixed(2)} (each physical batch is the same work)`;
    }
    console.log(`${arch}: WebGPU gradient ${fmt(median(gt) * scale, 0)} ms, HVP ${fmt(median(ht) * scale, 0)} ms` +
      (scale !== 1 ? ` (measured on N = ${n}, ×${scale.toFixed(2)}; reps ${list(gt)} / ${list(ht)} ms)` : '') +
      `; HVP scratch ${fmt(mb(mem.scratch))} MiB (B = ${B}); loss ${loss.toPrecision(6)}${scale !== 1 ? ` over the first ${n} rows` : ''}`);
  } catch (e) {
    report[`${k}_webgpu`] = { skipped: oneLine(e) };
    console.log(`${arch}: WebGPU failed: ${oneLine(e)}`);
  } finally {
    one?.dispose();
    many?.dispose();
  }
  json.save();
}

// ---- WebGPU against the Wasm core on the same rows ------------------------------------------
for (const net of problems) {
  const g = gpuRows.get(net.arch), k = net.key;
  if (!g) continue;
  let w = g.n === N ? wasmFull.get(net.arch) : undefined;
  if (!w) {
    // WebGPU covered the first n rows only: the Wasm core's loss and gradient over those rows.
    const be = await createNodeWasm({ threads });
    try {
      const s = setUp(be, net, g.n);
      await s.grad();
      w = { loss: s.loss(), grad: await s.readGrad() };
      s.dispose();
    } finally {
      be.destroy();
    }
  }
  const dl = relDiff(g.loss, w.loss), dg = relErr(g.grad, w.grad);
  Object.assign(report, { [`${k}_webgpu_loss_rel_diff_vs_wasm`]: dl, [`${k}_webgpu_grad_rel_err_vs_wasm`]: dg });
  console.log(`${net.arch}: WebGPU vs Wasm on the same ${g.n} rows: loss relative difference ${dl.toExponential(1)}, gradient ‖Δ‖∞/‖g‖∞ ${dg.toExponential(1)}`);
  json.save();
}

const loadEnd = loadavg();
report.real_loadavg_end = loadEnd.map((x) => x.toFixed(2)).join(' ');
json.save();
console.log(`load average ${loadEnd.map((x) => x.toFixed(1)).join(' ')} at the end${argv.json ? `; wrote ${argv.json}` : ''}`);
process.exit(0);
