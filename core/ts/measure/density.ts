// Spectral density of the curvature-set Hessian by stochastic Lanczos
// quadrature (Golub & Meurant; Ghorbani et al. 2019, as PyHessian does it).
// For a unit start vector v, m Lanczos steps give T_m = Q diag(θ) Qᵀ and
// vᵀ g(H) v ≈ Σ_k τ_k g(θ_k) with τ_k = Q[0,k]² (Σ τ_k = 1): the nodes and
// weights of a Gauss quadrature of the spectral measure seen from v. With
// v Rademacher (or normal) and normalised, E[vᵀ g(H) v] = tr g(H) / P, so the
// average over `runs` seeded starts of Σ_k τ_k δ(t − θ_k), each node broadened
// into a Gaussian of width σ, estimates the density of eigenvalues
// φ(t) = (1/P) Σ_i δ(t − λ_i). It integrates to 1.
//
// lanczos.ts keeps only the top-k Ritz pairs; SLQ needs every node and its
// weight, so the recurrence is written here again (full CGS2
// re-orthogonalisation on the device, as there, at order ≤ 500).
import type { Buf } from '../backend/types.js';
import { tridiagEig } from './linalg64.js';
import { hessianOperator, type SymOperator } from './operator.js';
import { measureStream, positive, positiveInt, type MeasureContext, type MeasureDef, type MeasureSettings } from './suite.js';

const MEASURE_ID = 6;
/** The Lanczos coefficients of one step use 1 + 2·order of the measure's 1024 scalar slots. */
export const MAX_ORDER = 500;

export interface QuadratureRun {
  /** Ritz values θ_k (descending). */
  nodes: number[];
  /** τ_k = (first component of the k-th eigenvector of T)²; they sum to 1. */
  weights: number[];
  /** Lanczos steps taken (fewer than the order when the Krylov space closed). */
  steps: number;
}

export interface DensityOptions {
  runs: number;
  order: number;
  /** Broadening σ as a fraction of the Ritz range λmax − λmin. */
  sigma: number;
  grid: number;
  probe: 'rademacher' | 'normal';
}

export interface Density {
  grid: number[];
  density: number[];
  /** Standard error of each density value across the runs (NaN for one run). */
  se: number[];
  lambdaMin: number;
  lambdaMax: number;
  /** The absolute broadening used. */
  sigma: number;
  runs: QuadratureRun[];
}

export const density: MeasureDef = {
  name: 'density',
  flag: 'density',
  help: 'Hessian spectral density by stochastic Lanczos quadrature: a table density/step_<t>.csv (grid, density, density_se) per firing; columns density_lambda_min, density_lambda_max',
  options: [
    { name: 'runs', help: 'independent Lanczos runs (seeded starts) averaged', default: 10, check: positiveInt },
    { name: 'order', help: `Lanczos steps per run (at most ${MAX_ORDER}; capped at the parameter count)`, default: 80,
      check: (v) => positiveInt(v) ?? ((v as number) <= MAX_ORDER ? null : `an integer in [1, ${MAX_ORDER}]`) },
    { name: 'sigma', help: 'Gaussian broadening as a fraction of the Ritz range λmax − λmin', default: 0.01, check: positive },
    { name: 'grid', help: 'points of the grid the density is written on', default: 1000,
      check: (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 2 ? null : 'an integer of at least 2') },
    { name: 'probe', help: 'start vectors: rademacher or normal', default: 'rademacher', kind: 'string',
      check: (v) => (v === 'rademacher' || v === 'normal' ? null : 'rademacher or normal') },
  ],
  columns: () => ['density_lambda_min', 'density_lambda_max'],
  unsupported: () => null,
  async run(ctx: MeasureContext, s: MeasureSettings) {
    const d = await spectralDensity(ctx, s.options as unknown as DensityOptions);
    await ctx.table('density', ['grid', 'density', 'density_se'], d.grid.map((x, i) => [x, d.density[i], d.se[i]]));
    return { density_lambda_min: d.lambdaMin, density_lambda_max: d.lambdaMax };
  },
};

/** SLQ of the curvature-set Hessian at θ_t (or of `op`), broadened on a grid. */
export async function spectralDensity(ctx: MeasureContext, o: DensityOptions, op: SymOperator = hessianOperator(ctx.curvature, ctx.theta)): Promise<Density> {
  const runs: QuadratureRun[] = [];
  for (let r = 0; r < o.runs; r++) runs.push(await quadrature(ctx, op, o, r));
  return broaden(runs, o);
}

