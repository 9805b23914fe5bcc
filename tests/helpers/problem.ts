// Small random MLP problems, uploaded to a backend and mirrored in float64
// for the reference.
import type { Backend, Buf, LossName } from '../../core/ts/backend/types.js';
import type { ActName } from '../../core/ts/backend/activations.js';
import { mlpModel } from '../../core/ts/nn/mlp.js';
import type { Model } from '../../core/ts/nn/model.js';
import { ModelObjective } from '../../core/ts/objective/model-objective.js';
import { uploadData } from '../../core/ts/objective/data.js';
import { hiddenPreacts64, type Mlp64 } from '../reference/mlp64.js';
import { rand, randArray } from './gpu.js';

export interface Problem {
  /** The MLP as a layer-list model. */
  layout: Model;
  m64: Mlp64;
  N: number;
  X: Float32Array;
  Y: Float32Array;
  loss: LossName;
  obj: ModelObjective;
  f64: (a: Float32Array) => Float64Array;
  dispose(): void;
}

export const f64 = (a: Float32Array): Float64Array => Float64Array.from(a);

export function makeProblem(backend: Backend, opts: {
  sizes: number[]; act: ActName; bias: boolean; loss: LossName; N: number; seed: number; K?: number; physicalBatch?: number;
}): Problem {
  const spec = { sizes: opts.sizes, act: opts.act, bias: opts.bias };
  const layout = mlpModel(spec);
  const d = opts.sizes[0], c = opts.sizes[opts.sizes.length - 1];
  const X = randArray(opts.N * d, opts.seed, 1.5);
  let Y: Float32Array;
  if (opts.loss === 'ce') {
    const r = rand(opts.seed + 1);
    Y = new Float32Array(opts.N * c);
    for (let i = 0; i < opts.N; i++) Y[i * c + Math.floor(r() * c)] = 1;
  } else {
    Y = randArray(opts.N * c, opts.seed + 1);
  }
  const data = uploadData(backend, X, Y, opts.N, d, c);
  const obj = new ModelObjective(backend, layout, data, { loss: opts.loss, K: opts.K ?? 1, physicalBatch: opts.physicalBatch });
  return {
    layout, m64: { sizes: opts.sizes, act: opts.act as Mlp64['act'], bias: opts.bias }, N: opts.N, X, Y, loss: opts.loss, obj, f64,
    dispose() { obj.dispose(); backend.release(data.X); backend.release(data.Y); },
  };
}

/**
 * θ drawn so no hidden pre-activation sits within `margin` of a kink of
 * relu/hardtanh/elu: there f32 and f64 may take different branches, and
 * finite differences straddle the kink.
 */
export function paramsAwayFromKinks(p: Problem, seed: number, scale = 0.8, margin = 1e-2): Float32Array {
  const kinks = p.m64.act === 'hardtanh' ? [-1, 1] : ['relu', 'elu'].includes(p.m64.act) ? [0] : [];
  for (let s = seed; s < seed + 200; s++) {
    const th = randArray(p.layout.P, s, scale);
    if (kinks.length === 0) return th;
    const pre = hiddenPreacts64(p.m64, f64(th), f64(p.X), p.N);
    if (pre.every((a) => kinks.every((k) => Math.abs(a - k) > margin))) return th;
  }
  throw new Error('no parameter draw away from kinks');
}

export function upload(backend: Backend, data: Float32Array, label: string): Buf {
  const b = backend.alloc(data.length, label);
  backend.write(b, data);
  return b;
}
