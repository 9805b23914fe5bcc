// Initial parameters from the counter-based RNG, computed on the host in
// float64 and rounded to f32 once: the same seed gives the same θ bit for bit
// on every backend and host (V8's Math is the same in Node, Deno and Chrome,
// and uniform draws use only exact operations).
import { normals, signedUniforms } from '../rng/philox.js';
import type { MlpLayout } from './mlp.js';

export type InitScheme =
  /** PyTorch nn.Linear default: W, b ~ U(±1/√fan_in). */
  | { kind: 'pytorch' }
  /** W ~ N(0, σ_w²/fan_in), readout N(0, σ_out²/fan_in), b ~ N(0, σ_b²) (catapult experiments). */
  | { kind: 'normal'; sigmaW: number; sigmaOut?: number; sigmaB?: number };

export interface InitOptions {
  seed: number;
  scheme?: InitScheme;
  /** Multiplies every initial parameter (init-scale experiments). */
  scale?: number;
  /** Model index within a batched sweep: models get independent streams. */
  model?: number;
}

/** RNG streams: one per (model, layer, tensor) so layouts can change without reshuffling others. */
function stream(model: number, layer: number, isBias: boolean): number {
  return ((model * 1024 + layer) * 2 + (isBias ? 1 : 0)) >>> 0;
}

export function initParams(layout: MlpLayout, opts: InitOptions): Float32Array {
  const theta = new Float32Array(layout.P);
  const scheme = opts.scheme ?? { kind: 'pytorch' };
  const scale = opts.scale ?? 1;
  const model = opts.model ?? 0;
  const last = layout.layers.length - 1;
  for (const l of layout.layers) {
    const nW = l.inDim * l.outDim;
    if (scheme.kind === 'pytorch') {
      const bound = scale / Math.sqrt(l.inDim);
      const w = signedUniforms(opts.seed, stream(model, l.index, false), 0, nW);
      for (let i = 0; i < nW; i++) theta[l.wOff + i] = bound * w[i];
      if (l.bOff >= 0) {
        const b = signedUniforms(opts.seed, stream(model, l.index, true), 0, l.outDim);
        for (let i = 0; i < l.outDim; i++) theta[l.bOff + i] = bound * b[i];
      }
    } else {
      const sw = l.index === last ? (scheme.sigmaOut ?? scheme.sigmaW) : scheme.sigmaW;
      const std = (scale * sw) / Math.sqrt(l.inDim);
      const w = normals(opts.seed, stream(model, l.index, false), 0, nW);
      for (let i = 0; i < nW; i++) theta[l.wOff + i] = std * w[i];
      if (l.bOff >= 0) {
        const sb = scale * (scheme.sigmaB ?? 0);
        const b = normals(opts.seed, stream(model, l.index, true), 0, l.outDim);
        for (let i = 0; i < l.outDim; i++) theta[l.bOff + i] = sb * b[i];
      }
    }
  }
  return theta;
}