/** The density on a grid over the Ritz range, with a margin of 5σ each side (Gaussian tails beyond it hold < 1e-6 of the mass). */
export function broaden(runs: QuadratureRun[], o: Pick<DensityOptions, 'sigma' | 'grid'>): Density {
  const all = runs.flatMap((r) => r.nodes);
  const lambdaMin = Math.min(...all), lambdaMax = Math.max(...all);
  if (!Number.isFinite(lambdaMin) || !Number.isFinite(lambdaMax)) {
    return { grid: [], density: [], se: [], lambdaMin: NaN, lambdaMax: NaN, sigma: NaN, runs };
  }
  // A spectrum of one point (range 0) still needs a width: take it relative to its magnitude.
  const range = lambdaMax - lambdaMin;
  const sigma = o.sigma * (range > 0 ? range : Math.max(Math.abs(lambdaMax), 1));
  const lo = lambdaMin - 5 * sigma, hi = lambdaMax + 5 * sigma;
  const grid = Array.from({ length: o.grid }, (_, i) => lo + (hi - lo) * i / (o.grid - 1));
  const norm = 1 / (sigma * Math.sqrt(2 * Math.PI));
  const sum = new Float64Array(o.grid), sum2 = new Float64Array(o.grid);
  for (const r of runs) {
    grid.forEach((t, i) => {
      let v = 0;
      r.nodes.forEach((x, k) => { const z = (t - x) / sigma; v += r.weights[k] * norm * Math.exp(-0.5 * z * z); });
      sum[i] += v;
      sum2[i] += v * v;
    });
  }
  const R = runs.length;
  const densityValues = Array.from(sum, (s) => s / R);
  const se = Array.from(sum2, (s2, i) => (R > 1 ? Math.sqrt(Math.max(s2 - R * densityValues[i] ** 2, 0) / (R - 1) / R) : NaN));
  return { grid, density: densityValues, se, lambdaMin, lambdaMax, sigma, runs };
}

/** One Lanczos run of the given order from seeded start `r`: its Gauss quadrature nodes and weights. */
export async function quadrature(ctx: MeasureContext, op: SymOperator, o: Pick<DensityOptions, 'order' | 'probe'>, r: number): Promise<QuadratureRun> {
  const { backend } = ctx, n = op.n;
  const m = Math.min(o.order, n);
  // Slots: [NRM] ‖w‖², [C1, C1 + m) first-pass coefficients, [C2, C2 + m) second pass.
  const NRM = ctx.slot, C1 = NRM + 1, C2 = C1 + m;
  if (m > MAX_ORDER || C2 + m > backend.scalarCapacity) throw new Error(`density: order ${m} needs ${2 * m + 1} scalar slots: use --density-order ${MAX_ORDER} or less`);
  const V = backend.alloc(m * n, 'slq basis');
  const v = backend.alloc(n, 'slq v'), w = backend.alloc(n, 'slq w');
  const S = backend.scalarsBuf;
  const orthogonalise = (rows: number) => {
    for (const slot of [C1, C2]) {
      backend.reduce({ n, K: rows, x: { buf: V, off: 0, bs: n }, y: { buf: w, off: 0, bs: 0 }, slot });
      backend.matmul({ layout: 'atb', M: n, N: 1, L: rows, K: 1, a: { buf: V, off: 0, bs: 0 },
        b: { buf: S, off: slot, bs: 0 }, c: { buf: w, off: 0, bs: 0 }, alpha: -1, accumulate: true });
    }
  };
  const norm2 = async () => {
    backend.reduce({ n, K: 1, x: { buf: w, off: 0, bs: 0 }, y: { buf: w, off: 0, bs: 0 }, slot: NRM });
    return (await backend.readScalars(NRM, 1))[0];
  };
  const install = (row: number, norm: number) => {
    backend.vector({ n, y: v, x: w, alpha: 1 / norm, beta: 0 });
    backend.vector({ n, y: V, yOff: row * n, x: w, alpha: 1 / norm, beta: 0 });
  };
  try {
    backend.random({ out: w, n, seed: ctx.seed, stream: measureStream(MEASURE_ID, ctx.step), index0: n * r, dist: o.probe });
    const n0 = await norm2();
    if (!(n0 > 0)) throw new Error(`density: start vector ${r} has norm² ${n0}`);
    install(0, Math.sqrt(n0));
    const alpha: number[] = [], beta: number[] = [];
    let anorm = 0;
    for (let j = 0; j < m; j++) {
      await op.apply([v], [w]);
      orthogonalise(j + 1);
      backend.reduce({ n, K: 1, x: { buf: w, off: 0, bs: 0 }, y: { buf: w, off: 0, bs: 0 }, slot: NRM });
      const s = await backend.readScalars(NRM, 1 + 2 * m);
      const a = s[1 + j] + s[1 + m + j], b = Math.sqrt(Math.max(s[0], 0));
      if (!Number.isFinite(a) || !Number.isFinite(b)) return { nodes: [NaN], weights: [1], steps: j + 1 };
      alpha.push(a);
      anorm = Math.max(anorm, Math.abs(a) + b + (j > 0 ? beta[j - 1] : 0));
      // The Krylov space closed (what is left of w is f32 rounding, as in
      // lanczos.ts): the start vector lies in an invariant subspace and the
      // quadrature is already exact; going on would add spurious nodes.
      if (j + 1 === m || b <= 1e-5 * anorm) break;
      beta.push(b);
      install(j + 1, b);
    }
    const eig = tridiagEig(alpha, beta);
    const k = alpha.length;
    const weights = Array.from({ length: k }, (_, i) => eig.vectors[i] ** 2);
    return { nodes: Array.from(eig.values), weights, steps: k };
  } finally {
    backend.release(V);
    backend.release(v);
    backend.release(w);
  }
}
