// Every measure the run loop knows, in the order their columns appear in
// metrics.csv. A new measure is a module exporting a MeasureDef, listed here.
import type { MeasureDef } from './suite.js';
import { trace } from './trace.js';
import { batchSharpness } from './batch-sharpness.js';
import { stepSharpness } from './step-sharpness.js';
import { gni } from './gni.js';
import { batchGrad } from './batch-grad.js';
import { density } from './density.js';
import { gaussNewton } from './gauss-newton.js';
import { fisher } from './fisher.js';
import { gradProjection } from './grad-projection.js';
import { lossChange } from './loss-change.js';
import { distance } from './distance.js';
import { layerSharpness } from './layer-sharpness.js';

export const MEASURES: MeasureDef[] = [trace, batchSharpness, stepSharpness, gni, batchGrad, gradProjection, lossChange, distance, density, gaussNewton, fisher, layerSharpness];

export function measureNamed(name: string): MeasureDef {
  const m = MEASURES.find((x) => x.name === name);
  if (!m) throw new Error(`unknown measure '${name}': use one of ${MEASURES.map((x) => x.name).join(', ')}`);
  return m;
}
