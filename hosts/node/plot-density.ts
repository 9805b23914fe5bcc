// The density tables of a run directory for `eoslab plot`: the last few
// density/step_<t>.csv files the --density measure wrote, oldest first.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DENSITY_STEPS, parseDensityCsv, type DensityTable } from '../../core/ts/plot/density.js';

export function readDensityTables(dir: string, last = DENSITY_STEPS): DensityTable[] {
  const sub = join(dir, 'density');
  if (!existsSync(sub)) return [];
  const steps = readdirSync(sub).map((f) => /^step_(\d+)\.csv$/.exec(f)).filter((m) => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b);
  return steps.slice(-last).map((t) => {
    const path = join(sub, `step_${t}.csv`);
    return parseDensityCsv(readFileSync(path, 'utf8'), t, path);
  });
}
