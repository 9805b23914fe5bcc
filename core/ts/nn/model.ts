// A model is a list of layers over shaped activations, and θ is the
// concatenation of their parameter tensors in list order (each weight, then
// its bias): exactly the state dict of the equivalent PyTorch nn.Sequential,
// whose module i is layer i. buildModel() turns a plain layer description
// (what architecture ids parse to) into layers with shapes and θ offsets, and
// plans the walk: which boundaries carry cotangents and tangents, and which
// activations fuse into a neighbouring dense layer's matmul epilogue or into
// the convolution and max pool around them.
import type { ActName } from '../backend/activations.js';
import { sizeOf, type Layer, type ParamTensor, type Shape } from './layer.js';
import { Activation } from './layers/activation.js';
import { BatchNorm } from './layers/batchnorm.js';
import { Conv2d, type ConvSpec } from './layers/conv2d.js';
import { Dense } from './layers/dense.js';
import { Flatten } from './layers/flatten.js';
import { Pool2d, type PoolSpec } from './layers/pool2d.js';
import { Residual, type Shortcut } from './layers/residual.js';

/**
 * A layer as architecture ids describe it (shapes are inferred). `name` is
 * its PyTorch module name (default: its index in the list); a residual
 * block's inner layers are named under the block's name ('layer1.0.conv1').
 */
export type LayerSpec = { name?: string } & (
  | { kind: 'flatten' }
  | { kind: 'dense'; out: number; bias: boolean }
  | ({ kind: 'conv' } & ConvSpec)
  | { kind: 'act'; act: ActName }
  | { kind: 'batchnorm' }
  | ({ kind: 'maxpool' | 'avgpool' } & PoolSpec)
  | { kind: 'residual'; inner: LayerSpec[]; shortcut: Shortcut });

export interface ModelPlan {
  /**
   * live[i]: boundary i (the input of layer i; boundary n is the output)
   * depends on θ, so it carries cotangents and tangents. Before the first
   * layer with parameters only the data flows.
   */
  live: boolean[];
  /** aliasOf[i]: boundary i shares boundary aliasOf[i]'s buffers (after a Flatten or a convFused ReLU). */
  aliasOf: number[];
  /** Activation layers computed in the preceding dense layer's epilogue (forward, tangent). */
  fusedForward: Set<number>;
  /** Activation layers whose backward the following dense layer computes. */
  fusedBackward: Set<number>;
  /**
   * ReLU layers between a conv and a max pool that vanish from the walk: the
   * conv's forward applies the ReLU in its epilogue (writing σ(a), never a),
   * and the pool's tangent and backward (reluMask) multiply by the ReLU's
   * derivative [σ(a) > 0] on the way, so the full-size activation is one
   * buffer (the pool's input aliases the conv's output) and no pass runs over
   * it for the ReLU. The numbers are those of the unfused walk, bit for bit.
   */
  convFused: Set<number>;
  /**
   * ReLU layers after a conv and not before a max pool (Myrtle's conv → ReLU
   * → conv): the conv's forward applies them in its epilogue and the layer's
   * input and output share one x buffer holding σ(a). Their backward,
   * tangent and R-backward still run, reading σ(a) where they read a: a
   * ReLU's derivative [a > 0] is [σ(a) > 0], so the values are unchanged.
   */
  convAct: Set<number>;
  /**
   * Max pools (2×2, stride 2, no padding) after a fused ReLU whose forward the
   * conv computes too: it writes only the pooled output and route codes (the
   * window's argmax and the ReLU's derivative there), and the pool's tangent
   * and backward read the routes instead of the full-size activation.
   */
  poolFused: Set<number>;
  /**
   * Fused pools whose conv needs no input cotangent (the first conv): the
   * conv's weight gradient rebuilds its output cotangent from the pooled one
   * and the routes, so the pool's backward never writes it at full size.
   */
  unpooled: Set<number>;
}

export interface Model {
  layers: Layer[];
  inShape: Shape;
  outShape: Shape;
  /** Parameters per model. */
  P: number;
  /** Every parameter tensor in θ order. */
  params: ParamTensor[];
  plan: ModelPlan;
}

export function buildModel(specs: LayerSpec[], inShape: Shape): Model {
  if (inShape.length === 0 || inShape.some((s) => !Number.isInteger(s) || s <= 0)) throw new Error(`input shape must be positive integers, got [${inShape}]`);
  const { layers, outShape, end } = buildList(specs, inShape, 0, '');
  if (layers.length === 0) throw new Error('a model needs at least one layer');
  if (outShape.length !== 1) throw new Error(`the model ends in shape [${outShape}]: end it with Flatten and a Linear layer`);
  return { layers, inShape, outShape, P: end, params: layers.flatMap((l) => l.params), plan: planWalk(layers) };
}

