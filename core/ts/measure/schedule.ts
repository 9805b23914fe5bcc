// When a measure fires: every F steps, with optional slow-downs after given
// steps (the reference's frequency table), so long runs stay cheap:
//   "10"               every 10 steps
//   "10,1000:100"      every 10 steps, every 100 from step 1000 on
// Step 0 always fires when F > 0; F = 0 never fires.

export interface FreqRule {
  every: number;
  /** From `step` on, fire every `every` steps (sorted by step). */
  after: { step: number; every: number }[];
}

export function parseFreq(s: string, flag: string): FreqRule {
  const parts = s.split(',').map((p) => p.trim());
  const intOf = (t: string) => (/^\d+$/.test(t) && Number.isSafeInteger(Number(t)) ? Number(t) : NaN);
  const every = intOf(parts[0]);
  if (!Number.isFinite(every)) throw new Error(`${flag} takes F or F,STEP:F2,… with non-negative integers, got '${s}'`);
  const after = parts.slice(1).map((p) => {
    const m = /^(\d+):(\d+)$/.exec(p);
    const step = m ? intOf(m[1]) : NaN, e = m ? intOf(m[2]) : NaN;
    if (!Number.isFinite(step) || !Number.isFinite(e)) throw new Error(`${flag} takes F or F,STEP:F2,… with non-negative integers, got '${s}'`);
    return { step, every: e };
  }).sort((a, b) => a.step - b.step);
  return { every, after };
}

/** The rule as the user writes it (metadata, error messages). */
export function formatFreq(r: FreqRule): string {
  return [String(r.every), ...r.after.map((a) => `${a.step}:${a.every}`)].join(',');
}

export function fires(r: FreqRule, step: number): boolean {
  let every = r.every;
  for (const a of r.after) if (step >= a.step) every = a.every;
  return every > 0 && step % every === 0;
}
