// Top Hessian eigenvalue by power iteration on the exact HVP. The engine's
// first and simplest eigen-measurement (Lanczos and LOBPCG come with the
// experiments issue); returns λ₁ with its eigenvector left in `v`.
import type { Backend, Buf } from '../backend/types.js';
import type { MlpObjective } from '../objective/mlp-objective.js';

export interface PowerResult {
  lambda: number;
  iterations: number;
  /** |λ_t − λ_{t−1}| / |λ_t| at the last iteration. */
  change: number;
}

/** Scalar slots used for the Rayleigh quotient and the norm (after the objective's). */
const SLOT = 64;

export async function topEigenPower(backend: Backend, obj: MlpObjective, theta: Buf,
                                    opts: { iters?: number; tol?: number; seed?: number; v?: Buf } = {}): Promise<PowerResult> {
  if (obj.K !== 1) throw new Error('topEigenPower measures one model at a time (K = 1)');
  const P = obj.P;
  const v = opts.v ?? backend.alloc(P, 'power v');
  const hv = backend.alloc(P, 'power Hv');
  if (!opts.v) backend.random({ out: v, n: P, seed: opts.seed ?? 0, stream: 0xe16e, dist: 'normal' });
  // Normalise the start vector.
  backend.reduce({ n: P, K: 1, x: { buf: v, off: 0, bs: 0 }, y: { buf: v, off: 0, bs: 0 }, slot: SLOT + 1 });
  let [, n2] = await backend.readScalars(SLOT, 2);
  backend.vector({ n: P, y: v, beta: 1 / Math.sqrt(n2) });
  let lambda = 0, change = Infinity, it = 0;
  const iters = opts.iters ?? 100, tol = opts.tol ?? 1e-4;
  for (it = 1; it <= iters; it++) {
    obj.encodeHvp(theta, [v], [hv]);
    backend.reduce({ n: P, K: 1, x: { buf: v, off: 0, bs: 0 }, y: { buf: hv, off: 0, bs: 0 }, slot: SLOT });
    backend.reduce({ n: P, K: 1, x: { buf: hv, off: 0, bs: 0 }, y: { buf: hv, off: 0, bs: 0 }, slot: SLOT + 1 });
    const [rq, hn2] = await backend.readScalars(SLOT, 2);
    n2 = hn2;
    change = Math.abs(rq - lambda) / Math.max(Math.abs(rq), 1e-30);
    lambda = rq;
    if (!(n2 > 0) || !Number.isFinite(n2)) break;
    // v ← Hv/‖Hv‖ converges to the eigenvector of largest |λ|.
    backend.vector({ n: P, y: v, x: hv, alpha: 1 / Math.sqrt(n2), beta: 0 });
    if (change < tol) break;
  }
  backend.release(hv);
  if (!opts.v) backend.release(v);
  return { lambda, iterations: Math.min(it, iters), change };
}