/** Layers of `specs` from θ offset `off`, their parameters named under `prefix`. */
function buildList(specs: LayerSpec[], inShape: Shape, off: number, prefix: string): { layers: Layer[]; outShape: Shape; end: number } {
  const layers: Layer[] = [];
  let shape = inShape;
  specs.forEach((s, i) => {
    let l: Layer;
    const name = s.name ?? String(i);
    switch (s.kind) {
      case 'flatten': l = new Flatten(i, shape); break;
      case 'dense': l = new Dense(i, shape, s.out, s.bias, off); break;
      case 'conv': l = new Conv2d(i, shape, s, off); break;
      case 'act': l = new Activation(i, shape, s.act); break;
      case 'batchnorm': l = new BatchNorm(i, shape, off); break;
      case 'maxpool': case 'avgpool': l = new Pool2d(i, shape, s.kind === 'maxpool' ? 'max' : 'avg', s); break;
      case 'residual': {
        if (s.inner.length === 0) throw new Error(`layer ${prefix}${name} (residual block) has no layers`);
        const inner = buildList(s.inner, shape, off, `${prefix}${name}.`);
        l = new Residual(i, shape, inner, s.shortcut);
        break;
      }
    }
    // Layers name their tensors by index ('3.weight'); PyTorch's name replaces the index.
    if (s.kind !== 'residual' && (prefix || s.name !== undefined)) for (const p of l.params) p.name = `${prefix}${name}${p.name.slice(String(i).length)}`;
    for (const p of l.params) off += p.size;
    layers.push(l);
    shape = l.outShape;
  });
  return { layers, outShape: shape, end: off };
}

export interface PlanOptions {
  /**
   * Fuse ReLU and max pools into the convolutions around them (default), only
   * the ReLU ('relu'), or nothing (false): the last two only to measure what
   * fusion buys (bench/cnn-profile.ts).
   */
  convFusion?: boolean | 'relu';
}

export function planWalk(layers: Layer[], opts: PlanOptions = {}): ModelPlan {
  const n = layers.length;
  const live = [false];
  const aliasOf = [0];
  const convFused = new Set<number>();
  for (let i = 0; i < n; i++) {
    live.push(live[i] || layers[i].params.length > 0);
    // Only ReLU: its derivative is a function of its output, so the pre-activation need not be kept.
    const l = layers[i];
    if (opts.convFusion !== false && l instanceof Activation && l.act === 'relu' && i > 0 && layers[i - 1].kind === 'conv' && layers[i + 1]?.kind === 'maxpool') {
      convFused.add(i);
    }
    aliasOf.push(l.kind === 'flatten' || convFused.has(i) ? aliasOf[i] : i + 1);
  }
  const poolFused = new Set<number>(), unpooled = new Set<number>();
  for (const i of convFused) {
    const p = layers[i + 1] as Pool2d, s = p.shape;
    if (opts.convFusion === 'relu' || s.kh !== 2 || s.kw !== 2 || s.stride !== 2 || s.pad !== 0) continue;
    poolFused.add(i + 1);
    if (!live[i - 1]) unpooled.add(i + 1);
  }
  const convAct = new Set<number>();
  layers.forEach((l, i) => {
    if (opts.convFusion !== false && l instanceof Activation && l.act === 'relu' && layers[i - 1]?.kind === 'conv' && !convFused.has(i)) convAct.add(i);
  });
  const fusedForward = new Set<number>(), fusedBackward = new Set<number>();
  layers.forEach((l, i) => {
    if (l.kind !== 'act' || convFused.has(i) || convAct.has(i)) return;
    if (i > 0 && layers[i - 1].kind === 'dense') fusedForward.add(i);
    // The dense layer after can write σ′(a) ⊙ dy W only when a cotangent is wanted at a.
    if (i + 1 < n && layers[i + 1].kind === 'dense' && live[i]) fusedBackward.add(i);
  });
  return { live, aliasOf, fusedForward, fusedBackward, convFused, convAct, poolFused, unpooled };
}

/** Elements per example at boundary i. */
export function boundarySize(m: Model, i: number): number {
  return sizeOf(i === 0 ? m.inShape : m.layers[i - 1].outShape);
}

/**
 * The PyTorch nn.Sequential this model equals, one module per line. A model
 * with residual blocks or named modules (resnet*, vgg*) prints its layers the
 * same way, but its state dict's keys are those of the named modules
 * (model.params), as the reference's own module classes write them.
 */
export function torchSequential(m: Model): string {
  return `nn.Sequential(\n${m.layers.map((l) => `  ${l.torch},  # ${l.index}`).join('\n')}\n)`;
}
