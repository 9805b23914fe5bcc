// The engine's layer-list models mirrored as the float64 reference's plain
// descriptions (tests/reference/layers64.ts), and small random problems on
// them: data, parameters away from non-smooth points, the device objective.
import type { Backend, LossName } from '../../core/ts/backend/types.js';
import type { Model } from '../../core/ts/nn/model.js';
import { Activation } from '../../core/ts/nn/layers/activation.js';
import { BatchNorm } from '../../core/ts/nn/layers/batchnorm.js';
import { Conv2d } from '../../core/ts/nn/layers/conv2d.js';
import { Dense } from '../../core/ts/nn/layers/dense.js';
import { Pool2d } from '../../core/ts/nn/layers/pool2d.js';
import { Residual } from '../../core/ts/nn/layers/residual.js';
import type { Layer } from '../../core/ts/nn/layer.js';
import { initParams, type InitScheme } from '../../core/ts/nn/init.js';
import { ModelObjective } from '../../core/ts/objective/model-objective.js';
import { uploadData } from '../../core/ts/objective/data.js';
import { kinks64, type Act, type Layer64, type Model64 } from '../reference/layers64.js';
import { randomData } from './problem.js';

export function toModel64(m: Model): Model64 {
  return { layers: toLayers64(m.layers), inShape: m.inShape };
}

function toLayers64(layers: Layer[]): Layer64[] {
  return layers.map((l): Layer64 => {
    if (l instanceof Residual) return { kind: 'residual', inner: toLayers64(l.inner.layers), shortcut: l.shortcut, inShape: l.inShape };
    if (l instanceof Dense) return { kind: 'dense', in: l.inDim, out: l.outDim, bias: l.bias !== null };
    if (l instanceof Conv2d) return { kind: 'conv', shape: l.shape, bias: l.bias !== null };
    if (l instanceof Pool2d) return { kind: l.kind, shape: l.shape };
    if (l instanceof Activation) return { kind: 'act', act: l.act as Act };
    if (l instanceof BatchNorm) return { kind: 'bn', C: l.C, S: l.S };
    if (l.kind === 'flatten') return { kind: 'flatten' };
    throw new Error(`no float64 mirror for layer kind ${l.kind}`);
  });
}

export interface ModelProblem {
  model: Model;
  m64: Model64;
  N: number;
  X: Float32Array;
  Y: Float32Array;
  loss: LossName;
  obj: ModelObjective;
  dispose(): void;
}

export function makeModelProblem(backend: Backend, model: Model, opts: { loss: LossName; N: number; seed: number; K?: number; physicalBatch?: number }): ModelProblem {
  const d = model.inShape.reduce((a, b) => a * b, 1), c = model.outShape[0];
  const { X, Y } = randomData(opts.N, d, c, opts.loss, opts.seed);
  const data = uploadData(backend, X, Y, opts.N, d, c);
  const obj = new ModelObjective(backend, model, data, { loss: opts.loss, K: opts.K ?? 1, physicalBatch: opts.physicalBatch });
  return {
    model, m64: toModel64(model), N: opts.N, X, Y, loss: opts.loss, obj,
    dispose() { obj.dispose(); backend.release(data.X); backend.release(data.Y); },
  };
}

/**
 * θ from the engine's init (the architecture's scheme, seed s) such that no activation
 * input sits within `margin` of a kink and no max-pool window is within
 * `margin` of a tie: there f32 and f64 may take different branches. The f32
 * pre-activations are within ~1e-6 of the float64 ones here, so 2e-5 leaves a
 * 20× margin while thousands of units still find a draw within a few seeds.
 */
export function paramsAwayFromKinks64(p: ModelProblem, seed: number, scheme?: InitScheme, margin = 2e-5): Float32Array {
  const X = Float64Array.from(p.X);
  for (let s = seed; s < seed + 200; s++) {
    const th = initParams(p.model, { seed: s, scheme });
    if (kinks64(p.m64, Float64Array.from(th), X, p.N).margin > margin) return th;
  }
  throw new Error('no parameter draw away from kinks');
}
