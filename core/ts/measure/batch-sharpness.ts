// Batch sharpness (Andreyev & Beneventano, "Edge of Stochastic Stability"):
// the curvature a minibatch step sees along its own gradient,
//   batch_sharpness = E_B[ g_Bᵀ H_B g_B / ‖g_B‖² ],
// g_B and H_B the gradient and Hessian of the loss on a fresh minibatch B of
// the training batch size. Under SGD it rises to 2/η and hovers there while
// the full-batch λ₁ stays below (the EoSS). Also recorded:
//  - the "expectation inside" variant E[g_Bᵀ H_B g_B] / E[‖g_B‖²];
//  - the momentum variant E_B[u_Bᵀ H_B u_B / ‖u_B‖²] along the step u_B the
//    optimizer would take from g_B with its current state (polyak, nesterov,
//    adam, rmsprop; null for gd and ngd, whose step is along g_B itself).
// Draws stop by the reference's rule on the first of them.
import type { Buf } from '../backend/types.js';
import type { OptState } from '../optim/optimizers.js';
import { batchSizeOption, dots, drawSize, needsMinibatches, RunningRatio, stopOptions, stopRule } from './minibatch.js';
import { measureStream, RunningMean, type MeasureContext, type MeasureDef, type MeasureSettings } from './suite.js';

const MEASURE_ID = 2;

export const batchSharpness: MeasureDef = {
  name: 'batch_sharpness',
  flag: 'batch-sharpness',
  help: 'batch sharpness E_B[g_BᵀH_Bg_B/‖g_B‖²] over fresh minibatches, its expectation-inside and momentum-step variants; columns batch_sharpness{,_se,_draws,_inside,_inside_se,_step,_step_se}',
  options: [batchSizeOption, ...stopOptions({ eps: 0.005, min: 20, max: 1000 })],
  columns: () => ['batch_sharpness', 'batch_sharpness_se', 'batch_sharpness_draws', 'batch_sharpness_inside', 'batch_sharpness_inside_se', 'batch_sharpness_step', 'batch_sharpness_step_se'],
  unsupported: needsMinibatches('batch-sharpness'),
  async run(ctx: MeasureContext, s: MeasureSettings) {
    const r = await estimateBatchSharpness(ctx, { size: drawSize(ctx, s), ...stopRule(s) });
    return {
      batch_sharpness: r.value, batch_sharpness_se: r.se, batch_sharpness_draws: r.draws,
      batch_sharpness_inside: r.inside, batch_sharpness_inside_se: r.insideSe,
      batch_sharpness_step: r.step, batch_sharpness_step_se: r.stepSe,
    };
  },
};

export interface BatchSharpness {
  value: number;
  se: number;
  draws: number;
  inside: number;
  insideSe: number;
  /** Along the optimizer's step (null where that step is along g_B). */
  step: number | null;
  stepSe: number | null;
}

/** Optimizers whose step from g_B is not a multiple of g_B. */
const STEP_DIFFERS = new Set(['polyak', 'nesterov', 'adam', 'rmsprop']);

export async function estimateBatchSharpness(ctx: MeasureContext, o: { size: number; eps: number; min: number; max: number }): Promise<BatchSharpness> {
  const { backend, P, theta } = ctx;
  const sampler = ctx.batches(o.size);
  if (!sampler) throw new Error('batch sharpness needs a dataset: this objective has no minibatches to draw');
  const stream = measureStream(MEASURE_ID, ctx.step);
  const g = ctx.alloc('g_B'), hg = ctx.alloc('H_B g_B');
  const mom = ctx.optimizer && STEP_DIFFERS.has(ctx.optimizer.opt.config.name) ? momentumScratch(ctx) : null;
  const mean = new RunningMean(), inside = new RunningRatio(), step = new RunningMean();
  while (!mean.done(o.eps, o.min, o.max)) {
    const obj = sampler.draw(stream, mean.n);
    obj.encodeGrad(theta, g);
    obj.encodeHvp(theta, [g], [hg]);
    const pairs: [Buf, Buf][] = [[g, hg], [g, g]];
    if (mom) {
      mom.step(g);
      obj.encodeHvp(theta, [mom.u], [mom.hu]);
      pairs.push([mom.u, mom.hu], [mom.u, mom.u]);
    }
    const [gHg, gg, uHu, uu] = await dots(backend, pairs, P, ctx.slot);
    if (!Number.isFinite(gHg) || !Number.isFinite(gg)) return failed(mean.n + 1, !!mom);
    mean.add(gHg / gg);
    inside.add(gHg, gg);
    if (mom) step.add(uHu / uu);
  }
  return {
    value: mean.mean, se: mean.se, draws: mean.n, inside: inside.ratio, insideSe: inside.se,
    step: mom ? step.mean : null, stepSe: mom ? step.se : null,
  };
}

function failed(draws: number, withStep: boolean): BatchSharpness {
  return { value: NaN, se: NaN, draws, inside: NaN, insideSe: NaN, step: withStep ? NaN : null, stepSe: withStep ? NaN : null };
}

/**
 * The step u the optimizer would take from g with its current state, on
 * scratch copies: the live θ and state are never written. The update runs
 * on u = 0 rather than on a copy of θ: none of these updates depends on θ
 * (no weight decay), and u' − θ in f32 would lose the digits of a small step
 * to cancellation. η = 1: the step is η times a direction, and the direction
 * is all the Rayleigh quotient sees (flow and η = 0 steps have no η to use).
 */
function momentumScratch(ctx: MeasureContext) {
  const { backend, P } = ctx;
  const { opt, state } = ctx.optimizer!;
  const u = ctx.alloc('u_B'), hu = ctx.alloc('H_B u_B');
  const names = Object.keys(state.tensors);
  const copies = Object.fromEntries(names.map((k) => [k, ctx.alloc(`${k} copy`)]));
  return {
    u, hu,
    step(g: Buf) {
      backend.vector({ n: P, y: u, beta: 0, gamma: 0 });
      for (const k of names) backend.vector({ n: P, y: copies[k], x: state.tensors[k], alpha: 1, beta: 0 });
      const scratch: OptState = { step: state.step, tensors: copies };
      opt.update(backend, u, g, scratch, 1);
    },
  };
}
