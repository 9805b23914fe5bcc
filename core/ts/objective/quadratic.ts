// L(θ) = ½ θᵀAθ − bᵀθ with a symmetric A (P×P, shared by the K models):
// ∇L = Aθ − b, H = A. The analytic case for optimizer thresholds (GD is
// stable iff η < 2/λ_max(A)) and for eigen-solvers with known spectra.
import type { Backend, Buf } from '../backend/types.js';
import type { HvpOptions } from './types.js';
import { SlotObjective } from './slot-objective.js';

export class QuadraticObjective extends SlotObjective {
  readonly P: number;
  readonly K: number;
  private readonly A: Buf;
  private readonly b: Buf | null;

  /** A is P×P row-major and symmetric; b (length P) defaults to 0. */
  constructor(backend: Backend, A: Float32Array, P: number, opts: { b?: Float32Array; K?: number; slotBase?: number } = {}) {
    super(backend, opts.slotBase ?? 0);
    if (A.length !== P * P) throw new Error(`quadratic: A holds ${A.length} values, expected ${P}×${P}`);
    this.P = P;
    this.K = opts.K ?? 1;
    this.A = backend.alloc(P * P, 'quadratic A');
    backend.write(this.A, A);
    this.b = null;
    if (opts.b) {
      if (opts.b.length !== P) throw new Error(`quadratic: b holds ${opts.b.length} values, expected ${P}`);
      this.b = backend.alloc(P, 'quadratic b');
      backend.write(this.b, opts.b);
    }
  }


  /** out[z] = A·x[z] (− b when subtractB). */
  private apply(x: Buf, out: Buf, subtractB: boolean): void {
    this.backend.matmul({
      layout: 'ab', M: this.P, N: 1, L: this.P, K: this.K,
      a: { buf: this.A, off: 0, bs: 0 }, b: { buf: x, off: 0, bs: this.P }, c: { buf: out, off: 0, bs: this.P },
    });
    if (subtractB && this.b) {
      for (let z = 0; z < this.K; z++) this.backend.vector({ n: this.P, y: out, yOff: z * this.P, x: this.b, alpha: -1, beta: 1 });
    }
  }

  /** L = ½θᵀAθ − bᵀθ = ½θᵀg − ½bᵀθ, from the gradient g = Aθ − b already enqueued. */
  private encodeLoss(theta: Buf, g: Buf): void {
    const K = this.K, P = this.P;
    this.backend.reduce({ n: P, K, x: { buf: theta, off: 0, bs: P }, y: { buf: g, off: 0, bs: P }, slot: this.slot, scale: 0.5 });
    if (this.b) this.backend.reduce({ n: P, K, x: { buf: theta, off: 0, bs: P }, y: { buf: this.b, off: 0, bs: 0 }, slot: this.slot, scale: -0.5, accumulate: true });
    this.backend.clearScalars(this.slot + K, K); // no accuracy for a quadratic
  }

  encodeLossAcc(theta: Buf): void {
    const g = this.backend.alloc(this.K * this.P, 'quadratic scratch');
    this.encodeGrad(theta, g);
    this.backend.release(g);
  }

  encodeGrad(theta: Buf, grad: Buf): void {
    this.apply(theta, grad, true);
    this.encodeLoss(theta, grad);
  }

  encodeHvp(theta: Buf, vs: Buf[], outs: Buf[], opts: HvpOptions = {}): void {
    if (opts.grad) this.encodeGrad(theta, opts.grad);
    else this.encodeLossAcc(theta);
    vs.forEach((v, j) => this.apply(v, outs[j], false));
  }

  dispose(): void {
    this.backend.release(this.A);
    if (this.b) this.backend.release(this.b);
  }
}
