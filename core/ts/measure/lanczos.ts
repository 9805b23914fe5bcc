// Lanczos with full re-orthogonalisation for the top-k (algebraic) eigenpairs
// of a symmetric operator. The Krylov basis lives on the device in one
// buffer V of maxIter·n floats (row j = v_j). Per iteration:
//   w = A v_j
//   two passes of classical Gram-Schmidt against the whole basis (CGS2):
//     c = Vᵀw   one batched reduce into scalar slots (x = V rows, y = w shared)
//     w ← w − Vc  one matmul 'atb' reading c straight from the scalars buffer
//   ‖w‖²        one reduce
//   one readScalars: α_j = c₁[j] + c₂[j], β_j = ‖w‖
// so the re-orthogonalisation never waits for the host. The tridiagonal
// T_m = tridiag(β, α, β) is solved in float64 on the host (tridiagEig); the
// Ritz pair (θ_i, V s_i) has residual ‖A V s_i − θ_i V s_i‖ = |β_m s_{m,i}|
// (exact arithmetic, and reliable with full re-orthogonalisation), which is
// the stopping test, relative to |θ_i|.
//
// Invariant subspace (β_j ≈ 0): the Ritz values of T are then exact
// eigenvalues; with at least k of them the run stops, otherwise it restarts
// from a random vector orthogonal to the basis (T decouples, β_j = 0).
// Limitation: single-vector Lanczos sees only one copy of a repeated
// eigenvalue (the start vector's component in that eigenspace), so a multiple
// top eigenvalue is reported once; use LOBPCG with a block when the top of
// the spectrum may be degenerate.
import type { Backend, Buf } from '../backend/types.js';
import { tridiagEig } from './linalg64.js';
import type { SymOperator } from './operator.js';

export interface EigResult {
  /** Top-k eigenvalue estimates, descending (algebraic unless a solver says otherwise). */
  values: number[];
  /** Unit eigenvector estimates (length n each), when asked for; the caller releases them. */
  vectors?: Buf[];
  /** Relative residual (bound) per pair: ‖A v_i − λ_i v_i‖ / |λ_i|. */
  residuals: number[];
  iterations: number;
  /** Operator applications this call made. */
  applications: number;
}

/** What every eigen-solver takes: top-k, an iteration budget, a relative-residual tolerance (default 1e-5), a seed for random starts. */
export interface SolverOptions {
  k: number;
  maxIter?: number;
  tol?: number;
  seed?: number;
  wantVectors?: boolean;
  /**
   * First of the scalar slots the solver writes (default SOLVER_SLOT): solvers
   * running at once (a sweep's members in lockstep) each get their own range,
   * of solverSlots(…) slots.
   */
  slot?: number;
}

export interface LanczosOptions extends SolverOptions {
  /** Krylov dimension cap; default min(n, max(2k + 20, 40)). */
  maxIter?: number;
  /** Start vector (not modified; need not be normalised). Default: Philox normals. */
  start?: Buf;
}

/** First solver scalar slot (the objective owns [0, 2K)). */
export const SOLVER_SLOT = 256;

/** Krylov dimension of a top-k Lanczos solve on n unknowns (LanczosOptions.maxIter's default). */
export function lanczosMaxIter(k: number, n: number, maxIter?: number): number {
  return Math.min(n, maxIter ?? Math.max(2 * k + 20, 40));
}

/**
 * Scalar slots one solve of `solver` for the top k of an n-dimensional
 * operator writes from its SolverOptions.slot, at the default iteration caps
 * (a sweep lays out its members' solvers side by side with this).
 */
export function solverSlots(solver: 'lanczos' | 'lobpcg' | 'power', k: number, n: number): number {
  if (solver === 'lanczos') return 1 + 2 * lanczosMaxIter(k, n);
  // LOBPCG: 2k residual norms, k² coefficients, two Gram matrices of up to 3k rows.
  if (solver === 'lobpcg') return 2 * k + k * k + 18 * k * k;
  return 4 + k;
}
/** Philox stream for solver start vectors. */
const STREAM = 0x1a2c;

