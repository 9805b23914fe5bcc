// θ ⇄ the state_dict of the equivalent PyTorch nn.Sequential (layer i of
// the model is module i; see nn/model.ts torchSequential): every parameter
// tensor is a view of θ with PyTorch's name, shape and layout (Linear W
// [out, in], Conv2d W [Cout, Cin, kh, kw], NCHW flatten order), so export
// is a copy and import its inverse. An MLP is nn.Sequential(nn.Flatten(),
// nn.Linear(d, h1), act(), …): keys "1.weight", "1.bias", "3.weight", …;
// cnn-relu: "0.weight" [32, C, 3, 3], "0.bias", "3.weight", "3.bias",
// "7.weight", "7.bias".
//
// BatchNorm's buffers (running_mean, running_var, num_batches_tracked) are
// not θ: the loss, in training mode, never reads them. Export writes them after
// each BatchNorm's weight and bias — the tracked values a train run gives
// (nn/bn-running.ts), else PyTorch's initial 0, 1, 0 — so
// load_state_dict(strict=True) accepts the file; import checks their shapes,
// and runningFromStateDict reads their values back.
import type { Layer } from '../nn/layer.js';
import { BatchNorm, type BufferTensor } from '../nn/layers/batchnorm.js';
import type { Model } from '../nn/model.js';
import type { RunningValues } from '../nn/bn-running.js';
import type { TensorEntry } from './safetensors.js';

/** Every layer with tensors, residual blocks opened, in θ order. */
function leaves(layers: Layer[]): Layer[] {
  return layers.flatMap((l) => {
    const inner = (l as { inner?: { layers: Layer[] } }).inner;
    return inner ? leaves(inner.layers) : [l];
  });
}

/** The model's PyTorch buffers (BatchNorm running statistics). */
export function modelBuffers(model: Model): BufferTensor[] {
  return leaves(model.layers).flatMap((l) => (l instanceof BatchNorm ? l.buffers : []));
}

const bufferEntry = (b: BufferTensor, running?: RunningValues): TensorEntry => {
  const n = b.shape.reduce((a, x) => a * x, 1);
  const tracked = running?.tensors[b.name];
  return b.dtype === 'I64'
    ? { name: b.name, dtype: 'I64', shape: b.shape, data: new BigInt64Array(n).fill(BigInt(running ? running.numBatchesTracked : b.init)) }
    : { name: b.name, dtype: 'F32', shape: b.shape, data: tracked ? Float32Array.from(tracked) : new Float32Array(n).fill(b.init) };
};

/** `running`: the tracked BatchNorm statistics (absent: PyTorch's initial values). */
export function stateDictFromTheta(model: Model, theta: Float32Array, running?: RunningValues): TensorEntry[] {
  if (theta.length !== model.P) throw new Error(`θ has ${theta.length} values, the model has ${model.P} parameters`);
  return leaves(model.layers).flatMap((l) => [
    ...l.params.map((p): TensorEntry => ({ name: p.name, dtype: 'F32', shape: p.shape, data: theta.slice(p.off, p.off + p.size) })),
    ...(l instanceof BatchNorm ? l.buffers.map((b) => bufferEntry(b, running)) : []),
  ]);
}

/** The BatchNorm running statistics of a state dict (undefined for a model without BatchNorm). */
export function runningFromStateDict(model: Model, tensors: TensorEntry[]): RunningValues | undefined {
  const bufs = modelBuffers(model);
  if (!bufs.length) return undefined;
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const out: RunningValues = { tensors: {}, numBatchesTracked: 0 };
  for (const b of bufs) {
    const t = byName.get(b.name);
    if (!t) throw new Error(`state dict lacks the BatchNorm buffer '${b.name}'; save the module's full state_dict()`);
    if (b.dtype === 'I64') out.numBatchesTracked = Number((t.data as BigInt64Array)[0] ?? 0);
    else if (t.dtype !== 'F32') throw new Error(`'${b.name}' is ${t.dtype}; eoslab stores F32 (convert with tensor.float())`);
    else out.tensors[b.name] = t.data as Float32Array;
  }
  return out;
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
  const buffers = new Map(modelBuffers(model).map((b) => [b.name, b]));
  for (const t of tensors) {
    const b = buffers.get(t.name);
    if (b && t.shape.join() !== b.shape.join()) throw new Error(`'${t.name}' has shape [${t.shape}], the model expects [${b.shape}]`);
  }
  const expected = new Set([...model.params.map((p) => p.name), ...buffers.keys()]);
  const extra = tensors.map((t) => t.name).filter((n) => !expected.has(n));
  if (extra.length) throw new Error(`state dict has keys this model lacks: ${extra.join(', ')} (architecture mismatch?)`);
  return theta;
}
