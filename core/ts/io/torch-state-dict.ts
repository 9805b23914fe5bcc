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
// not θ: the loss, in training mode, never reads them, and eoslab does not
// track them. Export writes PyTorch's initial values (0, 1, 0) after each
// BatchNorm's weight and bias, so load_state_dict(strict=True) accepts the
// file; import checks their shapes and ignores their values.
import type { Layer } from '../nn/layer.js';
import { BatchNorm, type BufferTensor } from '../nn/layers/batchnorm.js';
import type { Model } from '../nn/model.js';
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

/**
 * Safetensors metadata for a checkpoint of `model`: with BatchNorm, a line
 * saying the running statistics are PyTorch's initial values, not tracked,
 * so no reader takes them for the trained model's (eval() mode needs them
 * recomputed, e.g. by forward passes in train() mode over the data).
 */
export function bufferMetadata(model: Model): Record<string, string> {
  return modelBuffers(model).length
    ? { bn_running_stats: 'not tracked: running_mean/running_var/num_batches_tracked are the initial 0/1/0; the loss uses batch statistics (train mode)' }
    : {};
}

const bufferEntry = (b: BufferTensor): TensorEntry => {
  const n = b.shape.reduce((a, x) => a * x, 1);
  return b.dtype === 'I64'
    ? { name: b.name, dtype: 'I64', shape: b.shape, data: new BigInt64Array(n).fill(BigInt(b.init)) }
    : { name: b.name, dtype: 'F32', shape: b.shape, data: new Float32Array(n).fill(b.init) };
};

export function stateDictFromTheta(model: Model, theta: Float32Array): TensorEntry[] {
  if (theta.length !== model.P) throw new Error(`θ has ${theta.length} values, the model has ${model.P} parameters`);
  return leaves(model.layers).flatMap((l) => [
    ...l.params.map((p): TensorEntry => ({ name: p.name, dtype: 'F32', shape: p.shape, data: theta.slice(p.off, p.off + p.size) })),
    ...(l instanceof BatchNorm ? l.buffers.map(bufferEntry) : []),
  ]);
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
