// The CNN benchmark's problem and eoslab's side of it (bench/cnn.ts):
// cnn-relu on synthetic CIFAR-shaped data, eoslab's full-batch gradient and
// exact HVP through the generic layer walk (ModelObjective) on any backend,
// the conv ops alone at the bench shapes (GFLOP/s), and the float64
// reference of the small-problem check.
//
//   cnn-relu = Conv2d(3,32,3,pad 1) → ReLU → MaxPool2d(2) → Conv2d(32,32,3,pad 1)
//              → ReLU → MaxPool2d(2) → Flatten → Linear(2048, 10)   (P = 30 634)
import type { Backend, ConvOp } from '../core/ts/backend/types.js';
import { modelFromArch } from '../core/ts/nn/arch.js';
import { initParams } from '../core/ts/nn/init.js';
import type { Model } from '../core/ts/nn/model.js';
import { Activation } from '../core/ts/nn/layers/activation.js';
import { Conv2d } from '../core/ts/nn/layers/conv2d.js';
import { Dense } from '../core/ts/nn/layers/dense.js';
import { Pool2d } from '../core/ts/nn/layers/pool2d.js';
import { cotangentsRead, ModelObjective } from '../core/ts/objective/model-objective.js';
import { uploadData } from '../core/ts/objective/data.js';
import { median, signedArray, syntheticData, timeReps, type GradHvpTimes } from './common.js';

export const CNN_ARCH = 'cnn-relu';
export const CNN_IN: [number, number, number] = [3, 32, 32];
export const CNN_D = 3 * 32 * 32;
export const CNN_CLASSES = 10;
/** Seeds: θ (initParams), v, the big data set and the small (checked) one. */
export const SEEDS = { theta: 1, v: 4242, data: 2024, small: 99 };

export function cnnModel(): Model {
  return modelFromArch(CNN_ARCH, CNN_IN, CNN_CLASSES);
}

/** θ = PyTorch's default init (seed 1), v with entries in ±0.02. */
export function cnnParams(m: Model): { theta: Float32Array; v: Float32Array } {
  return { theta: initParams(m, { seed: SEEDS.theta }), v: signedArray(m.P, SEEDS.v, 0.02) };
}

export function cnnData(N: number, seed = SEEDS.data): { X: Float32Array; Y: Float32Array } {
  return syntheticData(N, CNN_D, CNN_CLASSES, seed);
}

/** The model's Conv2d layers, with whether a cotangent is wanted at their input (plan.live). */
export function convLayers(m: Model): { layer: Conv2d; dinput: boolean }[] {
  return m.layers.flatMap((l, j) => (l instanceof Conv2d ? [{ layer: l, dinput: m.plan.live[j] }] : []));
}

/** Flops of one conv product per example: 2·Cout·Ho·Wo·Cin·kh·kw (forward, dinput and dweight alike). */
export function convFlopsPerExample(l: Conv2d): number {
  const s = l.shape;
  return 2 * s.Cout * s.Ho * s.Wo * s.Cin * s.kh * s.kw;
}

/** Conv flops of one full-batch gradient: forward + dweight of every conv, + dinput where the input is live. */
export function gradConvFlops(m: Model, N: number): number {
  return convLayers(m).reduce((s, { layer, dinput }) => s + N * convFlopsPerExample(layer) * (dinput ? 3 : 2), 0);
}

/**
 * Conv flops of one full-batch HVP as the engine's walk issues them
 * (objective/model-objective.ts encodeHvp, nn/layers/conv2d.ts): forward;
 * backward without a gradient output (dinput only where the input is live and
 * an R-backward reads the cotangent there: cotangentsRead, which skips it
 * behind ReLU and max pooling); tangent conv(x, V) (+ conv(rx, W)); R-backward
 * dweight rdy⋆x (+ dy⋆rx and the two dinputs convᵀ(rdy, W), convᵀ(dy, V)
 * where the input is live). For cnn-relu: 3 products for the data-input
 * conv and 7 for the second, against 2 and 3 in the gradient.
 */
export function hvpConvFlops(m: Model, N: number): number {
  const read = cotangentsRead(m, false);
  return m.layers.reduce((s, l, j) => {
    if (!(l instanceof Conv2d)) return s;
    const products = m.plan.live[j] ? 1 + (read[j] ? 1 : 0) + 2 + 4 : 1 + 1 + 1;
    return s + N * convFlopsPerExample(l) * products;
  }, 0);
}

// ---- eoslab: gradient and HVP -------------------------------------------------------

export interface CnnEoslab extends GradHvpTimes {
  N: number;
  physicalBatch: number;
  tuneMs: number;
  mem: { dataBytes: number; vectorBytes: number; scratchBytes: number; totalBytes: number };
}

