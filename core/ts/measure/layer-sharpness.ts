// Per-layer sharpness: the top eigenvalue of each layer's diagonal Hessian
// block H_ll (θ restricted to the layer's weight and bias, the other layers
// held fixed), on the curvature set. H_ll v is read off a full HVP: the
// vector is zero outside the block, and only the block's range of H·v is
// kept. Each block is solved cold with the run's solver (seeded by the
// step), to the relative residual `tol`.
import type { Backend, Buf } from '../backend/types.js';
import { hessianOperator, type SymOperator } from './operator.js';
import { positive, type MeasureContext, type MeasureDef, type MeasureSettings, type ParamBlock } from './suite.js';

/** The measure's Philox id (suite.ts measureStream); its solves draw from the solver streams, seeded by the step. */
export const LAYER_SHARPNESS_ID = 9;

export const layerColumn = (block: string) => `lambda_1_layer${block}`;

export const layerSharpness: MeasureDef = {
  name: 'layer_sharpness',
  flag: 'layer-sharpness',
  help: 'top eigenvalue of each layer\'s diagonal Hessian block; columns lambda_1_layer<name> per layer, layer_sharpness_hvps, layer_sharpness_residual',
  options: [
    { name: 'tol', help: 'relative residual ‖H_ll v − λv‖/|λ| each block is solved to', default: 1e-4, check: positive },
  ],
  columns: (_s, ctx) => [...ctx.blocks.map(layerColumn), 'layer_sharpness_hvps', 'layer_sharpness_residual'],
  unsupported: (c) => (c.hasData ? null : 'needs a model with layers (toy and quadratic objectives have none)'),
  async run(ctx: MeasureContext, s: MeasureSettings) {
    const tol = s.options.tol as number;
    const out: Record<string, number | null> = {};
    let hvps = 0, residual = 0;
    const full = hessianOperator(ctx.curvature, ctx.theta);
    for (const b of ctx.blocks) {
      const op = blockOperator(ctx.backend, full, b, ctx.P, () => ctx.alloc(`H_${b.name} scratch`));
      const r = await ctx.solve(op, 1, { tol });
      r.vectors.forEach((v) => ctx.backend.release(v));
      out[layerColumn(b.name)] = r.values[0];
      hvps += r.applications;
      residual = Math.max(residual, ...r.residuals);
    }
    out.layer_sharpness_hvps = hvps;
    out.layer_sharpness_residual = residual;
    return out;
  },
};

/**
 * H restricted to one block, as an operator on vectors of the block's size:
 * v ↦ (H [0; v; 0])[block]. `scratch` gives P-float buffers; the ones
 * holding the embedded vectors are zeroed once, and only the block's range
 * is ever written after that.
 */
export function blockOperator(backend: Backend, full: SymOperator, block: ParamBlock, P: number, scratch: () => Buf): SymOperator {
  const ins: Buf[] = [], outs: Buf[] = [];
  let count = 0;
  return {
    n: block.size,
    get applications() { return count; },
    async apply(vs, ws) {
      while (ins.length < vs.length) {
        const z = scratch();
        backend.write(z, new Float32Array(P));
        ins.push(z);
        outs.push(scratch());
      }
      vs.forEach((v, j) => backend.vector({ n: block.size, y: ins[j], yOff: block.off, x: v, alpha: 1, beta: 0 }));
      await full.apply(ins.slice(0, vs.length), outs.slice(0, vs.length));
      ws.forEach((w, j) => backend.vector({ n: block.size, y: w, x: outs[j], xOff: block.off, alpha: 1, beta: 0 }));
      count += vs.length;
    },
  };
}
