// Step sharpness: the Rayleigh quotient g_Bᵀ H_B g_B / ‖g_B‖² on the live
// minibatch B_t of this step, the one SGD's update t is about to use (one
// sample of what batch sharpness averages, so no standard error: it is exact
// for that batch). Only SGD runs have a live minibatch.
import { dots } from './minibatch.js';
import type { MeasureContext, MeasureDef } from './suite.js';

export const stepSharpness: MeasureDef = {
  name: 'step_sharpness',
  flag: 'step-sharpness',
  help: 'step sharpness g_BᵀH_Bg_B/‖g_B‖² on the live minibatch of this step (SGD runs); column step_sharpness',
  options: [],
  columns: () => ['step_sharpness'],
  unsupported: (c) => (c.kind === 'train' && c.batchSize > 0 ? null : 'needs an SGD run (--batch-size B): a full-batch run has no live minibatch'),
  async run(ctx: MeasureContext) {
    return { step_sharpness: await liveSharpness(ctx) };
  },
};

export async function liveSharpness(ctx: MeasureContext): Promise<number> {
  const obj = ctx.liveBatch();
  if (!obj) throw new Error('step sharpness needs an SGD run (--batch-size B): this run has no live minibatch');
  const g = ctx.alloc('g_B'), hg = ctx.alloc('H_B g_B');
  obj.encodeGrad(ctx.theta, g);
  obj.encodeHvp(ctx.theta, [g], [hg]);
  const [gHg, gg] = await dots(ctx.backend, [[g, hg], [g, g]], ctx.P, ctx.slot);
  return gHg / gg;
}