export async function lanczos(backend: Backend, op: SymOperator, opts: LanczosOptions): Promise<EigResult> {
  const n = op.n, k = opts.k;
  if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`lanczos: k must be an integer in [1, ${n}], got ${k}`);
  const maxIter = lanczosMaxIter(k, n, opts.maxIter);
  if (maxIter < k) throw new Error(`lanczos: maxIter ${maxIter} < k ${k}`);
  const tol = opts.tol ?? 1e-5;
  // Slots: [NRM] ‖w‖², [C1, C1 + maxIter) first-pass coefficients, [C2, C2 + maxIter) second pass.
  const NRM = opts.slot ?? SOLVER_SLOT, C1 = NRM + 1, C2 = C1 + maxIter;
  if (C2 + maxIter > backend.scalarCapacity) {
    throw new Error(`lanczos: maxIter ${maxIter} needs ${2 * maxIter + 1} scalar slots from ${NRM}, over the backend's ${backend.scalarCapacity}`);
  }
  const apps0 = op.applications;
  const V = backend.alloc(maxIter * n, 'lanczos basis');
  const v = backend.alloc(n, 'lanczos v');
  const w = backend.alloc(n, 'lanczos w');
  const S = backend.scalarsBuf;
  let seedCount = 0;
  const randomInto = (buf: Buf) => backend.random({ out: buf, n, seed: opts.seed ?? 0, stream: STREAM, index0: n * seedCount++, dist: 'normal' });

  /** CGS2 of w against V rows [0, m), then ‖w‖² into NRM; coefficients into C1/C2. */
  const orthogonalise = (m: number) => {
    for (const slot of [C1, C2]) {
      backend.reduce({ n, K: m, x: { buf: V, off: 0, bs: n }, y: { buf: w, off: 0, bs: 0 }, slot });
      backend.matmul({ layout: 'atb', M: n, N: 1, L: m, K: 1, a: { buf: V, off: 0, bs: 0 },
        b: { buf: S, off: slot, bs: 0 }, c: { buf: w, off: 0, bs: 0 }, alpha: -1, accumulate: true });
    }
    backend.reduce({ n, K: 1, x: { buf: w, off: 0, bs: 0 }, y: { buf: w, off: 0, bs: 0 }, slot: NRM });
  };
  /** v = V[row] = w / ‖w‖. */
  const install = (row: number, norm: number) => {
    backend.vector({ n, y: v, x: w, alpha: 1 / norm, beta: 0 });
    backend.vector({ n, y: V, yOff: row * n, x: w, alpha: 1 / norm, beta: 0 });
  };

  try {
    if (opts.start) {
      if (opts.start.length < n) throw new Error(`lanczos: start vector holds ${opts.start.length} values, need ${n}`);
      backend.vector({ n, y: w, x: opts.start, alpha: 1, beta: 0 });
    } else {
      randomInto(w);
    }
    backend.reduce({ n, K: 1, x: { buf: w, off: 0, bs: 0 }, y: { buf: w, off: 0, bs: 0 }, slot: NRM });
    const [n0] = await backend.readScalars(NRM, 1);
    if (!(n0 > 0) || !Number.isFinite(n0)) throw new Error(`lanczos: start vector has norm² ${n0}`);
    install(0, Math.sqrt(n0));

    const alpha: number[] = [], beta: number[] = [];
    let anorm = 0, iterations = 0;
    let theta: number[] = [], resid: number[] = [];
    let coeffs: Float64Array = new Float64Array(0);
    // Solve T_m and test convergence; true when the top-k are converged.
    const solve = (m: number, bLast: number): boolean => {
      const eig = tridiagEig(alpha.slice(0, m), beta.slice(0, m - 1));
      const kk = Math.min(k, m);
      theta = Array.from(eig.values.subarray(0, kk));
      resid = theta.map((t, i) => Math.abs(bLast * eig.vectors[(m - 1) * m + i]) / Math.max(Math.abs(t), 1e-30));
      coeffs = eig.vectors;
      return kk === k && resid.every((r) => r < tol);
    };

    for (let j = 0; j < maxIter; j++) {
      const m = j + 1;
      await op.apply([v], [w]);
      orthogonalise(m);
      const s = await backend.readScalars(NRM, 1 + maxIter + m);
      iterations = m;
      const a = s[1 + j] + s[1 + maxIter + j];
      let b = Math.sqrt(Math.max(s[0], 0));
      if (!Number.isFinite(a) || !Number.isFinite(b)) throw new Error(`lanczos: non-finite α/β at step ${j} (operator produced NaN/Inf?)`);
      alpha[j] = a;
      anorm = Math.max(anorm, Math.abs(a) + b + (j > 0 ? beta[j - 1] : 0));
      // Invariant subspace: what is left of w is rounding noise (f32 operator
      // and reductions leave ~1e-7·‖A‖; 1e-5·‖T‖ is well above that, and
      // cutting a genuine β that small moves Ritz values by at most as much).
      const breakdown = b <= 1e-5 * anorm;
      if (breakdown) b = 0;
      beta[j] = b;
      // Solving T costs O(m³) on the host: every step while small, then every few.
      const check = breakdown || m === maxIter || m === n || m <= 40 || m % Math.ceil(m / 20) === 0;
      if (check && m >= k && solve(m, b)) break;
      if (m === maxIter || m === n) { if (!check) solve(m, b); break; }
      if (breakdown) {
        // Restart on a random vector orthogonal to the basis (T decouples: β_j = 0).
        randomInto(w);
        orthogonalise(m);
        const [r2] = await backend.readScalars(NRM, 1);
        if (!(r2 > 0)) { solve(m, 0); break; }
        install(m, Math.sqrt(r2));
      } else {
        install(m, b);
      }
    }
    if (theta.length === 0) solve(iterations, beta[iterations - 1] ?? 0);

    let vectors: Buf[] | undefined;
    if (opts.wantVectors) {
      const m = iterations;
      const C = coeffs;
      const sc = backend.alloc(m * theta.length, 'lanczos ritz coefficients');
      const host = new Float32Array(m * theta.length);
      for (let i = 0; i < theta.length; i++) for (let r = 0; r < m; r++) host[i * m + r] = C[r * m + i];
      backend.write(sc, host);
      vectors = theta.map((_, i) => {
        const y = backend.alloc(n, `lanczos ritz vector ${i}`);
        backend.matmul({ layout: 'atb', M: n, N: 1, L: m, K: 1, a: { buf: V, off: 0, bs: 0 },
          b: { buf: sc, off: i * m, bs: 0 }, c: { buf: y, off: 0, bs: 0 } });
        return y;
      });
      backend.release(sc);
    }
    return { values: theta, vectors, residuals: resid, iterations, applications: op.applications - apps0 };
  } finally {
    backend.release(V);
    backend.release(v);
    backend.release(w);
  }
}