/** Full-batch gradient and HVP of cnn-relu on `backend` (median of the reps after a warm-up each). */
export async function benchCnnEoslab(backend: Backend, m: Model, X: Float32Array, Y: Float32Array, N: number,
                                     theta: Float32Array, v: Float32Array,
                                     opts: { physicalBatch: number; reps: number; budgetMs: number; log: (s: string) => void }): Promise<CnnEoslab> {
  const data = uploadData(backend, X, Y, N, CNN_D, CNN_CLASSES);
  const obj = new ModelObjective(backend, m, data, { loss: 'mse', physicalBatch: opts.physicalBatch });
  const th = backend.alloc(m.P, 'θ'), vb = backend.alloc(m.P, 'v');
  const g = backend.alloc(m.P, 'gradient'), hv = backend.alloc(m.P, 'Hv');
  try {
    backend.write(th, theta);
    backend.write(vb, v);
    let t0 = performance.now();
    await obj.tune();
    const tuneMs = performance.now() - t0;
    let loss = NaN;
    opts.log(`    full-batch gradient (N = ${N}, physical batch ${obj.B})…`);
    const gr = await timeReps(async () => { loss = (await obj.grad(th, g)).loss[0]; }, opts.reps, opts.budgetMs);
    opts.log(`    full-batch HVP…`);
    const hr = await timeReps(() => obj.hvp(th, [vb], [hv]), opts.reps, opts.budgetMs);
    const dataBytes = (data.X.length + data.Y.length) * 4;
    const vectorBytes = 3 * m.P * 4; // θ, v, Hv
    const scratchBytes = obj.scratchBytes();
    return {
      N, physicalBatch: obj.B, tuneMs,
      gradTimes: gr.times, hvpTimes: hr.times, gradWarmMs: gr.warmMs, hvpWarmMs: hr.warmMs,
      gradMs: median(gr.times), hvpMs: median(hr.times), loss,
      mem: { dataBytes, vectorBytes, scratchBytes, totalBytes: dataBytes + vectorBytes + scratchBytes },
    };
  } finally {
    for (const b of [th, vb, g, hv, data.X, data.Y]) backend.release(b);
    obj.dispose();
  }
}

/**
 * ModelObjective.scratchBytes() for `physicalBatch` at two data sizes: the
 * scratch of an HVP must not grow with N (it is O(physical batch)).
 */
export function scratchAtSizes(backend: Backend, m: Model, physicalBatch: number, sizes: number[]): number[] {
  return sizes.map((N) => {
    const X = backend.alloc(N * CNN_D, 'X probe'), Y = backend.alloc(N * CNN_CLASSES, 'Y probe');
    const obj = new ModelObjective(backend, m, { X, Y, N, d: CNN_D, c: CNN_CLASSES }, { loss: 'mse', physicalBatch });
    const bytes = obj.scratchBytes();
    obj.dispose();
    backend.release(X);
    backend.release(Y);
    return bytes;
  });
}

/** Gradient and HVP of a small problem over two physical batches (the check against float64 and the peers). */
export async function cnnEoslabSmall(backend: Backend, m: Model, X: Float32Array, Y: Float32Array, N: number,
                                     theta: Float32Array, v: Float32Array): Promise<{ grad: Float32Array; hvp: Float32Array; loss: number }> {
  const data = uploadData(backend, X, Y, N, CNN_D, CNN_CLASSES);
  const obj = new ModelObjective(backend, m, data, { loss: 'mse', physicalBatch: Math.ceil(N / 2) });
  const th = backend.alloc(m.P, 'θ small'), vb = backend.alloc(m.P, 'v small');
  const g = backend.alloc(m.P, 'grad small'), hv = backend.alloc(m.P, 'Hv small');
  try {
    backend.write(th, theta);
    backend.write(vb, v);
    const la = await obj.grad(th, g);
    await obj.hvp(th, [vb], [hv]);
    return { grad: await backend.read(g), hvp: await backend.read(hv), loss: la.loss[0] };
  } finally {
    for (const b of [th, vb, g, hv, data.X, data.Y]) backend.release(b);
    obj.dispose();
  }
}

// ---- the conv ops alone ----------------------------------------------------------------

export interface ConvOpTiming {
  /** e.g. 'conv0 forward'. */
  name: string;
  mode: ConvOp['mode'];
  shape: string;
  B: number;
  flops: number;
  ms: number;
  gflops: number;
}

/**
 * Times the backend's conv products of the gradient at the bench shapes, one
 * physical batch each (forward and dweight of every conv, dinput where the
 * walk asks for it), through `backend.conv` + `flush()`: the op as the
 * objective issues it, threads and scratch included. Median of `reps` after
 * a warm-up; GFLOP/s = 2·B·Cout·Ho·Wo·Cin·kh·kw / time.
 */
