// One eigen-measurement of the run loop, with its diagnostics: the top
// eigenpairs of an operator by the run's solver, warm-started from the last
// measurement; the HVPs it cost and its largest relative residual; one
// retry from a fresh seeded start when the solver misses its tolerance (a
// stale warm start can trap LOBPCG or Lanczos in the wrong invariant
// subspace), and a flag, never a silent value, when the retry misses too.
//
// With `auto` (`--neigs auto:F[:KMAX]`) the block follows the eigenvalues
// above line = F × threshold: it starts from the previous measurement's
// block (1 at first), grows by one seeded random vector while its smallest
// value is still above the line (up to the cap), and keeps for the next
// measurement the pairs above the line plus one below it, so a value
// crossing upward is already in the warm block and one falling below is
// dropped at the next measurement.
import type { Backend, Buf } from '../backend/types.js';
import type { EigResult } from './lanczos.js';

export interface EigAttempt {
  /** Block size. */
  k: number;
  /** Warm start (≤ k vectors, the solver fills the rest from its seeded stream), or a fresh random block. */
  warm: Buf[];
}

export interface EigMeasurement {
  /** Eigenvalues of the final solve, descending (its block size k). */
  values: number[];
  /** The vectors to warm-start the next measurement with (owned by the caller). */
  carry: Buf[];
  /** Values of the carried vectors. */
  carryValues: number[];
  hvps: number;
  residual: number;
  converged: boolean;
  /** auto: values above the line; null without auto. */
  tracked: number | null;
}

export interface EigMeasureOptions {
  backend: Backend;
  n: number;
  /** Fixed block size, or the cap with auto. */
  k: number;
  warm: Buf[];
  auto: { line: number } | null;
  /** Solves with the run's solver (vectors wanted; the caller of measureEig releases what it does not keep). */
  solve(a: EigAttempt): Promise<EigResult & { converged?: boolean }>;
  /** k fresh random unit-variance vectors from a stream the solvers never use (the retry's start). */
  fresh(k: number): Buf[];
  tol: number;
}

/** Philox stream of the retry's fresh start at step t (top byte 0x58: disjoint from the measures', the solvers' and the data order's). */
export function retryStream(t: number): number {
  return (0x58 * 0x1000000 + (t % 0x1000000)) >>> 0;
}

export async function measureEig(o: EigMeasureOptions): Promise<EigMeasurement> {
  const { backend } = o;
  let hvps = 0;
  const release = (bs: Buf[] | undefined) => bs?.forEach((b) => backend.release(b));
  const converged = (r: EigResult & { converged?: boolean }) => r.converged ?? maxResidual(r) < o.tol;
  /** Solve, and once more from a fresh start if the tolerance was missed. */
  const attempt = async (k: number, warm: Buf[]): Promise<{ r: EigResult & { converged?: boolean }; ok: boolean }> => {
    const r = await o.solve({ k, warm });
    hvps += r.applications;
    if (converged(r)) return { r, ok: true };
    const start = o.fresh(k);
    try {
      const r2 = await o.solve({ k, warm: start });
      hvps += r2.applications;
      // Keep the better of the two when both miss: the flag says so either way.
      if (converged(r2) || maxResidual(r2) < maxResidual(r)) { release(r.vectors); return { r: r2, ok: converged(r2) }; }
      release(r2.vectors);
      return { r, ok: false };
    } finally {
      release(start);
    }
  };
  const k0 = o.auto ? Math.min(o.k, Math.max(1, o.warm.length)) : o.k;
  let k = k0;
  let { r, ok } = await attempt(k, o.warm.length <= k ? o.warm : o.warm.slice(0, k));
  while (o.auto && k < o.k && r.values[k - 1] > o.auto.line) {
    k++;
    const next = await attempt(k, r.vectors ?? []);
    release(r.vectors);
    ({ r, ok } = next);
  }
  const vectors = r.vectors ?? [];
  let tracked: number | null = null, keep = vectors.length;
  if (o.auto) {
    const line = o.auto.line;
    tracked = r.values.filter((v) => v > line).length;
    keep = Math.min(vectors.length, Math.max(1, tracked + 1));
  }
  release(vectors.slice(keep));
  return {
    values: r.values, carry: vectors.slice(0, keep), carryValues: r.values.slice(0, keep),
    hvps, residual: maxResidual(r), converged: ok, tracked,
  };
}

export function maxResidual(r: EigResult): number {
  return r.residuals.length ? Math.max(...r.residuals.map((x) => (Number.isNaN(x) ? Infinity : x))) : Infinity;
}
