// Symmetric operators the eigen-solvers act on, as flat-vector maps
// (one model, length n): the Hessian, the Gauss-Newton matrix, and the
// preconditioned Hessian P^-1/2 H P^-1/2 whose top eigenvalue is λ_A.
// apply may return a promise: a sweep member's operator waits there for the
// other members' solvers and runs with theirs as one batched product
// (lockstep.ts), so every caller awaits it.
import type { Backend, Buf } from '../backend/types.js';
import type { Objective } from '../objective/types.js';

export interface SymOperator {
  readonly n: number;
  /** Enqueue outs[j] = A vs[j] (no read-back); await it: the products are enqueued once it resolves. */
  apply(vs: Buf[], outs: Buf[]): void | Promise<void>;
  /** Operator applications so far (HVPs, for solver cost reports). */
  readonly applications: number;
}

/** H(θ) (or the Gauss-Newton matrix, or the empirical Fisher) of a single-model objective. */
export function hessianOperator(obj: Objective, theta: Buf, opts: { gaussNewton?: boolean; fisher?: boolean } = {}): SymOperator {
  if (obj.K !== 1) throw new Error('eigen-solvers measure one model at a time (K = 1)');
  let count = 0;
  return {
    n: obj.P,
    get applications() { return count; },
    apply(vs, outs) {
      obj.encodeHvp(theta, vs, outs, opts);
      count += vs.length;
    },
  };
}

/**
 * D A D with D = diag(d): for Adam's λ_A, d = P^-1/2 = (√v̂ + ε)^(-1/2)
 * (Optimizer.preconditionerInvSqrt writes it).
 */
export function scaledOperator(backend: Backend, inner: SymOperator, d: Buf): SymOperator {
  const tmp: Buf[] = [];
  return {
    n: inner.n,
    get applications() { return inner.applications; },
    async apply(vs, outs) {
      while (tmp.length < vs.length) tmp.push(backend.alloc(inner.n, 'D·v'));
      vs.forEach((v, j) => {
        backend.vector({ n: inner.n, y: tmp[j], x: v, alpha: 1, beta: 0 });
        backend.optim({ mode: 'scale', n: inner.n, theta: tmp[j], grad: d });
      });
      await inner.apply(tmp.slice(0, vs.length), outs);
      outs.forEach((o) => backend.optim({ mode: 'scale', n: inner.n, theta: o, grad: d }));
    },
  };
}