export async function benchConvOps(backend: Backend, m: Model, B: number, opts: { reps: number; budgetMs: number }): Promise<ConvOpTiming[]> {
  const out: ConvOpTiming[] = [];
  for (const { layer, dinput } of convLayers(m)) {
    const s = layer.shape;
    const nx = B * s.Cin * s.H * s.W, ny = B * s.Cout * s.Ho * s.Wo, nw = s.Cout * s.Cin * s.kh * s.kw;
    const x = backend.alloc(nx, 'conv x'), y = backend.alloc(ny, 'conv y'), w = backend.alloc(nw, 'conv w'), b = backend.alloc(s.Cout, 'conv b');
    try {
      backend.write(x, signedArray(nx, 11));
      backend.write(y, signedArray(ny, 12));
      backend.write(w, signedArray(nw, 13, 0.1));
      backend.write(b, signedArray(s.Cout, 14, 0.1));
      const modes: ConvOp['mode'][] = dinput ? ['forward', 'dinput', 'dweight'] : ['forward', 'dweight'];
      for (const mode of modes) {
        const op: ConvOp = {
          mode, shape: s, B, K: 1, x: { buf: x, off: 0, bs: 0 }, w: { buf: w, off: 0, bs: 0 }, y: { buf: y, off: 0, bs: 0 },
          bias: mode === 'dinput' ? undefined : { buf: b, off: 0, bs: 0 },
        };
        await backend.tuneConv?.([op]);
        const r = await timeReps(async () => { backend.conv(op); await backend.flush(); }, opts.reps, opts.budgetMs);
        const ms = median(r.times), flops = B * convFlopsPerExample(layer);
        out.push({
          name: `conv${layer.index} ${mode}`, mode, B, flops, ms, gflops: flops / (ms * 1e6),
          shape: `${s.Cin}×${s.H}×${s.W} → ${s.Cout}×${s.Ho}×${s.Wo}, ${s.kh}×${s.kw}`,
        });
      }
    } finally {
      for (const buf of [x, y, w, b]) backend.release(buf);
    }
  }
  return out;
}

// ---- float64 reference ---------------------------------------------------------------

/** What the bench needs of tests/reference/layers64.ts (written alongside; loaded only if present). */
interface Layers64Module {
  grad64(m: unknown, theta: Float64Array, X: Float64Array, Y: Float64Array, N: number, loss: 'mse'): Float64Array;
  hvp64(m: unknown, theta: Float64Array, X: Float64Array, Y: Float64Array, N: number, loss: 'mse', v: Float64Array): Float64Array;
  kinks64?(m: unknown, theta: Float64Array, X: Float64Array, N: number): { margin: number };
}

/** The layers64 description (Model64) of an engine model. */
export function model64Of(m: Model): { layers: unknown[]; inShape: number[] } {
  const layers = m.layers.map((l) => {
    if (l instanceof Conv2d) return { kind: 'conv', shape: l.shape, bias: l.bias !== null };
    if (l instanceof Dense) return { kind: 'dense', in: l.inDim, out: l.outDim, bias: l.bias !== null };
    if (l instanceof Activation) return { kind: 'act', act: l.act };
    if (l instanceof Pool2d) return { kind: l.kind, shape: l.shape };
    if (l.kind === 'flatten') return { kind: 'flatten' };
    throw new Error(`model64Of: no float64 description of layer kind ${l.kind}`);
  });
  return { layers, inShape: m.inShape };
}

export interface Reference64 {
  grad: Float64Array;
  hvp: Float64Array;
  /** Smallest |pre-activation| (or max-pool gap) over the small problem, when layers64 reports it. */
  kinkMargin: number | null;
}

/**
 * Gradient and HVP of the small problem in float64 from
 * tests/reference/layers64.ts, or null (with the reason) when that module is
 * not there or fails: the bench then compares the peers with each other.
 */
export async function reference64(m: Model, X: Float32Array, Y: Float32Array, N: number, theta: Float32Array, v: Float32Array):
  Promise<{ ref: Reference64 | null; why: string }> {
  let mod: Layers64Module;
  const path = '../tests/reference/layers64.js';
  try {
    mod = (await import(path)) as Layers64Module;
  } catch (e) {
    return { ref: null, why: `tests/reference/layers64.ts not loadable (${(e as Error).message.split('\n')[0]})` };
  }
  try {
    const m64 = model64Of(m), th = Float64Array.from(theta), X64 = Float64Array.from(X), Y64 = Float64Array.from(Y);
    const grad = mod.grad64(m64, th, X64, Y64, N, 'mse');
    const hvp = mod.hvp64(m64, th, X64, Y64, N, 'mse', Float64Array.from(v));
    let kinkMargin: number | null = null;
    try { kinkMargin = mod.kinks64?.(m64, th, X64, N).margin ?? null; } catch { /* optional */ }
    return { ref: { grad, hvp, kinkMargin }, why: 'tests/reference/layers64.ts' };
  } catch (e) {
    return { ref: null, why: `layers64 failed: ${(e as Error).message.split('\n')[0]}` };
  }
}
