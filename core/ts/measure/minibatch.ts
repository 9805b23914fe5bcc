// What the minibatch measures (batch sharpness, GNI, E‖g_B‖²) share: the
// size of the minibatches they draw, their stopping-rule options, the
// refusal of runs that have no minibatches, and the ratio of two running
// means with its delta-method standard error.
import type { Backend, Buf } from '../backend/types.js';
import { nonNegativeInt, positive, positiveInt, type MeasureContext, type MeasureDef, type MeasureOption, type MeasureSettings } from './suite.js';

/** The stopping rule's options with a measure's own defaults (the reference's values per measure). */
export function stopOptions(d: { eps: number; min: number; max: number }): MeasureOption[] {
  return [
    { name: 'eps', help: 'stop when the standard error is below eps × |mean|', default: d.eps, check: positive },
    { name: 'min', help: 'fewest minibatches', default: d.min, check: positiveInt },
    { name: 'max', help: 'most minibatches', default: d.max, check: positiveInt },
  ];
}

export const batchSizeOption: MeasureOption = {
  name: 'batch-size', help: 'examples per drawn minibatch (0: the training batch size; needed for full-batch runs)', default: 0, check: nonNegativeInt,
};

export interface StopRule { eps: number; min: number; max: number }

export function stopRule(s: MeasureSettings): StopRule {
  const { eps, min, max } = s.options as unknown as StopRule;
  return { eps, min, max };
}

/** The size a measure draws: its own option, else the training batch size. */
export function drawSize(ctx: MeasureContext, s: MeasureSettings): number {
  const own = Number(s.options['batch-size'] ?? 0);
  return own > 0 ? own : ctx.batchSize;
}

/** `unsupported` of a measure over fresh minibatches: it needs data, and a size on full-batch runs. */
export function needsMinibatches(flag: string): NonNullable<MeasureDef['unsupported']> {
  return (c) => {
    if (!c.hasData) return 'needs a dataset: toy: and quadratic: objectives have no minibatches to draw';
    if (c.batchSize === 0 && !(Number(c.options['batch-size']) > 0)) return `on a full-batch run needs --${flag}-batch-size B (the minibatch size to draw)`;
    return null;
  };
}

/**
 * Enqueues ⟨x_j, y_j⟩ into slots slot + j and reads them with one read-back
 * (each draw's products come back together).
 */
export async function dots(backend: Backend, pairs: [Buf, Buf][], n: number, slot: number): Promise<Float64Array> {
  backend.clearScalars(slot, pairs.length);
  pairs.forEach(([x, y], j) => backend.reduce({ n, K: 1, x: { buf: x, off: 0, bs: 0 }, y: { buf: y, off: 0, bs: 0 }, slot: slot + j }));
  return backend.readScalars(slot, pairs.length);
}

/**
 * ā / b̄ over paired draws (a_i, b_i), with the delta-method standard error
 *   se(ā/b̄)² ≈ (s_aa − 2R·s_ab + R²·s_bb) / (n·b̄²),  R = ā/b̄,
 * s the sample (co)variances: the first-order expansion of ā/b̄ around the
 * true means, in which a and b are correlated (both grow with ‖g_B‖).
 */
export class RunningRatio {
  n = 0;
  private ma = 0;
  private mb = 0;
  private saa = 0;
  private sbb = 0;
  private sab = 0;
  add(a: number, b: number): void {
    this.n++;
    const da = a - this.ma, db = b - this.mb;
    this.ma += da / this.n;
    this.mb += db / this.n;
    // Welford's co-moment updates: old deviation × new deviation.
    this.saa += da * (a - this.ma);
    this.sbb += db * (b - this.mb);
    this.sab += da * (b - this.mb);
  }
  get ratio(): number { return this.n ? this.ma / this.mb : NaN; }
  get se(): number {
    if (this.n < 2) return NaN;
    const R = this.ratio, k = this.n - 1;
    const v = (this.saa / k - 2 * R * (this.sab / k) + R * R * (this.sbb / k)) / (this.n * this.mb * this.mb);
    return Math.sqrt(Math.max(0, v));
  }
}
