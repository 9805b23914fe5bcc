// Top eigenvalue of the empirical Fisher F = (1/N) Σ_i ∇ℓ_i ∇ℓ_iᵀ, the
// uncentred second moment of the per-example gradients, which some analyses
// of SGD's stability use in place of the Hessian (and which optimizers such
// as Adam approximate on their diagonal). F v = (1/N) Σ_i J_iᵀ g_i (g_iᵀ J_i v)
// with g_i = ∂ℓ_i/∂f_i: the Gauss-Newton product with the loss Hessian
// replaced by g_i g_iᵀ in the loss head (LossOp mode 'fisher'), so it costs
// one HVP-like pass per product and never forms a per-example gradient.
// Measured on the whole training set and, in SGD runs, on the step's own
// minibatch (with its own 1/B).
import { topEigenvalues } from './gauss-newton.js';
import type { MeasureContext, MeasureDef } from './suite.js';

export const fisher: MeasureDef = {
  name: 'fisher',
  flag: 'fisher',
  help: 'top eigenvalue of the empirical Fisher (1/N) Σ ∇ℓ_i ∇ℓ_iᵀ: lambda_fisher_1 on the full training set, lambda_fisher_batch_1 on the SGD minibatch',
  options: [],
  columns: () => ['lambda_fisher_1', 'lambda_fisher_batch_1'],
  unsupported: (c) => (c.hasData ? null : 'needs per-example losses over data, which toy and quadratic objectives lack: drop it'),
  async run(ctx: MeasureContext) {
    const [full] = await topEigenvalues(ctx, ctx.full, 1, { fisher: true });
    const batch = ctx.liveBatch();
    return {
      lambda_fisher_1: full,
      lambda_fisher_batch_1: batch ? (await topEigenvalues(ctx, batch, 1, { fisher: true }))[0] : null,
    };
  },
};
