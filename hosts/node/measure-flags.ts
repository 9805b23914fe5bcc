// The measurement suite's flags, generated from the registry so a new
// measure needs no CLI code: `--<flag>` switches it on, `--<flag>-freq
// F[,STEP:F2…]` sets its rule (default: the --eig-freq value, else 10), and
// `--<flag>-<option> V` each of its options.
import { InvalidArgumentError, type Command } from 'commander';
import { MEASURES } from '../../core/ts/measure/registry.js';
import { parseFreq } from '../../core/ts/measure/schedule.js';
import type { MeasureSettings } from '../../core/ts/measure/suite.js';
import { DECIMAL } from './decimal-flag.js';

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function addMeasureOptions(cmd: Command): Command {
  for (const m of MEASURES) {
    cmd.option(`--${m.flag}`, m.help);
    cmd.option(`--${m.flag}-freq <F>`, `measure ${m.name} every F steps (F,STEP:F2,…: slower from STEP on; default: --eig-freq, else 10)`, (s: string) => {
      try { return parseFreq(s, `--${m.flag}-freq`); } catch (e) { throw new InvalidArgumentError((e as Error).message); }
    });
    for (const o of m.options) {
      cmd.option(`--${m.flag}-${o.name} <v>`, `${m.name}: ${o.help} (default ${o.default})`, (s: string) => {
        const v = o.kind === 'string' ? s : DECIMAL.test(s.trim()) ? Number(s) : NaN;
        const bad = Number.isNaN(v) ? (o.kind === 'string' ? 'a value' : 'a number') : o.check(v);
        if (bad) throw new InvalidArgumentError(`--${m.flag}-${o.name} must be ${bad}, got '${s}'`);
        return v;
      });
    }
  }
  return cmd;
}

/** RunConfig.measures from parsed options: the measures switched on (or given a rule), options filled with defaults. */
export function measuresFrom(o: Record<string, unknown>, eigFreq: number): Record<string, MeasureSettings> | undefined {
  const out: Record<string, MeasureSettings> = {};
  for (const m of MEASURES) {
    const key = camel(m.flag);
    const freq = o[`${key}Freq`] as MeasureSettings['freq'] | undefined;
    const given = m.options.filter((x) => o[camel(`${m.flag}-${x.name}`)] !== undefined);
    if (!o[key] && !freq) {
      if (given.length) throw new Error(`--${m.flag}-${given[0].name} needs --${m.flag} (switch the measure on)`);
      continue;
    }
    const options: Record<string, number | string> = {};
    for (const x of m.options) options[x.name] = (o[camel(`${m.flag}-${x.name}`)] as number | string | undefined) ?? x.default;
    out[m.name] = { freq: freq ?? { every: eigFreq > 0 ? eigFreq : 10, after: [] }, options };
  }
  return Object.keys(out).length ? out : undefined;
}
