// θ ⇄ the state_dict of the equivalent PyTorch nn.Sequential (layer i of
// the model is module i; see nn/model.ts torchSequential): every parameter
// tensor is a view of θ with PyTorch's name, shape and layout (Linear W
// [out, in], Conv2d W [Cout, Cin, kh, kw], NCHW flatten order), so export
// is a copy and import its inverse. An MLP is nn.Sequential(nn.Flatten(),
// nn.Linear(d, h1), act(), …): keys "1.weight", "1.bias", "3.weight", …;
// cnn-relu: "0.weight" [32, C, 3, 3], "0.bias", "3.weight", "3.bias",
// "7.weight", "7.bias".
import type { Model } from '../nn/model.js';
import type { TensorEntry } from './safetensors.js';

export function stateDictFromTheta(model: Model, theta: Float32Array): TensorEntry[] {
  if (theta.length !== model.P) throw new Error(`θ has ${theta.length} values, the model has ${model.P} parameters`);
  return model.params.map((p) => ({ name: p.name, dtype: 'F32' as const, shape: p.shape, data: theta.slice(p.off, p.off + p.size) }));
}

export function thetaFromStateDict(model: Model, tensors: TensorEntry[]): Float32Array {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const theta = new Float32Array(model.P);
  for (const p of model.params) {
    const t = byName.get(p.name);
    if (!t) throw new Error(`state dict lacks '${p.name}' (shape [${p.shape}]): was it saved from a different architecture?`);
    if (t.dtype !== 'F32') throw new Error(`'${p.name}' is ${t.dtype}; eoslab stores F32 (convert with tensor.float())`);
    if (t.shape.join() !== p.shape.join()) throw new Error(`'${p.name}' has shape [${t.shape}], the model expects [${p.shape}]`);
    theta.set(t.data as Float32Array, p.off);
  }
  const expected = new Set(model.params.map((p) => p.name));
  const extra = tensors.map((t) => t.name).filter((n) => !expected.has(n));
  if (extra.length) throw new Error(`state dict has keys this model lacks: ${extra.join(', ')} (architecture mismatch?)`);
  return theta;
}
