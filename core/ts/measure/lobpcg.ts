// Block LOBPCG (Knyazev 2001) for the k LARGEST (algebraic) eigenpairs of a
// symmetric operator, without preconditioner, with soft locking.
//
// Device layout: the trial basis S = [X | R_J | P_J] is one buffer of 3k
// rows of n floats (and AS = A·S beside it), so each Gram matrix is one
// batched reduce per row: row i of SᵀS is reduce(x = S rows, y = S_i shared).
// X is kept at rows [0, k); J is the active (not yet converged) set.
//
// One iteration:
//   R = AX − XΛ for all k columns; ‖r_i‖² (the stopping test); R ⟂ X by two
//   Gram-Schmidt passes run on the device (coefficients in scalar slots,
//   subtraction by a matmul reading them); ‖r_i‖² again      → read 1 (2k floats)
//   stop when ‖r_i‖/|λ_i| < tol for all i; J = {i : not converged}
//   S = [X | R_J/‖R_J‖ | P_J/‖P_J‖], A·R_J (|J| applications; AX and AP are
//   carried along as linear combinations, so never re-applied)
//   SᵀS and Sᵀ(AS) by 2m batched reduces                     → read 2 (2m² floats)
//   Rayleigh-Ritz in float64 on the host: generalizedSymEig on the diagonally
//   scaled Gram matrices; if SᵀS is ill-conditioned (P nearly dependent,
//   typical near convergence in f32; threshold GRAM_COND below) P is
//   dropped, and if that is still ill-conditioned the basis is orthonormalised
//   on the host by eigen-decomposition of SᵀS, discarding directions below
//   the threshold
//   X ← S C_X, AX ← AS C_X, P ← S_{RP} C_{RP}, AP ← AS_{RP} C_{RP}  (matmuls)
// Two read-backs per iteration rather than one: the residual norms must be
// known before A is applied to R, otherwise the final iteration would spend
// a block of operator applications (the expensive part) on a converged X.
//
// Cost: k applications for the start block, then one per active column per
// iteration. Convergence is linear, so a warm start δ away from the
// eigenvectors saves roughly the fraction log(1/δ) / log(1/tol) of a cold
// start's iterations: about half at δ = 1e-2 and tol = 1e-5, three quarters
// at δ = 1e-4; a start already within tol costs just the k applications.
// In f32 the reachable relative residual is ~1e-6 (below that, tol is not met).
import type { Backend, Buf } from '../backend/types.js';
import { generalizedSymEig, symEig } from './linalg64.js';
import { SOLVER_SLOT, type EigResult, type SolverOptions } from './lanczos.js';
import type { SymOperator } from './operator.js';

export type { EigResult } from './lanczos.js';

export interface LobpcgOptions extends SolverOptions {
  /** Iterations (Rayleigh-Ritz steps after the initial one); default 200. */
  maxIter?: number;
  /** Warm start: up to k vectors (e.g. the previous eigenvectors); the caller keeps them. */
  init?: Buf[];
  /**
   * Also stop a pair once its eigenvalue is known to about eigTol relative:
   * ‖r_i‖²/gap_i ≤ eigTol·|λ_i| (the Rayleigh quotient's error is at most
   * ‖r‖²/gap), with gap_i the distance to the nearest other Ritz value of the
   * last Rayleigh-Ritz step (θ_{k+1} for the last pair), and ‖r_i‖/|λ_i| ≤
   * 1e-2. A Ritz value lies below its eigenvalue, so the gap is an estimate,
   * not a bound; the eigenvector is then accurate to about ‖r‖/gap only.
   * 0 (default): the residual test alone.
   */
  eigTol?: number;
}

/** LOBPCG's result, and whether every pair met the stopping test (tol, or eigTol). */
export type LobpcgResult = EigResult & { converged: boolean };

const STREAM = 0x10b9;
/**
 * Smallest eigenvalue of the diagonally scaled Gram matrix SᵀS (relative to
 * its largest) that Rayleigh-Ritz accepts. A direction with Gram eigenvalue μ
 * enters the update X ← S C with coefficients ~μ^(-1/2), which multiplies the
 * f32 rounding of S and AS (~6e-8) by as much; X and the carried AX then
 * drift apart and the residual stalls: at 1e-6 (coefficients ~1e3) it stalled
 * near 1e-5 relative on spectra with a slowly converging edge; at 1e-3
 * (coefficients ≤ ~30) every test spectrum reached 1e-6.
 */
const GRAM_COND = 1e-3;

interface RR { values: number[]; C: Float64Array /* m×k row-major */; next: number /* Ritz value k+1, NaN when m = k */ }

