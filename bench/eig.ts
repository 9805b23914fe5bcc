// The experiments benchmark: wall time per GD step of fc-tanh with λ₁
// measured every 10 steps (the run loop end to end), and operator
// applications (HVPs) per λ₁ measurement for Lanczos and for LOBPCG
// warm-started from the previous measurement; and (--quick runs only this)
// warm LOBPCG's HVPs per λ₁ at steady state at the edge of stability: an
// fc-tanh-like MLP (16→64→64→4 tanh, 256 examples, MSE) under GD at η = 0.5,
// λ₁ every 5 steps from step 150 on, the run loop's settings (tol 1e-4)
// against the eigengap stop (eigTol 1e-6), each warm-started from its own
// previous measurement along the same trajectory. Not a test.
//   node --import tsx bench/eig.ts [--quick] [--n 1000] [--steps 30] [--backend webgpu|wasm|auto] [--json FILE]
import { writeFileSync } from 'node:fs';
import { createNodeBackend } from '../hosts/node/backend.js';
import { parseBackendChoice } from '../hosts/shared/select-backend.js';
import { runExperiment } from '../core/ts/run/experiment.js';
import { DEFAULT_RUN, type RunConfig } from '../core/ts/run/config.js';
import { modelFromArch } from '../core/ts/nn/arch.js';
import { initParams } from '../core/ts/nn/init.js';
import { ModelObjective } from '../core/ts/objective/model-objective.js';
import { uploadData } from '../core/ts/objective/data.js';
import { hessianOperator } from '../core/ts/measure/operator.js';
import { lanczos } from '../core/ts/measure/lanczos.js';
import { lobpcg } from '../core/ts/measure/lobpcg.js';
import { syntheticData } from './common.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const jsonIdx = process.argv.indexOf('--json');
const N = arg('n', 1000), steps = arg('steps', 30), lr = 0.01;

const backendIdx = process.argv.indexOf('--backend');
const { backend, why } = await createNodeBackend({ backend: parseBackendChoice(backendIdx >= 0 ? process.argv[backendIdx + 1] : 'auto') });
console.error(why);
const report: Record<string, number | string> = { backend: backend.kind, adapter: backend.description, N, arch: 'fc-tanh', steps, eig_freq: 10 };

