// `npm run bench:measures [-- --quick] [-- --arch fc-tanh] [-- --only trace,density]`:
// HVPs per second with the measurement (curvature) batch resident on the
// device, and the cost (ms, HVPs) of each registered measure at its
// defaults on fc-tanh and cnn-relu (synthetic CIFAR-shaped data), on the
// Wasm core and on WebGPU where an adapter exists (that half is skipped in
// one line otherwise). The run loop's own RunContext and runMeasures do the
// work, so the figures are what a run pays per firing.
import { parseArgs } from 'node:util';
import type { Backend } from '../core/ts/backend/types.js';
import { hessianOperator } from '../core/ts/measure/operator.js';
import { MEASURES } from '../core/ts/measure/registry.js';
import { runMeasures } from '../core/ts/measure/run-measures.js';
import type { MeasureSettings } from '../core/ts/measure/suite.js';
import { ModelObjective } from '../core/ts/objective/model-objective.js';
import { DEFAULT_RUN, type RunConfig } from '../core/ts/run/config.js';
import { RunContext } from '../core/ts/run/experiment.js';
import { buildProblem, type RunData } from '../core/ts/run/problem.js';
import type { DriverPreference } from '../hosts/node/vulkan-env.js';
import { createNodeWasm } from '../hosts/node/wasm.js';
import { oneLine, syntheticData } from './common.js';
import { probeWebGpu, setUpVulkanDriver } from './webgpu-setup.js';

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    n: { type: 'string' },
    arch: { type: 'string' },
    only: { type: 'string' },
    threads: { type: 'string' },
    driver: { type: 'string', default: 'auto' },
    'skip-webgpu': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (argv.help) {
  console.log(`usage: npm run bench:measures -- [--quick] [--n N] [--arch fc-tanh|cnn-relu] [--only m1,m2] [--threads N] [--skip-webgpu]
  --quick   N = 256 examples (default 1000), one timing each: a smoke run
  --only    measure names (default: every registered measure)`);
  process.exit(0);
}
const N = argv.n ? Number(argv.n) : argv.quick ? 256 : 1000;
if (!Number.isInteger(N) || N < 8) { console.error(`eoslab bench: --n ${argv.n} must be an integer ≥ 8: pass e.g. --n 256`); process.exit(1); }
const archs = argv.arch ? argv.arch.split(',') : ['fc-tanh', 'cnn-relu'];
const only = argv.only ? new Set(argv.only.split(',')) : null;
const log = (s: string) => console.error(s);
const driver = argv['skip-webgpu'] ? null : setUpVulkanDriver(argv.driver as DriverPreference, log);

// Counted where every Hessian-type product goes through: the model objectives (full, curvature set, minibatches).
let hvps = 0;
const encodeHvp = ModelObjective.prototype.encodeHvp;
ModelObjective.prototype.encodeHvp = function (this: ModelObjective, ...a: Parameters<typeof encodeHvp>) { hvps += a[1].length; return encodeHvp.apply(this, a); };

const data: RunData = (() => {
  const tr = syntheticData(N, 3 * 32 * 32, 10, 1), te = syntheticData(Math.min(N, 256), 3 * 32 * 32, 10, 2);
  return { shape: [3, 32, 32], d: 3 * 32 * 32, c: 10, train: { ...tr, N }, test: { ...te, N: Math.min(N, 256) } };
})();

async function benchBackend(kind: string, be: Backend): Promise<void> {
  for (const arch of archs) {
    // A minibatch run (batch 64) so the stochastic measures run at their defaults, which follow the training batch.
    const cfg: RunConfig = { ...DEFAULT_RUN, kind: 'train', dataset: 'bench', arch, loss: 'mse', lr: 0.01, maxSteps: 0, batchSize: Math.min(64, N), abridgedSize: N, neigs: 2 };
    const problem = buildProblem(be, cfg, data);
    const rc = new RunContext(be, cfg, problem);
    try {
      for (const o of problem.tunable) await o.tune();
      be.write(rc.theta, problem.initialTheta());
      const op = hessianOperator(rc.measureObj, rc.theta);
      const v = rc.buf('v'), out = rc.buf('Hv');
      be.write(v, problem.initialTheta());
      op.apply([v], [out]);
      await be.flush();
      const reps = argv.quick ? 3 : 10, t0 = performance.now();
      for (let i = 0; i < reps; i++) op.apply([v], [out]);
      await be.flush();
      const perHvp = (performance.now() - t0) / reps;
      log(`${kind} ${arch} (P = ${problem.P}, N = ${N}): ${(1000 / perHvp).toFixed(2)} HVPs/s (${perHvp.toFixed(1)} ms each, curvature set resident)`);
      const g = await rc.full.grad(rc.theta, rc.grad);
      const gradNorm = Math.sqrt((await be.read(rc.grad)).reduce((s, x) => s + x * x, 0));
      await rc.measureHessian(0, rc.opt!.threshold(cfg.lr, gradNorm));
      const state = rc.opt!.init(be, problem.P);
      for (const m of MEASURES) {
        if (only && !only.has(m.name)) continue;
        const s: MeasureSettings = { freq: { every: 1, after: [] }, options: Object.fromEntries(m.options.map((o) => [o.name, o.default])) };
        const why = m.unsupported?.({ hasData: true, batchSize: cfg.batchSize, kind: 'train', opt: 'gd', options: s.options });
        if (why) { log(`  ${m.name.padEnd(18)} skipped: ${why}`); continue; }
        hvps = 0;
        const t = performance.now();
        try {
          await runMeasures(rc.measureContext(0, cfg.lr, gradNorm, g.loss[0], rc.opt!.threshold(cfg.lr, gradNorm), state, { row: () => {}, checkpoint: () => {} }), { ...cfg, measures: { [m.name]: s } });
          log(`  ${m.name.padEnd(18)} ${(performance.now() - t).toFixed(0).padStart(8)} ms  ${String(hvps).padStart(6)} HVPs`);
        } catch (e) {
          log(`  ${m.name.padEnd(18)} failed: ${oneLine(e)}`);
        }
      }
      rc.opt!.dispose(be, state);
    } finally {
      rc.dispose();
    }
  }
}

const threads = argv.threads ? Number(argv.threads) : undefined;
const wasm = await createNodeWasm(threads ? { threads } : {});
try { await benchBackend('wasm', wasm); } finally { wasm.destroy(); }
if (driver) {
  const probe = await probeWebGpu();
  if ('why' in probe) {
    log(`WebGPU half skipped: ${probe.why}`);
  } else {
    try {
      const { createNodeBackend } = await import('../hosts/node/backend.js');
      const dev = await createNodeBackend({ backend: 'webgpu' });
      try { await benchBackend(`webgpu (${probe.adapter})`, dev.backend); } finally { dev.backend.destroy(); }
    } catch (e) {
      log(`WebGPU half skipped: ${oneLine(e)}`);
    }
  }
}