/** Top-k of the pencil (GA, GB) over an m-dim basis; null if GB is too ill-conditioned for Cholesky. */
function rayleighRitz(GA: Float64Array, GB: Float64Array, m: number, k: number, truncate: boolean): RR | null {
  const d = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const g = GB[i * m + i];
    if (!(g > 0) || !Number.isFinite(g)) return null;
    d[i] = 1 / Math.sqrt(g);
  }
  const A = new Float64Array(m * m), B = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      A[i * m + j] = 0.5 * (GA[i * m + j] + GA[j * m + i]) * d[i] * d[j];
      B[i * m + j] = 0.5 * (GB[i * m + j] + GB[j * m + i]) * d[i] * d[j];
    }
  }
  const be = symEig(B, m);
  const mu = be.values, muMax = mu[0];
  let Y: Float64Array, values: Float64Array, cols: number;
  if (mu[m - 1] > GRAM_COND * muMax) {
    const g = generalizedSymEig(A, B, m);
    Y = g.vectors; values = g.values; cols = m;
  } else {
    if (!truncate) return null;
    // Orthonormalise on the host: Z = U_keep μ_keep^(-1/2), then eig(Zᵀ A Z).
    const keep: number[] = [];
    for (let j = 0; j < m; j++) if (mu[j] > GRAM_COND * muMax) keep.push(j);
    const r = keep.length;
    if (r < k) return null;
    const Z = new Float64Array(m * r);
    keep.forEach((j, c) => { for (let i = 0; i < m; i++) Z[i * r + c] = be.vectors[i * m + j] / Math.sqrt(mu[j]); });
    const AZ = new Float64Array(m * r), H = new Float64Array(r * r);
    for (let i = 0; i < m; i++) for (let c = 0; c < r; c++) {
      let s = 0;
      for (let l = 0; l < m; l++) s += A[i * m + l] * Z[l * r + c];
      AZ[i * r + c] = s;
    }
    for (let a = 0; a < r; a++) for (let c = 0; c < r; c++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += Z[i * r + a] * AZ[i * r + c];
      H[a * r + c] = s;
    }
    for (let a = 0; a < r; a++) for (let c = 0; c < a; c++) H[a * r + c] = H[c * r + a] = 0.5 * (H[a * r + c] + H[c * r + a]);
    const he = symEig(H, r);
    Y = new Float64Array(m * r);
    for (let i = 0; i < m; i++) for (let c = 0; c < r; c++) {
      let s = 0;
      for (let a = 0; a < r; a++) s += Z[i * r + a] * he.vectors[a * r + c];
      Y[i * r + c] = s;
    }
    values = he.values; cols = r;
  }
  // Undo the diagonal scaling: coefficients of the unscaled basis.
  const C = new Float64Array(m * k);
  for (let i = 0; i < m; i++) for (let c = 0; c < k; c++) C[i * k + c] = d[i] * Y[i * cols + c];
  return { values: Array.from(values.subarray(0, k)), C, next: cols > k ? values[k] : NaN };
}

