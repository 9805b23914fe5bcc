// How far the iterate has moved: ‖θ_t − θ₀‖ from the run's initialisation
// (recomputed from the seed) and, with --distance-to FILE, ‖θ_t − θ_ref‖
// from a checkpoint the host loads (core reads no files: it arrives as
// ctx.reference('distance')).
import { dot, type MeasureContext, type MeasureDef } from './suite.js';

export const distance: MeasureDef = {
  name: 'distance',
  flag: 'distance',
  help: 'parameter distance ‖θ_t − θ₀‖ (column distance_init) and, with --distance-to FILE.safetensors, ‖θ_t − θ_ref‖ (distance_ref)',
  options: [
    { name: 'to', help: 'a checkpoint (.safetensors, this model\'s state dict) to measure the distance to', default: '', kind: 'string', check: (v) => (typeof v === 'string' ? null : 'a file path') },
  ],
  columns: (s) => ['distance_init', ...(s.options.to ? ['distance_ref'] : [])],
  unsupported: () => null,
  async run(ctx: MeasureContext, s) {
    const out: Record<string, number | null> = { distance_init: await distanceTo(ctx, ctx.initialTheta()) };
    if (s.options.to) {
      const ref = ctx.reference?.('distance') ?? null;
      if (!ref) throw new Error(`--distance-to ${s.options.to}: the host did not load it (the Node CLI does; elsewhere pass the vector as a reference)`);
      out.distance_ref = await distanceTo(ctx, ref);
    }
    return out;
  },
};

/** ‖θ_t − x‖ on the device (one upload, one reduction). */
export async function distanceTo(ctx: MeasureContext, x: Float32Array): Promise<number> {
  if (x.length !== ctx.P) throw new Error(`reference θ has ${x.length} values, the model ${ctx.P}: it belongs to another architecture`);
  const d = ctx.alloc('θ − reference');
  ctx.backend.write(d, x);
  ctx.backend.vector({ n: ctx.P, y: d, x: ctx.theta, alpha: 1, beta: -1 });
  return Math.sqrt(await dot(ctx.backend, d, d, ctx.P, ctx.slot));
}
