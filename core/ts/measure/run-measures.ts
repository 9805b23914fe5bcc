// Runs the measures a configuration asks for at a step: those whose rule
// fires, in registry order, each with fresh scratch released afterwards.
// A measure returning a column it did not declare is a bug, reported as one.
import type { Buf } from '../backend/types.js';
import { MEASURES } from './registry.js';
import { fires } from './schedule.js';
import type { MeasureContext, MeasureSettings, MeasureValues } from './suite.js';

export async function runMeasures(makeCtx: (scratch: Buf[]) => MeasureContext, cfg: { measures?: Record<string, MeasureSettings>; neigs: number }): Promise<MeasureValues> {
  const out: MeasureValues = {};
  for (const def of MEASURES) {
    const s = cfg.measures?.[def.name];
    if (!s) continue;
    const scratch: Buf[] = [];
    const ctx = makeCtx(scratch);
    if (!fires(s.freq, ctx.step)) continue;
    try {
      const values = await def.run(ctx, s);
      const allowed = new Set(def.columns(s, { neigs: cfg.neigs, blocks: ctx.blocks.map((b) => b.name) }));
      for (const [k, v] of Object.entries(values)) {
        if (!allowed.has(k)) throw new Error(`measure ${def.name} returned '${k}', which is not one of its columns`);
        out[k] = v;
      }
    } finally {
      scratch.forEach((b) => ctx.backend.release(b));
    }
  }
  return out;
}