export async function lobpcg(backend: Backend, op: SymOperator, opts: LobpcgOptions): Promise<LobpcgResult> {
  const n = op.n, k = opts.k;
  if (!Number.isInteger(k) || k < 1 || 3 * k > n) throw new Error(`lobpcg: k must be an integer in [1, n/3 = ${Math.floor(n / 3)}], got ${k}`);
  const maxIter = opts.maxIter ?? 200, tol = opts.tol ?? 1e-5;
  const init = opts.init ?? [];
  if (init.length > k) throw new Error(`lobpcg: ${init.length} start vectors for k = ${k}`);
  for (const b of init) if (b.length < n) throw new Error(`lobpcg: start vector '${b.label}' holds ${b.length} values, need ${n}`);
  // Slots: residual norms before/after orthogonalisation, R ⟂ X coefficients, Gram matrices.
  const RN1 = opts.slot ?? SOLVER_SLOT, RN2 = RN1 + k, WC = RN2 + k, G0 = WC + k * k;
  if (G0 + 18 * k * k > backend.scalarCapacity) throw new Error(`lobpcg: k = ${k} needs more than the backend's ${backend.scalarCapacity} scalar slots`);

  const apps0 = op.applications;
  const SB = backend.scalarsBuf;
  const S = backend.alloc(3 * k * n, 'lobpcg S'), AS = backend.alloc(3 * k * n, 'lobpcg AS');
  const Pb = backend.alloc(k * n, 'lobpcg P'), APb = backend.alloc(k * n, 'lobpcg AP');
  const Rb = backend.alloc(k * n, 'lobpcg R'), T1 = backend.alloc(k * n, 'lobpcg X new'), T2 = backend.alloc(k * n, 'lobpcg AX new');
  const coef = backend.alloc(6 * k * k, 'lobpcg coefficients');
  const vin: Buf[] = [], vout: Buf[] = [];
  for (let i = 0; i < k; i++) { vin.push(backend.alloc(n, `lobpcg in ${i}`)); vout.push(backend.alloc(n, `lobpcg out ${i}`)); }
  const owned = [S, AS, Pb, APb, Rb, T1, T2, coef, ...vin, ...vout];

  /** AS rows [row0, row0 + count) = A · S rows [row0, row0 + count) (through the standalone vin/vout buffers the operator takes). */
  const applyRows = async (row0: number, count: number) => {
    for (let j = 0; j < count; j++) backend.vector({ n, y: vin[j], x: S, xOff: (row0 + j) * n, alpha: 1, beta: 0 });
    await op.apply(vin.slice(0, count), vout.slice(0, count));
    for (let j = 0; j < count; j++) backend.vector({ n, y: AS, yOff: (row0 + j) * n, x: vout[j], alpha: 1, beta: 0 });
  };
  /** Gram matrices of S rows [0, m) into G0 (SᵀS) and G0 + m² (Sᵀ AS), read back. */
  const grams = async (m: number) => {
    for (let i = 0; i < m; i++) {
      backend.reduce({ n, K: m, x: { buf: S, off: 0, bs: n }, y: { buf: S, off: i * n, bs: 0 }, slot: G0 + i * m });
      backend.reduce({ n, K: m, x: { buf: AS, off: 0, bs: n }, y: { buf: S, off: i * n, bs: 0 }, slot: G0 + m * m + i * m });
    }
    const g = await backend.readScalars(G0, 2 * m * m);
    return { GB: g.slice(0, m * m), GA: g.slice(m * m) };
  };
  /** X ← S C_X, AX ← AS C_X over basis rows [0, m); and P, AP from rows [k, m) when m > k. */
  const update = (C: Float64Array, m: number) => {
    // coef holds C_Xᵀ (k×m) at 0 and C_RPᵀ (k×(m−k)) at k·m, row-major, for 'ab' matmuls.
    const host = new Float32Array(k * m + k * (m - k));
    for (let c = 0; c < k; c++) for (let i = 0; i < m; i++) host[c * m + i] = C[i * k + c];
    for (let c = 0; c < k; c++) for (let i = k; i < m; i++) host[k * m + c * (m - k) + (i - k)] = C[i * k + c];
    backend.write(coef, host);
    const mm = (a0: number, L: number, src: Buf, srcRow: number, dst: Buf) => backend.matmul({
      layout: 'ab', M: k, N: n, L, K: 1, a: { buf: coef, off: a0, bs: 0 }, b: { buf: src, off: srcRow * n, bs: 0 }, c: { buf: dst, off: 0, bs: 0 },
    });
    mm(0, m, S, 0, T1);
    mm(0, m, AS, 0, T2);
    if (m > k) {
      mm(k * m, m - k, S, k, Pb);
      mm(k * m, m - k, AS, k, APb);
    }
    backend.vector({ n: k * n, y: S, x: T1, alpha: 1, beta: 0 });
    backend.vector({ n: k * n, y: AS, x: T2, alpha: 1, beta: 0 });
  };

  try {
    // ---- initial block: X = init ∪ random, AX, Rayleigh-Ritz on X alone.
    init.forEach((b, i) => backend.vector({ n, y: S, yOff: i * n, x: b, alpha: 1, beta: 0 }));
    if (init.length < k) {
      backend.random({ out: S, off: init.length * n, n: (k - init.length) * n, seed: opts.seed ?? 0, stream: STREAM, dist: 'normal' });
    }
    await applyRows(0, k);
    const g0 = await grams(k);
    const rr0 = rayleighRitz(g0.GA, g0.GB, k, k, true);
    if (!rr0) throw new Error('lobpcg: the start block is (numerically) rank deficient');
    update(rr0.C, k);
    let lambda = rr0.values, next = rr0.next;
    const eigTol = opts.eigTol ?? 0;
    /** Pair i's eigenvalue settled (opts.eigTol): ‖r‖²/gap small against |λ|, the gap to the nearest other Ritz value. */
    const settled = (i: number, rel: number): boolean => {
      if (!(eigTol > 0) || !(rel <= 1e-2)) return false;
      const below = i + 1 < k ? lambda[i + 1] : next, above = i > 0 ? lambda[i - 1] : Infinity;
      const gap = Math.min(lambda[i] - below, above - lambda[i]);
      return gap > 0 && rel * rel * Math.abs(lambda[i]) <= eigTol * gap;
    };
    let converged = false;
    let pValid = new Array<boolean>(k).fill(false);
    let pNorm = new Array<number>(k).fill(0);
    let residuals = new Array<number>(k).fill(Infinity);
    let iterations = 0;

    for (;;) {
      // ---- residuals R = AX − XΛ, norms, R ⟂ X (twice), norms again.
      for (let i = 0; i < k; i++) {
        backend.vector({ n, y: Rb, yOff: i * n, x: AS, xOff: i * n, alpha: 1, beta: 0 });
        backend.vector({ n, y: Rb, yOff: i * n, x: S, xOff: i * n, alpha: -lambda[i], beta: 1 });
      }
      backend.reduce({ n, K: k, x: { buf: Rb, off: 0, bs: n }, y: { buf: Rb, off: 0, bs: n }, slot: RN1 });
      for (let pass = 0; pass < 2; pass++) {
        for (let i = 0; i < k; i++) {
          backend.reduce({ n, K: k, x: { buf: S, off: 0, bs: n }, y: { buf: Rb, off: i * n, bs: 0 }, slot: WC + i * k });
        }
        backend.matmul({ layout: 'ab', M: k, N: n, L: k, K: 1, a: { buf: SB, off: WC, bs: 0 }, b: { buf: S, off: 0, bs: 0 },
          c: { buf: Rb, off: 0, bs: 0 }, alpha: -1, accumulate: true });
      }
      backend.reduce({ n, K: k, x: { buf: Rb, off: 0, bs: n }, y: { buf: Rb, off: 0, bs: n }, slot: RN2 });
      const rn = await backend.readScalars(RN1, 2 * k);
      residuals = lambda.map((l, i) => Math.sqrt(Math.max(rn[i], 0)) / Math.max(Math.abs(l), 1e-30));
      if (residuals.some((r) => !Number.isFinite(r))) throw new Error('lobpcg: non-finite residual (operator produced NaN/Inf?)');
      const active = residuals.map((r, i) => (r >= tol && !settled(i, r) && rn[k + i] > 0 ? i : -1)).filter((i) => i >= 0);
      converged = residuals.every((r, i) => r < tol || settled(i, r) || !(rn[k + i] > 0));
      if (active.length === 0 || iterations >= maxIter) break;
      iterations++;

      // ---- basis S = [X | R_J | P_J], A applied to R_J only.
      const a = active.length;
      active.forEach((i, j) => backend.vector({ n, y: S, yOff: (k + j) * n, x: Rb, xOff: i * n, alpha: 1 / Math.sqrt(rn[k + i]), beta: 0 }));
      await applyRows(k, a);
      const withP = active.filter((i) => pValid[i]);
      withP.forEach((i, j) => {
        const row = (k + a + j) * n;
        backend.vector({ n, y: S, yOff: row, x: Pb, xOff: i * n, alpha: 1 / pNorm[i], beta: 0 });
        backend.vector({ n, y: AS, yOff: row, x: APb, xOff: i * n, alpha: 1 / pNorm[i], beta: 0 });
      });
      const mFull = k + a + withP.length;
      let m = mFull;
      const { GA, GB } = await grams(m);

      // ---- Rayleigh-Ritz; drop P, then truncate, when the Gram matrix is ill-conditioned.
      let rr = rayleighRitz(GA, GB, m, k, false);
      if (!rr && withP.length > 0) {
        const m2 = k + a;
        const sub = (G: Float64Array) => { const o = new Float64Array(m2 * m2); for (let i = 0; i < m2; i++) for (let j = 0; j < m2; j++) o[i * m2 + j] = G[i * m + j]; return o; };
        rr = rayleighRitz(sub(GA), sub(GB), m2, k, false);
        if (rr) m = m2;
        else { rr = rayleighRitz(sub(GA), sub(GB), m2, k, true); if (rr) m = m2; }
      }
      rr ??= rayleighRitz(GA, GB, m, k, true);
      if (!rr) throw new Error('lobpcg: Rayleigh-Ritz basis collapsed below k directions');
      update(rr.C, m);
      lambda = rr.values;
      next = rr.next;
      // ‖P_new,c‖² = c_RPᵀ G_RP c_RP from the Gram matrix just read (float64, host).
      pValid = new Array<boolean>(k).fill(false);
      pNorm = new Array<number>(k).fill(0);
      if (m > k) {
        for (let c = 0; c < k; c++) {
          let s = 0;
          for (let i = k; i < m; i++) for (let j = k; j < m; j++) s += rr.C[i * k + c] * GB[i * mFull + j] * rr.C[j * k + c];
          pNorm[c] = Math.sqrt(Math.max(s, 0));
          pValid[c] = pNorm[c] > 0 && Number.isFinite(pNorm[c]);
        }
      }
    }

    let vectors: Buf[] | undefined;
    if (opts.wantVectors) {
      vectors = lambda.map((_, i) => {
        const y = backend.alloc(n, `lobpcg eigenvector ${i}`);
        backend.vector({ n, y, x: S, xOff: i * n, alpha: 1, beta: 0 });
        return y;
      });
    }
    return { values: lambda, vectors, residuals, iterations, applications: op.applications - apps0, converged };
  } finally {
    owned.forEach((b) => backend.release(b));
  }
}
