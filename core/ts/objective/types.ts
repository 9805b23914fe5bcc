// What optimizers, eigen-solvers and the run loop see of a training
// objective: flat parameter vectors (K models × P) and three products.
// ModelObjective, QuadraticObjective and ToyObjective implement it.
import type { BnRunning } from '../nn/bn-running.js';
import type { Buf } from '../backend/types.js';

export interface LossAcc {
  loss: Float64Array;
  acc: Float64Array;
}

export interface HvpOptions {
  /** Gauss-Newton product instead of the Hessian (where the objective has one). */
  gaussNewton?: boolean;
  /** Empirical-Fisher product (1/N) Σ_i ∇ℓ_i ∇ℓ_iᵀ v instead (where the objective has per-example losses). */
  fisher?: boolean;
  /** Also write the gradient here. */
  grad?: Buf;
}

export interface Objective {
  /** Models batched in every op. */
  readonly K: number;
  /** Parameters per model. */
  readonly P: number;
  /** Enqueue loss and accuracy of θ into this objective's scalar slots. */
  encodeLossAcc(theta: Buf): void;
  /** Enqueue ∇L(θ) into `grad` (and loss/accuracy into the slots); `running`: an update's gradient tracks BatchNorm statistics there. */
  encodeGrad(theta: Buf, grad: Buf, running?: BnRunning | null): void;
  /** Enqueue outs[j] = H(θ) vs[j] (and loss/accuracy into the slots). */
  encodeHvp(theta: Buf, vs: Buf[], outs: Buf[], opts?: HvpOptions): void;
  /** Read the slots the last encode filled. */
  readLossAcc(): Promise<LossAcc>;
  lossAcc(theta: Buf): Promise<LossAcc>;
  grad(theta: Buf, grad: Buf): Promise<LossAcc>;
  hvp(theta: Buf, vs: Buf[], outs: Buf[], opts?: HvpOptions): Promise<LossAcc>;
  dispose(): void;
}
