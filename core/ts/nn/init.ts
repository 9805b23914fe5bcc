// Initial parameters from the counter-based RNG, computed on the host in
// float64 and rounded to f32 once: the same seed gives the same θ bit for bit
// on every backend and host (V8's Math is the same in Node, Deno and Chrome,
// and uniform draws use only exact operations).
import { normals, signedUniforms } from '../rng/philox.js';
import type { Layer } from './layer.js';
import { Residual } from './layers/residual.js';
import type { Model } from './model.js';

export type InitScheme =
  /** PyTorch's nn.Linear / nn.Conv2d default (kaiming-uniform, a = √5): W, b ~ U(±1/√fan_in). */
  | { kind: 'pytorch' }
  /** W ~ N(0, σ_w²/fan_in), readout N(0, σ_out²/fan_in), b ~ N(0, σ_b²) (catapult experiments, Myrtle). */
  | { kind: 'normal'; sigmaW: number; sigmaOut?: number; sigmaB?: number }
  /**
   * He et al.'s N(0, 2/fan) for conv weights with zero conv biases, fan =
   * kh·kw·C_out (VGG's reference code) or C_in·kh·kw (kaiming_normal_, the
   * CIFAR ResNets); Linear weights PyTorch's default or N(0, 2/fan_in), Linear
   * biases PyTorch's default.
   */
  | { kind: 'he'; conv: 'fan_out' | 'fan_in'; linear: 'pytorch' | 'fan_in' };

/**
 * The init a run asks for by name: 'default' is the architecture's own (its
 * paper's, e.g. Myrtle's normal scheme, else PyTorch's), 'torch' PyTorch's
 * default everywhere, 'normal' the catapult notebook's N(0, 2/fan_in) hidden
 * and N(0, 1/fan_in) readout with zero biases (Kalra & Barkeshli's varw = 2,
 * varwL = 1, use_bias = False).
 */
export const INIT_SCHEMES = ['default', 'torch', 'normal'] as const;
export type InitSchemeName = typeof INIT_SCHEMES[number];

export const CATAPULT_NORMAL: InitScheme = { kind: 'normal', sigmaW: Math.SQRT2, sigmaOut: 1, sigmaB: 0 };

/** The scheme of `name` for an architecture whose own init is `archInit` (undefined: PyTorch's). */
export function namedInitScheme(name: InitSchemeName | undefined, archInit: InitScheme | undefined): InitScheme {
  if (name === 'torch') return { kind: 'pytorch' };
  if (name === 'normal') return CATAPULT_NORMAL;
  return archInit ?? { kind: 'pytorch' };
}

export interface InitOptions {
  seed: number;
  scheme?: InitScheme;
  /** Multiplies every initial parameter (init-scale experiments). */
  scale?: number;
  /** Model index within a batched sweep: models get independent streams. */
  model?: number;
}

/** RNG streams: one per (model, parameterised layer, tensor) so layouts can change without reshuffling others. */
function stream(model: number, layer: number, isBias: boolean): number {
  return ((model * 1024 + layer) * 2 + (isBias ? 1 : 0)) >>> 0;
}

export function initParams(m: Model, opts: InitOptions): Float32Array {
  const theta = new Float32Array(m.P);
  const scheme = opts.scheme ?? { kind: 'pytorch' };
  const scale = opts.scale ?? 1;
  const model = opts.model ?? 0;
  // A residual block's tensors belong to its inner layers, each initialised as a layer of its own.
  const leaves = (ls: Layer[]): Layer[] => ls.flatMap((l) => (l instanceof Residual ? leaves(l.inner.layers) : [l]));
  const withParams = leaves(m.layers).filter((l) => l.params.length > 0);
  withParams.forEach((l, ordinal) => {
    const [w, b] = l.params;
    // BatchNorm's affine starts as the identity, as PyTorch's (γ = 1, β = 0), under every scheme and scale.
    if (l.kind === 'batchnorm') { theta.fill(1, w.off, w.off + w.size); return; }
    // fan_in: the weight's size per output unit (in for Linear, Cin·kh·kw for Conv2d).
    const fanIn = w.size / w.shape[0];
    if (scheme.kind === 'he') {
      const conv = w.shape.length === 4, pytorchW = !conv && scheme.linear === 'pytorch';
      const fan = conv && scheme.conv === 'fan_out' ? w.shape[0] * w.shape[2] * w.shape[3] : fanIn;
      const draw = pytorchW ? signedUniforms(opts.seed, stream(model, ordinal, false), 0, w.size) : normals(opts.seed, stream(model, ordinal, false), 0, w.size);
      const sw = scale * (pytorchW ? 1 / Math.sqrt(fanIn) : Math.sqrt(2 / fan));
      for (let i = 0; i < w.size; i++) theta[w.off + i] = sw * draw[i];
      if (b && !conv) {
        const ub = signedUniforms(opts.seed, stream(model, ordinal, true), 0, b.size);
        for (let i = 0; i < b.size; i++) theta[b.off + i] = (scale / Math.sqrt(fanIn)) * ub[i];
      }
    } else if (scheme.kind === 'pytorch') {
      const bound = scale / Math.sqrt(fanIn);
      const u = signedUniforms(opts.seed, stream(model, ordinal, false), 0, w.size);
      for (let i = 0; i < w.size; i++) theta[w.off + i] = bound * u[i];
      if (b) {
        const ub = signedUniforms(opts.seed, stream(model, ordinal, true), 0, b.size);
        for (let i = 0; i < b.size; i++) theta[b.off + i] = bound * ub[i];
      }
    } else {
      const readout = ordinal === withParams.length - 1;
      const sw = readout ? (scheme.sigmaOut ?? scheme.sigmaW) : scheme.sigmaW;
      const std = (scale * sw) / Math.sqrt(fanIn);
      const z = normals(opts.seed, stream(model, ordinal, false), 0, w.size);
      for (let i = 0; i < w.size; i++) theta[w.off + i] = std * z[i];
      if (b) {
        const sb = scale * (scheme.sigmaB ?? 0);
        const zb = normals(opts.seed, stream(model, ordinal, true), 0, b.size);
        for (let i = 0; i < b.size; i++) theta[b.off + i] = sb * zb[i];
      }
    }
  });
  return theta;
}
