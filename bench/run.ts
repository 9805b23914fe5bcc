// `npm run bench [-- --quick] [-- --json FILE]`: eoslab's full-batch gradient
// and exact HVP against TensorFlow.js's WebGPU backend on the same adapter,
// matmul throughput per kernel variant, and the HVP's device memory.
// See bench/README.md for the keys of the JSON report.
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import type { DriverPreference } from '../hosts/node/vulkan-env.js';
import { JsonReport, oneLine, syntheticData, targetLines } from './common.js';
import { benchLayout, benchParams, CLASSES, D_IN } from './eoslab.js';
import { benchCpu, type CpuBench } from './cpu.js';
import { benchGpu, type GpuBench } from './gpu.js';
import { probeWebGpu, setUpVulkanDriver } from './webgpu-setup.js';

const { values: argv } = parseArgs({
  options: {
    json: { type: 'string' },
    quick: { type: 'boolean', default: false },
    reps: { type: 'string' },
    n: { type: 'string' },
    'physical-batch': { type: 'string' },
    driver: { type: 'string', default: 'auto' },
    'skip-matmul': { type: 'boolean', default: false },
    'skip-tfjs': { type: 'boolean', default: false },
    'skip-wasm': { type: 'boolean', default: false },
    'skip-numpy': { type: 'boolean', default: false },
    'skip-cpu-peers': { type: 'boolean', default: false },
    'skip-webgpu': { type: 'boolean', default: false },
    threads: { type: 'string' },
    'variant-timeout': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (argv.help) {
  console.log(`usage: npm run bench -- [--quick] [--json FILE] [--n N] [--physical-batch B] [--reps N] [--driver auto|lavapipe|swiftshader|system]
                      [--skip-matmul] [--skip-tfjs] [--skip-wasm] [--skip-webgpu] [--skip-numpy] [--skip-cpu-peers] [--threads N] [--variant-timeout SECONDS]
  --quick        N = 1000 examples (matmul M or L = 1000), fewer repetitions: a smoke run of a few minutes
  --n N          examples (default 5000, 1000 with --quick)
  --physical-batch B  examples per pass of eoslab's objective (default min(1000, N); TF.js and NumPy take N at
                 once, bench/torch-gpu.ts has the same flag): on a large GPU one pass of N = 5000 may beat five of 1000
  --skip-wasm    leave out the CPU half (eoslab's Wasm core vs TF.js wasm)
  --skip-webgpu  only the CPU half
  --skip-numpy   leave out the NumPy + OpenBLAS peer (python3)
  --skip-cpu-peers  leave out the CPU half's peers (TF.js wasm, NumPy) but keep the Wasm core: the bench
                 pack's choice on a GPU machine, whose minutes go to the GPU figures
  --threads N    Wasm threads (default: every core)`);
  process.exit(0);
}

const quick = argv.quick!;
const N = argv.n ? Number(argv.n) : quick ? 1000 : 5000;
if (!Number.isInteger(N) || N < 1) { console.error(`eoslab bench: --n ${argv.n} is not a positive integer: pass e.g. --n 1000`); process.exit(1); }
const PHYSICAL_BATCH = argv['physical-batch'] ? Number(argv['physical-batch']) : Math.min(1000, N);
if (!Number.isInteger(PHYSICAL_BATCH) || PHYSICAL_BATCH < 1 || PHYSICAL_BATCH > N) {
  console.error(`eoslab bench: --physical-batch ${argv['physical-batch']} must be an integer from 1 to N = ${N}: pass e.g. --physical-batch ${Math.min(1000, N)}`);
  process.exit(1);
}
const SMALL_N = 64;
const reps = argv.reps ? Number(argv.reps) : 3;
const opBudgetMs = quick ? 15_000 : 60_000;
const variantTimeoutMs = (argv['variant-timeout'] ? Number(argv['variant-timeout']) : quick ? 30 : 90) * 1000;
const started = performance.now();
const log = (s: string) => console.error(s);
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;

// Set the driver up as `npm start` and `npm test` do, before anything creates a device
// (the matmul probes inherit the choice); this may re-exec the process.
const driver = argv['skip-webgpu'] ? { note: 'not used (--skip-webgpu)' } : setUpVulkanDriver(argv.driver as DriverPreference, log);

const json = new JsonReport(argv.json);
json.saveOnCrash(log);
const report = json.data;
const notes: string[] = [];
report.quick = quick;
report.N = N;
report.physical_batch = PHYSICAL_BATCH;
report.arch = 'fc-tanh [3072,200,200,10] bias, MSE';
report.cpu_cores = cpus().length;
report.node = process.version;
report.driver = driver.note;
json.save();
log(`eoslab bench${quick ? ' (--quick)' : ''}: N = ${N}, physical batch ${PHYSICAL_BATCH}, ${reps} timed reps after a warm-up; ${driver.note}`);

// ---- CPU half: the Wasm core vs TF.js wasm (before any Dawn device exists) --------
const layout = benchLayout();
const { theta, v } = benchParams(layout);
const small = syntheticData(SMALL_N, D_IN, CLASSES, 99);
let cpu: CpuBench | null = null;
if (!argv['skip-wasm']) {
  log(`[${elapsed()}] CPU: eoslab Wasm core and TF.js wasm`);
  try {
    cpu = await benchCpu({
      N, physicalBatch: PHYSICAL_BATCH, reps, budgetMs: opBudgetMs, threads: argv.threads ? Number(argv.threads) : undefined,
      skipTfjs: argv['skip-tfjs']! || argv['skip-cpu-peers']!, skipNumpy: argv['skip-numpy']! || argv['skip-cpu-peers']!, layout, theta, v, small: { ...small, N: SMALL_N }, log,
    });
    Object.assign(report, cpu.report);
    notes.push(...cpu.notes);
  } catch (e) {
    report.cpu = { skipped: oneLine(e) };
    log(`CPU half skipped: ${oneLine(e)}`);
    notes.push(`CPU half skipped: ${oneLine(e)}`);
  }
  json.save();
}

// ---- WebGPU half: only where a device can be made; its failure keeps the CPU figures --------
let gpu: GpuBench | null = null;
if (!argv['skip-webgpu']) {
  log(`[${elapsed()}] WebGPU: is there an adapter?`);
  const probe = await probeWebGpu();
  try {
    if ('why' in probe) throw new Error(probe.why);
    gpu = await benchGpu({
      N, physicalBatch: PHYSICAL_BATCH, reps, budgetMs: opBudgetMs, quick, variantTimeoutMs,
      skipMatmul: argv['skip-matmul']!, skipTfjs: argv['skip-tfjs']!, layout, theta, v, small: { ...small, N: SMALL_N },
      driverNote: driver.note, json, log, elapsed,
    });
    notes.push(...gpu.notes);
  } catch (e) {
    report.webgpu = { skipped: oneLine(e) };
    log(`WebGPU half skipped: ${oneLine(e)}`);
    notes.push(`WebGPU half skipped: ${oneLine(e)}`);
  }
}

// ---- report --------------------------------------------------------------------
const caveat = `${cpus().length} CPU cores${gpu?.cpuLike ? ', CPU Vulkan driver' : ''}: Dawn busy-polls a core while a device lives, so a software ` +
  'adapter computes on what is left and timings are noisy; compare numbers only within one run/machine.';
if (gpu) {
  notes.push(caveat);
  report.caveat = caveat;
}
json.save();

const out: string[] = [...(gpu?.lines ?? [''])];
if (cpu) out.push(...(gpu ? [''] : []), ...cpu.lines, '');
out.push('targets:', ...targetLines([...(gpu?.targets ?? []), ...(cpu?.targets ?? [])]));
out.push('');
for (const n of notes) out.push(`note: ${n}`);
out.push(`total bench time ${elapsed()}`);
console.log(out.join('\n'));
if (argv.json) log(`wrote ${argv.json}`);
process.exit(0);
