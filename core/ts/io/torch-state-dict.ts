// θ ⇄ the state_dict of the equivalent PyTorch model:
//   nn.Sequential(nn.Flatten(), nn.Linear(d, h1), act(), nn.Linear(h1, h2), act(), …, nn.Linear(hk, c))
// Flatten sits at index 0, so Linear layer l (0-based) is module 1 + 2l:
// keys "1.weight" [h1, d], "1.bias" [h1], "3.weight", … as F32, exactly the
// layout of θ's views, so export is a copy and import its inverse.
import type { MlpLayout } from '../nn/mlp.js';
import type { TensorEntry } from './safetensors.js';

export function linearModuleIndex(layer: number): number {
  return 1 + 2 * layer;
}

export function stateDictFromTheta(layout: MlpLayout, theta: Float32Array): TensorEntry[] {
  if (theta.length !== layout.P) throw new Error(`θ has ${theta.length} values, the model has ${layout.P} parameters`);
  const out: TensorEntry[] = [];
  for (const l of layout.layers) {
    const i = linearModuleIndex(l.index);
    out.push({ name: `${i}.weight`, dtype: 'F32', shape: [l.outDim, l.inDim], data: theta.slice(l.wOff, l.wOff + l.inDim * l.outDim) });
    if (l.bOff >= 0) out.push({ name: `${i}.bias`, dtype: 'F32', shape: [l.outDim], data: theta.slice(l.bOff, l.bOff + l.outDim) });
  }
  return out;
}

export function thetaFromStateDict(layout: MlpLayout, tensors: TensorEntry[]): Float32Array {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const theta = new Float32Array(layout.P);
  const expected = new Set<string>();
  const take = (name: string, shape: number[], off: number) => {
    expected.add(name);
    const t = byName.get(name);
    if (!t) throw new Error(`state dict lacks '${name}' (shape [${shape}]): was it saved from a different architecture?`);
    if (t.dtype !== 'F32') throw new Error(`'${name}' is ${t.dtype}; eoslab stores F32 (convert with tensor.float())`);
    if (t.shape.join() !== shape.join()) throw new Error(`'${name}' has shape [${t.shape}], the model expects [${shape}]`);
    theta.set(t.data as Float32Array, off);
  };
  for (const l of layout.layers) {
    const i = linearModuleIndex(l.index);
    take(`${i}.weight`, [l.outDim, l.inDim], l.wOff);
    if (l.bOff >= 0) take(`${i}.bias`, [l.outDim], l.bOff);
  }
  const extra = tensors.map((t) => t.name).filter((n) => !expected.has(n));
  if (extra.length) throw new Error(`state dict has keys this model lacks: ${extra.join(', ')} (architecture mismatch?)`);
  return theta;
}
