// MLPs as layer lists: Flatten → [Linear → act]… → Linear, the PyTorch
// nn.Sequential the reference code builds (module 1 + 2l is Linear layer l).
import type { ActName } from '../backend/activations.js';
import { buildModel, type LayerSpec, type Model } from './model.js';

export interface MlpSpec {
  /** [input, hidden…, output] */
  sizes: number[];
  act: ActName;
  bias: boolean;
}

export function mlpModel(spec: MlpSpec): Model {
  if (spec.sizes.length < 2) throw new Error('an MLP needs at least an input and an output size');
  for (const s of spec.sizes) {
    if (!Number.isInteger(s) || s <= 0) throw new Error(`MLP sizes must be positive integers, got [${spec.sizes.join(', ')}]`);
  }
  const specs: LayerSpec[] = [{ kind: 'flatten' }];
  spec.sizes.slice(1).forEach((out, l) => {
    specs.push({ kind: 'dense', out, bias: spec.bias });
    if (l < spec.sizes.length - 2) specs.push({ kind: 'act', act: spec.act });
  });
  return buildModel(specs, [spec.sizes[0]]);
}
