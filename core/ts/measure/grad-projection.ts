// How much of the full-batch gradient lies along each top Hessian
// eigenvector of the last solve: ⟨∇L, v_i⟩² / ‖∇L‖² (the vectors are unit
// norm, so the fractions of all P eigenvectors sum to 1). At the edge of
// stability the gradient's share on v₁ spikes as the iterate oscillates along it.
import { dot, type MeasureContext, type MeasureDef } from './suite.js';

export const gradProjection: MeasureDef = {
  name: 'grad_projection',
  flag: 'grad-projection',
  help: 'fractions ⟨∇L, v_i⟩²/‖∇L‖² of the gradient on the top --neigs eigenvectors of the last Hessian solve; columns grad_proj_1…grad_proj_k',
  options: [],
  columns: (_s, c) => Array.from({ length: c.neigs }, (_, i) => `grad_proj_${i + 1}`),
  unsupported: () => null,
  async run(ctx: MeasureContext) {
    const out: Record<string, number | null> = {};
    const g2 = ctx.gradNorm * ctx.gradNorm;
    // Before the first solve there are no directions: the cells stay empty. A zero gradient has no direction either: nan.
    const vs = (ctx.eig?.vectors ?? []).slice(0, ctx.neigs);
    for (const [i, v] of vs.entries()) {
      // Squared by multiplication: Deno's parser rejects `(await x) ** 2`.
      const c = await dot(ctx.backend, ctx.grad, v, ctx.P, ctx.slot);
      out[`grad_proj_${i + 1}`] = g2 > 0 ? (c * c) / g2 : NaN;
    }
    return out;
  },
};
