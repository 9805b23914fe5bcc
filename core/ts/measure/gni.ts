// Gradient–noise interaction (GNI, the stochastic-EoS reference):
//   gni = E_B[ g_Bᵀ H g_B ] / ‖∇L‖²,
// H the full-batch Hessian of the curvature set, g_B the gradient on a fresh
// minibatch of the training batch size, ∇L the full-batch gradient. Since
// E[g_B g_Bᵀ] = ∇L∇Lᵀ + Σ/B, gni = ∇LᵀH∇L/‖∇L‖² + tr(HΣ)/(B‖∇L‖²): how much
// the noise of the minibatch gradient adds along the curved directions.
import { batchSizeOption, dots, drawSize, needsMinibatches, stopOptions, stopRule } from './minibatch.js';
import { measureStream, RunningMean, type MeasureContext, type MeasureDef, type MeasureSettings } from './suite.js';

const MEASURE_ID = 4;

export const gni: MeasureDef = {
  name: 'gni',
  flag: 'gni',
  help: 'gradient–noise interaction E_B[g_BᵀHg_B]/‖∇L‖² (H the full-batch Hessian) over fresh minibatches; columns gni, gni_se, gni_draws',
  // The reference's GNI settings: 5% relative error, at most 500 draws (each draw is a full-batch HVP).
  options: [batchSizeOption, ...stopOptions({ eps: 0.05, min: 20, max: 500 })],
  columns: () => ['gni', 'gni_se', 'gni_draws'],
  unsupported: needsMinibatches('gni'),
  async run(ctx: MeasureContext, s: MeasureSettings) {
    const r = await estimateGni(ctx, { size: drawSize(ctx, s), ...stopRule(s) });
    return { gni: r.value, gni_se: r.se, gni_draws: r.draws };
  },
};

export async function estimateGni(ctx: MeasureContext, o: { size: number; eps: number; min: number; max: number }): Promise<{ value: number; se: number; draws: number }> {
  const { backend, P, theta } = ctx;
  const sampler = ctx.batches(o.size);
  if (!sampler) throw new Error('gni needs a dataset: this objective has no minibatches to draw');
  const stream = measureStream(MEASURE_ID, ctx.step);
  const g = ctx.alloc('g_B'), hg = ctx.alloc('H g_B');
  const g2 = ctx.gradNorm * ctx.gradNorm;
  const mean = new RunningMean();
  while (!mean.done(o.eps, o.min, o.max)) {
    sampler.draw(stream, mean.n).encodeGrad(theta, g);
    ctx.curvature.encodeHvp(theta, [g], [hg]);
    const [gHg] = await dots(backend, [[g, hg]], P, ctx.slot);
    if (!Number.isFinite(gHg)) return { value: NaN, se: NaN, draws: mean.n + 1 };
    mean.add(gHg);
  }
  return { value: mean.mean / g2, se: mean.se / g2, draws: mean.n };
}
