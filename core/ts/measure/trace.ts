// Hessian trace tr H of the curvature set, by Hutchinson's estimator with
// Rademacher probes z (E[zᵀHz] = tr H): draws until the standard error falls
// below eps·|mean| (at least `min`, at most `max` probes). Hutch++ (Meyer et
// al. 2021) spends a third of the budget on a sketch Q of the top of the
// spectrum, takes tr(QᵀHQ) exactly and Hutchinson on the rest, (I − QQᵀ)H(I − QQᵀ):
// far lower variance when a few eigenvalues dominate, as they do at the edge.
import type { Buf } from '../backend/types.js';
import { hessianOperator } from './operator.js';
import { dot, measureStream, nonNegativeInt, positive, positiveInt, RunningMean, type MeasureContext, type MeasureDef, type MeasureSettings } from './suite.js';

const MEASURE_ID = 1;

export const trace: MeasureDef = {
  name: 'trace',
  flag: 'trace',
  help: 'Hessian trace by Hutchinson (Rademacher probes) with a relative-error stop; columns trace, trace_se, trace_probes',
  options: [
    { name: 'max', help: 'most probes', default: 256, check: positiveInt },
    { name: 'min', help: 'fewest probes', default: 20, check: positiveInt },
    { name: 'eps', help: 'stop when the standard error is below eps × |trace|', default: 0.01, check: positive },
    { name: 'sketch', help: 'Hutch++: probes spent on the sketch of the top of the spectrum (0: plain Hutchinson)', default: 0, check: nonNegativeInt },
  ],
  columns: () => ['trace', 'trace_se', 'trace_probes'],
  unsupported: () => null,
  async run(ctx: MeasureContext, s: MeasureSettings) {
    const { max, min, eps, sketch } = s.options as { max: number; min: number; eps: number; sketch: number };
    const r = await hutchinson(ctx, { max, min, eps, sketch });
    return { trace: r.value, trace_se: r.se, trace_probes: r.probes };
  },
};

export interface TraceEstimate { value: number; se: number; probes: number }

/** tr H(θ_t) of the curvature set; `sketch` > 0 runs Hutch++ with that many sketch probes. */
export async function hutchinson(ctx: MeasureContext, o: { max: number; min: number; eps: number; sketch: number }): Promise<TraceEstimate> {
  const { backend, P } = ctx;
  const op = hessianOperator(ctx.curvature, ctx.theta);
  const stream = measureStream(MEASURE_ID, ctx.step);
  const z = ctx.alloc('probe'), hz = ctx.alloc('H·probe');
  let probe = 0;
  const draw = (out: Buf) => backend.random({ out, n: P, seed: ctx.seed, stream, index0: P * probe++, dist: 'rademacher' });
  // Hutch++ sketch: Q = orth(H S) for S of `sketch` Rademacher columns; tr(QᵀHQ) exactly.
  const Q: Buf[] = [];
  let exact = 0;
  if (o.sketch > 0) {
    for (let j = 0; j < o.sketch; j++) {
      draw(z);
      const q = ctx.alloc('sketch');
      await op.apply([z], [q]);
      // Two rounds of Gram-Schmidt against the columns so far (f32).
      for (let round = 0; round < 2; round++) {
        for (const p of Q) backend.vector({ n: P, y: q, x: p, alpha: -(await dot(backend, p, q, P, ctx.slot)), beta: 1 });
      }
      const nq = Math.sqrt(await dot(backend, q, q, P, ctx.slot));
      if (!(nq > 0)) continue;
      backend.vector({ n: P, y: q, beta: 1 / nq });
      Q.push(q);
    }
    for (const q of Q) {
      await op.apply([q], [hz]);
      exact += await dot(backend, q, hz, P, ctx.slot);
    }
  }
  const mean = new RunningMean();
  while (!mean.done(o.eps, o.min, o.max)) {
    draw(z);
    // Project out the sketch: z ← (I − QQᵀ) z, so zᵀHz estimates the trace of the deflated part.
    for (const q of Q) backend.vector({ n: P, y: z, x: q, alpha: -(await dot(backend, q, z, P, ctx.slot)), beta: 1 });
    await op.apply([z], [hz]);
    // z ⊥ Q now, so zᵀHz = zᵀ(I − QQᵀ)H(I − QQᵀ)z.
    const v = await dot(backend, z, hz, P, ctx.slot);
    if (!Number.isFinite(v)) return { value: NaN, se: NaN, probes: mean.n + 1 };
    mean.add(v);
  }
  return { value: exact + mean.mean, se: mean.se, probes: mean.n + Q.length };
}
