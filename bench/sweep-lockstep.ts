// bench:sweep --catapult: what solving a sweep's eigen-problems in lockstep
// buys where measurements dominate. A catapult-style group (the `eoslab
// catapult` grid: η = c/λ₀ over c = 2^0, 2^0.2, …, sharpness every step, GD,
// MSE, ReLU MLP without bias, the notebook's init) runs twice through the
// sweep runner on the same backend: with the members' solvers in lockstep
// (every HVP they wait on one K-model product; the default) and one member
// at a time on the K = 1 objective (eigLanes 1: what sweeps did before).
// Both must record the same rows, bit for bit.
import { loadavg } from 'node:os';
import type { Backend } from '../core/ts/backend/types.js';
import { DEFAULT_RUN, type RunConfig } from '../core/ts/run/config.js';
import { runSweepGroup } from '../core/ts/run/sweep.js';
import type { RunData } from '../core/ts/run/problem.js';
import type { MetricsRow } from '../core/ts/run/records.js';

export interface LockstepCase {
  dataset: string;
  arch: string;
  data: RunData;
  /** Members (values of c). */
  K: number;
  steps: number;
}

export interface LockstepFigures {
  lambda0: number;
  lockstepS: number;
  oneAtATimeS: number;
  /** HVP loss-head calls (one per product and physical batch) of a whole run, each mode. */
  hvpCallsLockstep: number;
  hvpCallsOneAtATime: number;
  /** Σ eig_hvps over members and rows: the products the solvers asked for. */
  hvps: number;
  /** Rows of every member bit-equal between the two modes. */
  equal: boolean;
  /** 1-minute load average when the timed runs started. */
  load: number;
}

/** The backend with every HVP loss-head call counted (a proxy: used for counting runs only, never in the clock). */
function counting(backend: Backend): { backend: Backend; calls: () => number } {
  let n = 0;
  const proxy = new Proxy(backend, {
    get(t, key) {
      const v = Reflect.get(t, key, t);
      if (typeof v !== 'function') return v;
      return (...a: unknown[]) => { if (key === 'loss' && (a[0] as { mode: string }).mode === 'hess') n++; return v.apply(t, a); };
    },
  });
  return { backend: proxy, calls: () => n };
}

export async function lockstepCase(backend: Backend, w: LockstepCase, log: (s: string) => void): Promise<LockstepFigures> {
  const cfg = (lr: number, steps: number): RunConfig => ({
    ...DEFAULT_RUN, kind: 'train', dataset: w.dataset, arch: w.arch, loss: 'mse', lr, maxSteps: steps, eigFreq: 1, neigs: 1,
    initScheme: 'normal', abridgedSize: 0, checkpointEvery: 0, divergeLoss: 1e5,
  });
  // λ₀: step 0 of a member that takes no step, as the catapult command measures it.
  const first: MetricsRow[] = [];
  await runSweepGroup(backend, [{ cfg: cfg(1, 0), sink: { row: (r) => { first.push(r); }, checkpoint: () => {} } }], w.data);
  const lambda0 = first[0].lambdas[0]!;
  const cfgs = Array.from({ length: w.K }, (_, j) => cfg(2 ** (0.2 * j) / lambda0, w.steps));
  const run = async (be: Backend, eigLanes: number) => {
    const rows = cfgs.map(() => [] as unknown[]);
    const t0 = performance.now();
    await runSweepGroup(be, cfgs.map((c, j) => ({ cfg: c, sink: { row: ({ wall_s: _w, ...r }: MetricsRow) => { rows[j].push(JSON.stringify(r)); }, checkpoint: () => {} } })), w.data, { eigLanes });
    return { s: (performance.now() - t0) / 1000, rows };
  };
  // Counting runs, which also warm up (pipelines, scratch, V8's optimised Wasm tiers).
  log(`  lockstep case: ${w.K} members of ${w.arch} on ${w.dataset}, ${w.steps} steps, λ₁ every step (λ₀ = ${lambda0.toPrecision(4)}): counting and warm-up`);
  const cl = counting(backend), c1 = counting(backend);
  const a = await run(cl.backend, Infinity), b = await run(c1.backend, 1);
  const hvps = a.rows.flat().reduce((s: number, r) => s + (JSON.parse(r as string).eig_hvps ?? 0), 0);
  const load = loadavg()[0];
  log('  lockstep case: timed runs');
  const lock = await run(backend, Infinity), one = await run(backend, 1);
  const same = (x: unknown[][], y: unknown[][]) => JSON.stringify(x) === JSON.stringify(y);
  return {
    lambda0, lockstepS: lock.s, oneAtATimeS: one.s, hvpCallsLockstep: cl.calls(), hvpCallsOneAtATime: c1.calls(), hvps,
    equal: same(a.rows, b.rows) && same(lock.rows, one.rows) && same(a.rows, lock.rows), load,
  };
}
