// Top eigenvalues of the Gauss-Newton matrix G = (1/N) Σ_i J_iᵀ H_ℓ J_i
// (J_i the Jacobian of example i's outputs in θ, H_ℓ the loss Hessian in the
// outputs): the Hessian without its term in the network's second derivative,
// positive semi-definite for MSE and cross-entropy. At the edge of stability
// λ₁(G) tracks λ₁(H) closely (Cohen et al. 2021, appendix), so the gap says
// how much of the sharpness comes from the network's curvature. Measured on
// the curvature set (k = --neigs values) and, in SGD runs, on the step's own
// minibatch (its top value).
import type { Objective } from '../objective/types.js';
import { hessianOperator } from './operator.js';
import type { MeasureContext, MeasureDef } from './suite.js';

export const gaussNewton: MeasureDef = {
  name: 'gauss_newton',
  flag: 'gauss-newton',
  help: 'top eigenvalues of the Gauss-Newton matrix JᵀH_ℓJ: lambda_gn_1…k (k = --neigs) on the curvature set, lambda_gn_batch_1 on the SGD minibatch',
  options: [],
  columns: (_s, c) => [...Array.from({ length: c.neigs }, (_, i) => `lambda_gn_${i + 1}`), 'lambda_gn_batch_1'],
  unsupported: (c) => (c.hasData ? null : 'needs a model and a loss over data, which toy and quadratic objectives lack: drop it'),
  async run(ctx: MeasureContext) {
    const out: Record<string, number | null> = {};
    const k = Math.min(ctx.neigs, ctx.P);
    const full = await topEigenvalues(ctx, ctx.curvature, k);
    full.forEach((v, i) => { out[`lambda_gn_${i + 1}`] = v; });
    const batch = ctx.liveBatch();
    out.lambda_gn_batch_1 = batch ? (await topEigenvalues(ctx, batch, 1))[0] : null;
    return out;
  },
};

/** Top-k eigenvalues of G (or, with {fisher}, of the empirical Fisher) on `obj` with the run's solver; vectors released. */
export async function topEigenvalues(ctx: MeasureContext, obj: Objective, k: number, mode: { gaussNewton?: boolean; fisher?: boolean } = { gaussNewton: true }): Promise<number[]> {
  const r = await ctx.solve(hessianOperator(obj, ctx.theta, mode), k);
  r.vectors.forEach((b) => ctx.backend.release(b));
  return r.values;
}
