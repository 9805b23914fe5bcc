// Power iteration on a symmetric operator, with deflation for k > 1: the
// engine's simplest eigen-measurement, and the reference the Krylov solvers
// are compared against.
//
// NOTE: power iteration converges to the eigenvalue of largest MAGNITUDE,
// not the largest algebraic one: on an indefinite operator (a Hessian away
// from a minimum) whose most negative eigenvalue outweighs the top one it
// returns that negative eigenvalue. Pair j (j > 0) is found on
// (I − F Fᵀ) A (I − F Fᵀ), F the pairs already found, so `values` come in
// order of decreasing |λ|. Use lanczos() or lobpcg() for the algebraic top-k.
// Convergence is linear at rate |λ_{j+1}/λ_j| per iteration.
//
// Per iteration, one read-back: w = A v, w ← w − F(Fᵀw) (coefficients in
// scalar slots, subtracted by a matmul reading them on the device),
// λ = vᵀw, r = w − λv (λ again straight from its slot), ‖w‖², ‖r‖².
import type { Backend, Buf } from '../backend/types.js';
import { SOLVER_SLOT, type EigResult, type SolverOptions } from './lanczos.js';
import { hessianOperator, type SymOperator } from './operator.js';

export type { EigResult } from './lanczos.js';

export interface PowerOptions extends SolverOptions {
  /** Iterations per eigenpair (default 1000). */
  maxIter?: number;
  /** Warm start per pair (not modified; need not be orthogonal or normalised). */
  init?: Buf[];
}

const STREAM = 0x9e37;

export async function powerIteration(backend: Backend, op: SymOperator, opts: PowerOptions): Promise<EigResult> {
  const n = op.n, k = opts.k;
  if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`powerIteration: k must be an integer in [1, ${n}], got ${k}`);
  const maxIter = opts.maxIter ?? 1000, tol = opts.tol ?? 1e-5;
  const init = opts.init ?? [];
  for (const b of init) if (b.length < n) throw new Error(`powerIteration: start vector '${b.label}' holds ${b.length} values, need ${n}`);
  // Slots: λ, ‖w‖², ‖r‖², then the deflation coefficients Fᵀw.
  const LAM = opts.slot ?? SOLVER_SLOT, W2 = LAM + 1, R2 = LAM + 2, FC = LAM + 4;
  if (FC + k > backend.scalarCapacity) throw new Error(`powerIteration: k = ${k} exceeds the scalar slots`);
  const apps0 = op.applications;
  const SB = backend.scalarsBuf;
  const F = backend.alloc(k * n, 'power found vectors');
  const v = backend.alloc(n, 'power v'), w = backend.alloc(n, 'power w'), r = backend.alloc(n, 'power r');

  /** w ← w − F[0, j)(F[0, j)ᵀ w). */
  const deflate = (j: number) => {
    if (j === 0) return;
    backend.reduce({ n, K: j, x: { buf: F, off: 0, bs: n }, y: { buf: w, off: 0, bs: 0 }, slot: FC });
    backend.matmul({ layout: 'atb', M: n, N: 1, L: j, K: 1, a: { buf: F, off: 0, bs: 0 }, b: { buf: SB, off: FC, bs: 0 },
      c: { buf: w, off: 0, bs: 0 }, alpha: -1, accumulate: true });
  };

  const values: number[] = [], residuals: number[] = [];
  let iterations = 0;
  try {
    for (let j = 0; j < k; j++) {
      // Start: init[j] or Philox normals, deflated twice, normalised.
      if (init[j]) backend.vector({ n, y: w, x: init[j], alpha: 1, beta: 0 });
      else backend.random({ out: w, n, seed: opts.seed ?? 0, stream: STREAM, index0: j * n, dist: 'normal' });
      deflate(j);
      deflate(j);
      backend.reduce({ n, K: 1, x: { buf: w, off: 0, bs: 0 }, y: { buf: w, off: 0, bs: 0 }, slot: W2 });
      const [n0] = await backend.readScalars(W2, 1);
      if (!(n0 > 0) || !Number.isFinite(n0)) throw new Error(`powerIteration: start vector ${j} has norm² ${n0} after deflation`);
      backend.vector({ n, y: v, x: w, alpha: 1 / Math.sqrt(n0), beta: 0 });

      let lambda = 0, res = Infinity;
      for (let it = 0; it < maxIter; it++) {
        await op.apply([v], [w]);
        deflate(j);
        backend.reduce({ n, K: 1, x: { buf: v, off: 0, bs: 0 }, y: { buf: w, off: 0, bs: 0 }, slot: LAM });
        backend.vector({ n, y: r, x: w, alpha: 1, beta: 0 });
        backend.matmul({ layout: 'ab', M: n, N: 1, L: 1, K: 1, a: { buf: v, off: 0, bs: 0 }, b: { buf: SB, off: LAM, bs: 0 },
          c: { buf: r, off: 0, bs: 0 }, alpha: -1, accumulate: true });
        backend.reduce({ n, K: 1, x: { buf: w, off: 0, bs: 0 }, y: { buf: w, off: 0, bs: 0 }, slot: W2 });
        backend.reduce({ n, K: 1, x: { buf: r, off: 0, bs: 0 }, y: { buf: r, off: 0, bs: 0 }, slot: R2 });
        const [lam, w2, r2] = await backend.readScalars(LAM, 3);
        iterations++;
        if (![lam, w2, r2].every(Number.isFinite)) throw new Error('powerIteration: non-finite values (operator produced NaN/Inf?)');
        lambda = lam;
        res = Math.sqrt(Math.max(r2, 0)) / Math.max(Math.abs(lam), 1e-30);
        // v is the eigenvector estimate λ and the residual belong to.
        if (res < tol || !(w2 > 0) || it === maxIter - 1) break;
        backend.vector({ n, y: v, x: w, alpha: 1 / Math.sqrt(w2), beta: 0 });
      }
      values.push(lambda);
      residuals.push(res);
      backend.vector({ n, y: F, yOff: j * n, x: v, alpha: 1, beta: 0 });
    }
    let vectors: Buf[] | undefined;
    if (opts.wantVectors) {
      vectors = values.map((_, j) => {
        const y = backend.alloc(n, `power eigenvector ${j}`);
        backend.vector({ n, y, x: F, xOff: j * n, alpha: 1, beta: 0 });
        return y;
      });
    }
    return { values, vectors, residuals, iterations, applications: op.applications - apps0 };
  } finally {
    for (const b of [F, v, w, r]) backend.release(b);
  }
}