/** HVPs per warm λ₁ measurement at the edge, for each LOBPCG setting, along one GD trajectory. */
async function edgeSteadyState(): Promise<void> {
  const lrE = 0.5, every = 5, from = 150, to = arg('edge-steps', 300);
  const { X, Y } = syntheticData(256, 16, 4, 3);
  const layout = modelFromArch('mlp:64x64:tanh', [16], 4);
  const dd = uploadData(backend, X, Y, 256, 16, 4);
  const obj = new ModelObjective(backend, layout, dd, { loss: 'mse', physicalBatch: 1000 });
  const theta = backend.alloc(layout.P, 'θ'), g = backend.alloc(layout.P, 'g');
  backend.write(theta, initParams(layout, { seed: 0 }));
  const settings = { base: { tol: 1e-4 }, gap: { tol: 1e-4, eigTol: 1e-6 } } as const;
  const warm: Record<string, ReturnType<typeof backend.alloc>[]> = { base: [], gap: [] };
  const hvps: Record<string, number[]> = { base: [], gap: [] }, lam: Record<string, number[]> = { base: [], gap: [] };
  for (let t = 0; t <= to; t++) {
    if (t >= from - every && t % every === 0) {
      for (const [name, o] of Object.entries(settings)) {
        const r = await lobpcg(backend, hessianOperator(obj, theta), { k: 1, seed: t, wantVectors: true, init: warm[name].length ? warm[name] : undefined, ...o });
        warm[name].forEach((x) => backend.release(x));
        warm[name] = r.vectors ?? [];
        if (t >= from) { hvps[name].push(r.applications); lam[name].push(r.values[0]); }
      }
    }
    await obj.grad(theta, g);
    backend.vector({ n: layout.P, y: theta, x: g, alpha: -lrE, beta: 1 });
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const dev = Math.max(...lam.base.map((l, i) => Math.abs(l - lam.gap[i]) / Math.abs(l)));
  report.edge_threshold = 2 / lrE;
  report.edge_lambda1_mean = mean(lam.base);
  report.edge_hvps_per_lambda1_tol = mean(hvps.base);
  report.edge_hvps_per_lambda1_gap = mean(hvps.gap);
  report.edge_max_rel_lambda_difference = dev;
  console.error(`edge of stability (2/η = ${2 / lrE}, mean λ₁ ${mean(lam.base).toFixed(3)}, ${hvps.base.length} measurements): ` +
    `warm LOBPCG ${mean(hvps.base).toFixed(1)} HVPs/λ₁ at tol 1e-4, ${mean(hvps.gap).toFixed(1)} with the eigengap stop (λ₁ within ${dev.toExponential(1)})`);
  Object.values(warm).flat().forEach((x) => backend.release(x));
  [theta, g, dd.X, dd.Y].forEach((b) => backend.release(b));
  obj.dispose();
}

try {
  await edgeSteadyState();
  if (process.argv.includes('--quick')) {
    console.log(JSON.stringify(report, null, 1));
    if (jsonIdx >= 0) writeFileSync(process.argv[jsonIdx + 1], JSON.stringify(report, null, 1) + '\n');
    backend.destroy();
    process.exit(0);
  }
  const { X, Y } = syntheticData(N, 3072, 10, 1);
  const data = { d: 3072, c: 10, train: { X, Y, N }, test: { X, Y, N } };
  for (const solver of ['lanczos', 'lobpcg'] as const) {
    const cfg: RunConfig = { ...DEFAULT_RUN, kind: 'train', dataset: 'synthetic-cifar', arch: 'fc-tanh', loss: 'mse', lr, maxSteps: steps, neigs: 1, eigFreq: 10, eigSolver: solver };
    const t0 = performance.now();
    let t1 = 0;
    await runExperiment(backend, cfg, data, { row: (r) => { if (r.step === 0) t1 = performance.now(); }, checkpoint: () => {} }, {
      prepare: async (objs) => { for (const o of objs) await o.tune(); },
    });
    const ms = (performance.now() - t1) / steps;
    report[`gd_step_ms_eig10_${solver}`] = ms;
    console.error(`GD step with λ₁ every 10 steps (${solver}): ${ms.toFixed(0)} ms/step (setup ${(t1 - t0).toFixed(0)} ms)`);
  }
  // HVPs per measurement along a short GD trajectory: Lanczos from scratch
  // each time vs LOBPCG warm-started from the previous eigenvector.
  const layout = modelFromArch('fc-tanh', [3072], 10);
  const dd = uploadData(backend, X, Y, N, 3072, 10);
  const obj = new ModelObjective(backend, layout, dd, { loss: 'mse', physicalBatch: 1000 });
  const theta = backend.alloc(layout.P, 'θ'), g = backend.alloc(layout.P, 'g');
  backend.write(theta, initParams(layout, { seed: 0 }));
  const lz: number[] = [], lw: number[] = [];
  let warm: ReturnType<typeof backend.alloc>[] = [];
  for (let m = 0; m < 4; m++) {
    const a = await lanczos(backend, hessianOperator(obj, theta), { k: 1, tol: 1e-4, seed: m });
    const b = await lobpcg(backend, hessianOperator(obj, theta), { k: 1, tol: 1e-4, seed: m, init: warm.length ? warm : undefined, wantVectors: true });
    warm.forEach((x) => backend.release(x));
    warm = b.vectors ?? [];
    lz.push(a.applications); lw.push(b.applications);
    console.error(`measurement ${m}: λ₁ ${a.values[0].toFixed(4)} (Lanczos, ${a.applications} HVPs) / ${b.values[0].toFixed(4)} (LOBPCG${m ? ' warm' : ' cold'}, ${b.applications} HVPs)`);
    for (let s = 0; s < 10; s++) { await obj.grad(theta, g); backend.vector({ n: layout.P, y: theta, x: g, alpha: -lr, beta: 1 }); }
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  report.hvps_per_lambda1_lanczos = mean(lz);
  report.hvps_per_lambda1_lobpcg_warm = mean(lw.slice(1));
  report.hvps_lobpcg_cold_first = lw[0];
  console.log(JSON.stringify(report, null, 1));
  if (jsonIdx >= 0) writeFileSync(process.argv[jsonIdx + 1], JSON.stringify(report, null, 1) + '\n');
} finally {
  backend.destroy();
}
