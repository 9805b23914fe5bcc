// The read-back half every objective shares: loss and accuracy land in 2K
// scalar slots, so the awaiting forms are one encode plus one read.
import type { Backend, Buf } from '../backend/types.js';
import type { HvpOptions, LossAcc, Objective } from './types.js';

export abstract class SlotObjective implements Objective {
  abstract readonly K: number;
  abstract readonly P: number;

  /** `slot`: the first of the 2K scalar slots (loss, then accuracy) this objective writes. */
  constructor(readonly backend: Backend, protected readonly slot: number) {}

  abstract encodeLossAcc(theta: Buf): void;
  abstract encodeGrad(theta: Buf, grad: Buf): void;
  abstract encodeHvp(theta: Buf, vs: Buf[], outs: Buf[], opts?: HvpOptions): void;
  abstract dispose(): void;

  async readLossAcc(): Promise<LossAcc> {
    const s = await this.backend.readScalars(this.slot, 2 * this.K);
    return { loss: s.slice(0, this.K), acc: s.slice(this.K, 2 * this.K) };
  }

  async lossAcc(theta: Buf): Promise<LossAcc> {
    this.encodeLossAcc(theta);
    return this.readLossAcc();
  }

  async grad(theta: Buf, grad: Buf): Promise<LossAcc> {
    this.encodeGrad(theta, grad);
    return this.readLossAcc();
  }

  async hvp(theta: Buf, vs: Buf[], outs: Buf[], opts: HvpOptions = {}): Promise<LossAcc> {
    this.encodeHvp(theta, vs, outs, opts);
    return this.readLossAcc();
  }
}
