// eoslab's own objective on the device: full-batch gradient and exact HVP of
// fc-tanh on synthetic CIFAR-shaped data, timed end to end (encode the whole
// full-batch op, then await the read-back of the loss scalars), plus the
// device memory the HVP needs.
import type { Backend } from '../core/ts/backend/types.js';
import type { WebGPUBackend } from '../core/ts/backend/webgpu/backend.js';
import { initParams } from '../core/ts/nn/init.js';
import { ModelObjective } from '../core/ts/objective/model-objective.js';
import { uploadData } from '../core/ts/objective/data.js';
import { mlpLayout, type MlpLayout } from './mlp-layout.js';
import { MiB, median, signedArray, syntheticData, timeReps, type GradHvpTimes } from './common.js';

export const ARCH = 'fc-tanh';
export const D_IN = 3072;
export const CLASSES = 10;

export function benchLayout(): MlpLayout {
  // fc-tanh: Flatten → [Linear(3072, 200) → Tanh] × 2 → Linear(200, 10).
  return mlpLayout({ sizes: [D_IN, 200, 200, CLASSES], act: 'tanh', bias: true });
}

/** θ (PyTorch default init, seed 1) and a direction v with entries in ±1/√fan-in-ish scale. */
export function benchParams(layout: MlpLayout): { theta: Float32Array; v: Float32Array } {
  return { theta: initParams(layout.model, { seed: 1 }), v: signedArray(layout.P, 4242, 0.02) };
}

export interface EoslabSmall {
  grad: Float32Array;
  hvp: Float32Array;
  loss: number;
}

/**
 * Gradient and HVP of a small problem (N examples, the bench architecture),
 * computed over two physical batches: the reference TF.js is checked against.
 */
export async function eoslabSmall(backend: Backend, layout: MlpLayout, X: Float32Array, Y: Float32Array, N: number,
                                  theta: Float32Array, v: Float32Array): Promise<EoslabSmall> {
  const data = uploadData(backend, X, Y, N, D_IN, CLASSES);
  const obj = new ModelObjective(backend, layout.model, data, { loss: 'mse', physicalBatch: Math.ceil(N / 2) });
  const th = backend.alloc(layout.P, 'θ small'), vb = backend.alloc(layout.P, 'v small');
  const g = backend.alloc(layout.P, 'grad small'), hv = backend.alloc(layout.P, 'Hv small');
  backend.write(th, theta);
  backend.write(vb, v);
  const la = await obj.grad(th, g);
  await obj.hvp(th, [vb], [hv]);
  const out = { grad: await backend.read(g), hvp: await backend.read(hv), loss: la.loss[0] };
  for (const b of [th, vb, g, hv, data.X, data.Y]) backend.release(b);
  obj.dispose();
  return out;
}

export interface EoslabResult extends GradHvpTimes {
  N: number;
  physicalBatch: number;
  tuneMs: number;
  choices: Map<string, string>;
  timings: Map<string, Record<string, number>>;
  mem: { dataBytes: number; vectorBytes: number; scratchBytes: number; totalBytes: number };
}

export async function benchEoslab(backend: Backend, opts: {
  N: number; physicalBatch: number; reps: number; budgetMs: number; log: (s: string) => void;
}): Promise<EoslabResult> {
  const layout = benchLayout();
  const { X, Y } = syntheticData(opts.N, D_IN, CLASSES, 2024);
  const data = uploadData(backend, X, Y, opts.N, D_IN, CLASSES);
  const obj = new ModelObjective(backend, layout.model, data, { loss: 'mse', physicalBatch: opts.physicalBatch });
  const { theta, v } = benchParams(layout);
  const th = backend.alloc(layout.P, 'θ'), vb = backend.alloc(layout.P, 'v');
  const g = backend.alloc(layout.P, 'gradient'), hv = backend.alloc(layout.P, 'Hv');
  backend.write(th, theta);
  backend.write(vb, v);

  if (backend.tune) opts.log(`  autotuning matmuls for physical batch ${obj.B}…`);
  let t0 = performance.now();
  await obj.tune();
  const tuneMs = performance.now() - t0;

  let loss = NaN;
  opts.log('  timing the full-batch gradient…');
  const gr = await timeReps(async () => { loss = (await obj.grad(th, g)).loss[0]; }, opts.reps, opts.budgetMs);
  opts.log('  timing the full-batch HVP…');
  const hr = await timeReps(() => obj.hvp(th, [vb], [hv]), opts.reps, opts.budgetMs);

  // Device memory of one HVP call: the resident data, θ, v, the output, and
  // the objective's scratch (O(physical batch × width)).
  const dataBytes = (data.X.length + data.Y.length) * 4;
  const vectorBytes = 3 * layout.P * 4;
  const scratchBytes = obj.scratchBytes();
  const result: EoslabResult = {
    N: opts.N, physicalBatch: obj.B, tuneMs,
    ...kernelChoices(backend),
    gradTimes: gr.times, hvpTimes: hr.times, gradWarmMs: gr.warmMs, hvpWarmMs: hr.warmMs,
    gradMs: median(gr.times), hvpMs: median(hr.times), loss,
    mem: { dataBytes, vectorBytes, scratchBytes, totalBytes: dataBytes + vectorBytes + scratchBytes },
  };
  for (const b of [th, vb, g, hv, data.X, data.Y]) backend.release(b);
  obj.dispose();
  return result;
}

/** WebGPU's autotuned matmul variants (the Wasm core has one blocked kernel). */
function kernelChoices(backend: Backend): Pick<EoslabResult, 'choices' | 'timings'> {
  const tuner = backend.kind === 'webgpu' ? (backend as WebGPUBackend).tuner : null;
  return { choices: new Map(tuner?.choices ?? []), timings: new Map(tuner?.timings ?? []) };
}

export const toMiB = (bytes: number): number => bytes / MiB;
