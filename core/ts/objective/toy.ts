// The theory slides' toy objectives as engine objectives (K models at once,
// e.g. a grid of initial points): ½(1 − xyzw)² — the minimalist model of
// self-stabilisation — and the 2-D (1 − x²y²)² and (1 − xy)². Exact gradient
// and Hessian products in core/shaders/toy.wgsl.
import type { Backend, Buf, ToyOp } from '../backend/types.js';
import type { HvpOptions } from './types.js';
import { SlotObjective } from './slot-objective.js';

export type ToyModel = ToyOp['model'];

export const TOY_PARAMS: Record<ToyModel, number> = { xyzw: 4, x2y2: 2, xy: 2 };

export class ToyObjective extends SlotObjective {
  readonly P: number;
  readonly K: number;
  private scratch: Buf | null = null;

  constructor(backend: Backend, readonly model: ToyModel, opts: { K?: number; slotBase?: number } = {}) {
    super(backend, opts.slotBase ?? 0);
    if (!(model in TOY_PARAMS)) throw new Error(`unknown toy objective '${model}': use ${Object.keys(TOY_PARAMS).join(', ')}`);
    this.P = TOY_PARAMS[model];
    this.K = opts.K ?? 1;
  }

  encodeLossAcc(theta: Buf): void {
    this.scratch ??= this.backend.alloc(this.K * this.P, 'toy scratch');
    this.encodeGrad(theta, this.scratch);
  }

  encodeGrad(theta: Buf, grad: Buf): void {
    this.backend.toy({ model: this.model, mode: 'grad', K: this.K, theta, out: grad, slot: this.slot });
  }

  encodeHvp(theta: Buf, vs: Buf[], outs: Buf[], opts: HvpOptions = {}): void {
    if (opts.gaussNewton) throw new Error('the toy objectives have no Gauss-Newton split');
    if (opts.grad) this.encodeGrad(theta, opts.grad);
    vs.forEach((v, j) => this.backend.toy({ model: this.model, mode: 'hvp', K: this.K, theta, v, out: outs[j], slot: this.slot }));
    if (vs.length === 0 && !opts.grad) this.encodeLossAcc(theta);
  }

  dispose(): void {
    if (this.scratch) this.backend.release(this.scratch);
  }
}
