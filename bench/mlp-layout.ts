// The dense view of an MLP model that the peers (TF.js, NumPy) are built
// from: sizes, activation, and each Linear layer's W and b offsets in θ.
import type { ActName } from '../core/ts/backend/activations.js';
import { Dense } from '../core/ts/nn/layers/dense.js';
import { mlpModel, type MlpSpec } from '../core/ts/nn/mlp.js';
import type { Model } from '../core/ts/nn/model.js';

export interface MlpLayout {
  spec: MlpSpec;
  model: Model;
  layers: { index: number; inDim: number; outDim: number; wOff: number; bOff: number; act: ActName }[];
  P: number;
}

export function mlpLayout(spec: MlpSpec): MlpLayout {
  const model = mlpModel(spec);
  const dense = model.layers.filter((l): l is Dense => l instanceof Dense);
  const layers = dense.map((l, index) => ({
    index, inDim: l.inDim, outDim: l.outDim, wOff: l.w.off, bOff: l.bias ? l.bias.off : -1,
    act: index === dense.length - 1 ? 'identity' as const : spec.act,
  }));
  return { spec, model, layers, P: model.P };
}
