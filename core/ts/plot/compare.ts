// The figure of `eoslab compare`: the distance between two runs' iterates
// at matching times (Cohen et al.'s GD-against-flow figure), on a log axis
// since it spans orders of magnitude once the runs part.
import type { TopLevelSpec } from 'vega-lite';
import type { Figure } from './specs.js';

export interface CompareRow { time: number; distance: number; relative: number }

export function compareFigure(rows: CompareRow[], a: string, b: string): Figure {
  const values = rows.filter((r) => r.distance > 0 && Number.isFinite(r.distance) && Number.isFinite(r.time)).map((r) => ({ time: r.time, distance: r.distance }));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: 'distance between the iterates at matching times', subtitle: `${a} against ${b} (zero distances are left out: log scale)` },
    width: 520, height: 260,
    data: { values },
    mark: { type: 'line', point: values.length <= 60 },
    encoding: {
      x: { field: 'time', type: 'quantitative', title: 'time (Σ η over steps; flow: t)' },
      y: { field: 'distance', type: 'quantitative', title: '‖θ_A(t) − θ_B(t)‖ (log scale)', scale: { type: 'log' } },
    },
  };
  return { name: 'compare', title: 'Distance between runs', spec };
}
