// Minibatch gradient norm: E_B‖g_B‖² over fresh minibatches of the training
// batch size (the full-batch ‖∇L‖ is the run's grad_norm column). Since
// E‖g_B‖² = ‖∇L‖² + tr Σ / B, the excess over grad_norm² is the gradient
// noise the sharpness measures are compared with.
import { batchSizeOption, dots, drawSize, needsMinibatches, stopOptions, stopRule } from './minibatch.js';
import { measureStream, RunningMean, type MeasureContext, type MeasureDef, type MeasureSettings } from './suite.js';

const MEASURE_ID = 5;

export const batchGrad: MeasureDef = {
  name: 'batch_grad',
  flag: 'batch-grad',
  help: 'minibatch gradient norm E_B‖g_B‖² over fresh minibatches; columns batch_grad_sq, batch_grad_sq_se, batch_grad_draws',
  // The reference's gradient-norm estimate stops at 1% relative error.
  options: [batchSizeOption, ...stopOptions({ eps: 0.01, min: 20, max: 1000 })],
  columns: () => ['batch_grad_sq', 'batch_grad_sq_se', 'batch_grad_draws'],
  unsupported: needsMinibatches('batch-grad'),
  async run(ctx: MeasureContext, s: MeasureSettings) {
    const r = await estimateBatchGradSq(ctx, { size: drawSize(ctx, s), ...stopRule(s) });
    return { batch_grad_sq: r.value, batch_grad_sq_se: r.se, batch_grad_draws: r.draws };
  },
};

export async function estimateBatchGradSq(ctx: MeasureContext, o: { size: number; eps: number; min: number; max: number }): Promise<{ value: number; se: number; draws: number }> {
  const sampler = ctx.batches(o.size);
  if (!sampler) throw new Error('batch_grad needs a dataset: this objective has no minibatches to draw');
  const stream = measureStream(MEASURE_ID, ctx.step);
  const g = ctx.alloc('g_B');
  const mean = new RunningMean();
  while (!mean.done(o.eps, o.min, o.max)) {
    sampler.draw(stream, mean.n).encodeGrad(ctx.theta, g);
    const [gg] = await dots(ctx.backend, [[g, g]], ctx.P, ctx.slot);
    if (!Number.isFinite(gg)) return { value: NaN, se: NaN, draws: mean.n + 1 };
    mean.add(gg);
  }
  return { value: mean.mean, se: mean.se, draws: mean.n };
}
