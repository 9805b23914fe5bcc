// The one-step loss change (L(θ + u) − L(θ)) / (η‖∇L‖²), u the update the
// optimizer would take now: −1 for an infinitesimal GD step, −1 + (η/2)·
// gᵀHg/‖g‖² on a quadratic, and above 0 when the step overshoots (the
// edge of stability's non-monotone loss). The update runs on copies of θ
// and of the optimizer state, so the run's own are never written.
import type { Buf } from '../backend/types.js';
import type { OptState } from '../optim/optimizers.js';
import { dot, type MeasureContext, type MeasureDef } from './suite.js';

export const lossChange: MeasureDef = {
  name: 'loss_change',
  flag: 'loss-change',
  help: 'one-step loss change (L(θ+u) − L(θ))/(η‖∇L‖²) for the update u the optimizer would take now (θ and its state untouched); column loss_change',
  options: [],
  columns: () => ['loss_change'],
  unsupported: (c) => (c.kind === 'flow' ? 'needs an optimizer step: it measures train runs, not gradient flow' : null),
  async run(ctx: MeasureContext) {
    return { loss_change: await oneStepLossChange(ctx) };
  },
};

/** (L(θ + u) − L(θ)) / (η‖∇L‖²); NaN where it is undefined (no optimizer, zero gradient). */
export async function oneStepLossChange(ctx: MeasureContext): Promise<number> {
  const { backend, P } = ctx;
  const o = ctx.optimizer;
  const g2 = ctx.gradNorm * ctx.gradNorm;
  if (!o || !(ctx.lr > 0) || !(g2 > 0)) return NaN;
  const copy = (src: Buf, label: string) => {
    const b = ctx.alloc(label);
    backend.vector({ n: P, y: b, x: src, alpha: 1, beta: 0 });
    return b;
  };
  const theta = copy(ctx.theta, 'θ + u');
  const state: OptState = { step: o.state.step, tensors: {} };
  for (const [name, b] of Object.entries(o.state.tensors)) state.tensors[name] = copy(b, `copy of ${name}`);
  // An SGD run steps along its minibatch gradient, a full-batch run along ∇L (update only reads it).
  let g = ctx.grad, norm = ctx.gradNorm;
  const live = ctx.liveBatch();
  if (live) {
    g = ctx.alloc('minibatch gradient');
    live.encodeGrad(ctx.theta, g);
    norm = Math.sqrt(await dot(backend, g, g, P, ctx.slot));
  }
  o.opt.update(backend, theta, g, state, ctx.lr, norm);
  const after = (await ctx.full.lossAcc(theta)).loss[0];
  return (after - ctx.trainLoss) / (ctx.lr * g2);
}
