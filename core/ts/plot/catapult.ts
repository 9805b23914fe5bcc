// The catapult phase diagram (Kalra & Barkeshli's figure): the critical
// constants c_loss, c_sharp and c_max against 1/width, both axes log₂ as in
// the notebook, with the lazy-regime boundary c = 2 marked.
import type { TopLevelSpec } from 'vega-lite';
import type { Figure } from './specs.js';
import type { ArchPoint, Phase } from '../run/catapult.js';

const CONSTANTS = ['c_loss', 'c_sharp', 'c_max'] as const;

export function phaseFigure(entries: { point: ArchPoint; phase: Phase }[], subtitle: string): Figure {
  const values = entries.flatMap(({ point, phase }) => point.width === null ? [] : CONSTANTS.flatMap((k) => {
    const c = phase[k];
    return c === null ? [] : [{ constant: k, c, inv_width: 1 / point.width!, depth: `depth ${point.depth}`, arch: point.arch }];
  }));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: 'early-training phase diagram: c = η·λ₀ against 1/width', subtitle },
    width: 480, height: 300,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: { filled: false, size: 64 } },
        encoding: {
          x: { field: 'c', type: 'quantitative', title: 'c = η λ₀ (log₂)', scale: { type: 'log', base: 2 } },
          y: { field: 'inv_width', type: 'quantitative', title: '1 / width (log₂)', scale: { type: 'log', base: 2 } },
          color: { field: 'constant', type: 'nominal', title: 'critical constant', sort: [...CONSTANTS] },
          strokeDash: { field: 'depth', type: 'nominal', title: 'depth' },
          shape: { field: 'constant', type: 'nominal', sort: [...CONSTANTS] },
          order: { field: 'inv_width', type: 'quantitative' },
          tooltip: [{ field: 'arch' }, { field: 'constant' }, { field: 'c', type: 'quantitative' }],
        },
      },
      { data: { values: [{ c: 2 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { x: { field: 'c', type: 'quantitative' } } },
    ],
  };
  return { name: 'phase', title: 'Catapult phase diagram', spec };
}
