// The spectral-density figure: the latest density tables a run's --density
// measure wrote (density/step_<t>.csv: grid, density[, density_se]) as
// curves on a log density axis, where the outliers that drive the edge of
// stability show beside the bulk near zero (Ghorbani et al. 2019, Fig. 1).
// One run: its last few measurements, coloured by step; several runs: each
// run's latest, coloured by run.
import type { TopLevelSpec } from 'vega-lite';
import { describeRun, runLabels, type PlotRun } from './runs.js';
import type { Figure } from './specs.js';

export interface DensityTable {
  step: number;
  grid: number[];
  density: number[];
}

/** Steps of one run's density tables drawn together. */
export const DENSITY_STEPS = 4;
/** Densities below this fraction of a curve's peak are left off: the log axis would spend its decades on Gaussian tails. */
const FLOOR = 1e-7;
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

/** A density table's CSV (as RunDir.writeTable writes it); `name` (the file) goes in the one-line error. */
export function parseDensityCsv(text: string, step: number, name: string): DensityTable {
  const [head, ...lines] = text.trim().split(/\r?\n/);
  const cols = (head ?? '').split(',');
  const gi = cols.indexOf('grid'), di = cols.indexOf('density');
  if (gi < 0 || di < 0) throw new Error(`${name}: no grid and density columns: not a density table eoslab wrote (rerun with --density)`);
  const grid: number[] = [], density: number[] = [];
  lines.forEach((l, i) => {
    const c = l.split(',');
    const x = Number(c[gi]), y = Number(c[di]);
    if (c[gi] === '' || c[di] === '' || Number.isNaN(x) || Number.isNaN(y)) throw new Error(`${name}: line ${i + 2} is not two numbers: restore the file or rerun the run with --force`);
    grid.push(x);
    density.push(y);
  });
  return { step, grid, density };
}

/** The density figure of these runs (tables[i]: run i's tables, oldest first); null when none has one. */
export function densityFigure(runs: PlotRun[], tables: DensityTable[][]): Figure | null {
  if (!tables.some((t) => t.length)) return null;
  const overlay = runs.length > 1;
  const { labels, title: runTitle } = runLabels(runs);
  const data: { series: string; x: number; value: number }[] = [];
  const series: string[] = [];
  tables.forEach((ts, i) => {
    const shown = overlay ? ts.slice(-1) : ts.slice(-DENSITY_STEPS);
    for (const t of shown) {
      const name = overlay ? labels[i] : `step ${t.step}`;
      const peak = Math.max(...t.density.filter(Number.isFinite));
      t.grid.forEach((x, j) => {
        const v = t.density[j];
        if (Number.isFinite(x) && Number.isFinite(v) && v > FLOOR * peak) data.push({ series: name, x, value: v });
      });
      series.push(name);
    }
  });
  const steps = [...new Set(tables.flatMap((ts) => ts.slice(overlay ? -1 : -DENSITY_STEPS).map((t) => t.step)))];
  const subtitle = overlay ? `latest table of each run (steps ${steps.join(', ')})` : describeRun(runs[0]);
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Hessian spectral density (stochastic Lanczos quadrature)', subtitle },
    width: 520, height: 260,
    data: { values: data },
    mark: { type: 'line', strokeWidth: 1.2 },
    params: [{ name: 'zoom', select: 'interval', bind: 'scales' }],
    encoding: {
      x: { field: 'x', type: 'quantitative', title: 'eigenvalue λ', scale: { zero: false } },
      y: { field: 'value', type: 'quantitative', title: 'density (log scale)', scale: { type: 'log' }, axis: { tickCount: 6 } },
      color: { field: 'series', type: 'nominal', title: overlay ? runTitle : null, scale: { domain: series, range: PALETTE }, legend: { labelLimit: 320, symbolType: 'stroke' } },
      tooltip: [{ field: 'series' }, { field: 'x', title: 'λ', format: '.6g' }, { field: 'value', title: 'density', format: '.4g' }],
    },
    config: { legend: { orient: 'right' }, title: { anchor: 'start', subtitleColor: '#555' } },
  };
  return { name: 'density', title: 'Spectral density', spec: spec as unknown as TopLevelSpec };
}
