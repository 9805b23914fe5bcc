// Small random MLP problems, uploaded to a backend and mirrored in float64
// for the reference.
import * as assert from 'uvu/assert';
import type { Backend, Buf, LossName } from '../../core/ts/backend/types.js';
import type { Objective } from '../../core/ts/objective/types.js';
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

/** N random inputs of d features (±1.5) and targets: one-hot classes for CE, N(0,1)-ish values for MSE. */
export function randomData(N: number, d: number, c: number, loss: LossName, seed: number): { X: Float32Array; Y: Float32Array } {
  const X = randArray(N * d, seed, 1.5);
  if (loss !== 'ce') return { X, Y: randArray(N * c, seed + 1) };
  const r = rand(seed + 1), Y = new Float32Array(N * c);
  for (let i = 0; i < N; i++) Y[i * c + Math.floor(r() * c)] = 1;
  return { X, Y };
}

export function makeProblem(backend: Backend, opts: {
  sizes: number[]; act: ActName; bias: boolean; loss: LossName; N: number; seed: number; K?: number; physicalBatch?: number;
}): Problem {
  const spec = { sizes: opts.sizes, act: opts.act, bias: opts.bias };
  const layout = mlpModel(spec);
  const d = opts.sizes[0], c = opts.sizes[opts.sizes.length - 1];
  const { X, Y } = randomData(opts.N, d, c, opts.loss, opts.seed);
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

/**
 * K models batched in `batched` (K·P vectors) against each run alone in
 * `single`: asserts identical bits (same kernels, same summation order per
 * model) for the loss, gradient and HVP, and returns each model's gradient
 * and HVP for reference checks.
 */
export async function batchedEqualsAlone(be: Backend, batched: Objective, single: Objective, thetas: Float32Array[], vs: Float32Array[]):
    Promise<{ grad: Float32Array; hvp: Float32Array }[]> {
  const K = thetas.length, P = single.P;
  const cat = (xs: Float32Array[]) => { const o = new Float32Array(K * P); xs.forEach((x, k) => o.set(x, k * P)); return o; };
  const tb = upload(be, cat(thetas), 'θ[K]'), vb = upload(be, cat(vs), 'v[K]');
  const g = be.alloc(K * P, 'g[K]'), hv = be.alloc(K * P, 'hv[K]'), g1 = be.alloc(P, 'g'), hv1 = be.alloc(P, 'hv');
  const lk = await batched.grad(tb, g);
  await batched.hvp(tb, [vb], [hv]);
  const G = await be.read(g), HV = await be.read(hv);
  const out: { grad: Float32Array; hvp: Float32Array }[] = [];
  for (let k = 0; k < K; k++) {
    const t1 = upload(be, thetas[k], 'θ'), v1 = upload(be, vs[k], 'v');
    const l1 = await single.grad(t1, g1);
    await single.hvp(t1, [v1], [hv1]);
    const grad = await be.read(g1), hvp = await be.read(hv1);
    assert.equal(lk.loss[k], l1.loss[0], `model ${k} loss`);
    assert.equal(Array.from(G.subarray(k * P, (k + 1) * P)), Array.from(grad), `model ${k} gradient`);
    assert.equal(Array.from(HV.subarray(k * P, (k + 1) * P)), Array.from(hvp), `model ${k} hvp`);
    out.push({ grad, hvp });
    be.release(t1); be.release(v1);
  }
  for (const b of [tb, vb, g, hv, g1, hv1]) be.release(b);
  return out;
}
