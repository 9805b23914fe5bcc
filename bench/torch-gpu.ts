// `node --import tsx bench/torch-gpu.ts [--device cuda|cpu] [--quick] [--json FILE]`:
// PyTorch fp32 on the benches' own workloads — fc-tanh (bench/run.ts's θ, v
// and data) and cnn-relu (bench/cnn.ts's) — full-batch gradient and HVP
// (double backward) in the same physical batches eoslab uses, each first
// checked on a small problem against the float64 reference. Meant for the
// GPU machine (bench pack, run.sh), where it gives the CUDA figures next to
// eoslab's WebGPU ones; without torch, or without CUDA, it says why in one
// line and records `{"skipped": …}`.
import { parseArgs } from 'node:util';
import type { Model } from '../core/ts/nn/model.js';
import { JsonReport, oneLine, relErr, syntheticData } from './common.js';
import { benchLayout, benchParams, CLASSES, D_IN } from './eoslab.js';
import { cnnData, cnnModel, cnnParams, reference64, SEEDS } from './cnn-problem.js';
import { runTorch, type TorchDevice } from './torch-run.js';

const { values: argv } = parseArgs({
  options: {
    device: { type: 'string', default: 'cuda' },
    quick: { type: 'boolean', default: false },
    n: { type: 'string' },
    'physical-batch': { type: 'string' },
    reps: { type: 'string' },
    threads: { type: 'string' },
    tf32: { type: 'boolean', default: false },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (argv.help) {
  console.log(`usage: node --import tsx bench/torch-gpu.ts [--device cuda|cpu] [--quick] [--n N] [--physical-batch B] [--reps R] [--threads T] [--tf32] [--json FILE]
  fc-tanh and cnn-relu full-batch gradient and HVP in PyTorch fp32 (default N = 5000, 1000 with --quick)
  --physical-batch B  fc-tanh's examples per pass (default min(1000, N), as bench/run.ts; cnn-relu keeps min(500, N))
  --tf32  let cuDNN/cuBLAS round inputs to TF32 (PyTorch's default for convolutions on Ampere and later);
          keys torch_<device>_tf32_…. Without it TF32 is off: strict fp32, as eoslab computes`);
  process.exit(0);
}
const log = (s: string) => console.error(s);
const device = argv.device as TorchDevice;
if (device !== 'cuda' && device !== 'cpu') { log(`torch-gpu: --device takes cuda or cpu, got '${argv.device}'`); process.exit(1); }
const N = argv.n ? Number(argv.n) : argv.quick ? 1000 : 5000;
if (!Number.isInteger(N) || N < 1) { log(`torch-gpu: --n ${argv.n} is not a positive integer: pass e.g. --n 1000`); process.exit(1); }
const reps = argv.reps ? Number(argv.reps) : argv.quick ? 2 : 5;
const fcB = argv['physical-batch'] ? Number(argv['physical-batch']) : Math.min(1000, N);
if (!Number.isInteger(fcB) || fcB < 1 || fcB > N) { log(`torch-gpu: --physical-batch ${argv['physical-batch']} must be an integer from 1 to N = ${N}: pass e.g. --physical-batch ${Math.min(1000, N)}`); process.exit(1); }
const threads = argv.threads ? Number(argv.threads) : 2;
const json = new JsonReport(argv.json);
json.saveOnCrash(log);
const report = json.data;
const tf32 = argv.tf32!;
const pre = `torch_${device}${tf32 ? '_tf32' : ''}`;
report[`${pre}_N`] = N;

interface Workload { key: string; model: Model; theta: Float32Array; v: Float32Array; X: Float32Array; Y: Float32Array; B: number; small: { X: Float32Array; Y: Float32Array } }

const fc = benchLayout();
const fcp = benchParams(fc);
const cnn = cnnModel();
const cnnp = cnnParams(cnn);
const workloads: Workload[] = [
  { key: 'fctanh', model: fc.model, ...fcp, ...syntheticData(N, D_IN, CLASSES, 2024), B: fcB, small: syntheticData(16, D_IN, CLASSES, SEEDS.small) },
  { key: 'cnn', model: cnn, ...cnnp, ...cnnData(N), B: Math.min(500, N), small: cnnData(16, SEEDS.small) },
];

const lines: string[] = [];
for (const w of workloads) {
  const k = `${pre}_${w.key}`;
  try {
    log(`PyTorch ${device}: ${w.key} small-problem check (N = 16)`);
    const chk = await runTorch(w.model, w.small.X, w.small.Y, 16, { device, B: 8, threads, tf32, theta: w.theta, v: w.v, check: true, timeoutMs: 300_000 });
    const ref = await reference64(w.model, w.small.X, w.small.Y, 16, w.theta, w.v);
    if (ref.ref) {
      report[`${k}_grad_rel_err_f64`] = relErr(chk.grad!, ref.ref.grad);
      report[`${k}_hvp_rel_err_f64`] = relErr(chk.hvp!, ref.ref.hvp);
    }
    log(`PyTorch ${device}: ${w.key} gradient and HVP, N = ${N}, physical batch ${w.B}`);
    const r = await runTorch(w.model, w.X, w.Y, N, { device, B: w.B, threads, tf32, reps, budgetS: argv.quick ? 30 : 120, theta: w.theta, v: w.v, timeoutMs: 600_000 });
    Object.assign(report, {
      [`${k}_grad_ms`]: r.json.grad_ms ?? null, [`${k}_hvp_ms`]: r.json.hvp_ms ?? null,
      [`${k}_grad_times_ms`]: (r.json.grad_times_ms ?? []).join(' '), [`${k}_hvp_times_ms`]: (r.json.hvp_times_ms ?? []).join(' '),
      [`${k}_loss`]: r.json.loss ?? null, [`${pre}_device_name`]: r.json.device_name ?? device, [`${pre}_version`]: r.json.torch,
    });
    lines.push(`  PyTorch ${device} ${w.key}: gradient ${r.json.grad_ms?.toFixed(2)} ms, HVP ${r.json.hvp_ms?.toFixed(2)} ms` +
      (ref.ref ? ` (small-problem error vs float64: ${(report[`${k}_grad_rel_err_f64`] as number).toExponential(1)}, ${(report[`${k}_hvp_rel_err_f64`] as number).toExponential(1)})` : ''));
  } catch (e) {
    report[k] = { skipped: oneLine(e) };
    lines.push(`  PyTorch ${device} ${w.key} skipped: ${oneLine(e)}`);
  }
  json.save();
}
console.log([`PyTorch ${device} ${tf32 ? 'fp32 with TF32 allowed' : 'fp32 (TF32 off)'}, N = ${N}:`, ...lines].join('\n'));
process.exit(0);
