// TensorFlow.js peers of eoslab's gradient and HVP: the model, loss, gradient,
// HVP and timing code shared by the WebGPU backend (here, on the same Dawn
// instance — hence the same adapter — as eoslab, in the same process) and the
// Wasm backend (bench/tfjs-wasm.ts).
//
// HVP = double backward: tf.grads of θ ↦ ⟨∇L(θ), v⟩. TF.js's built-in Tanh
// gradient computes dy·(1−y²) from a *clone* of its output y that the engine
// records on the tape before the Tanh node itself; in the second backward pass
// that clone's gradient arrives after the Tanh node was already processed, so
// the σ″ term is lost (the built-in variant's error is printed for reference).
// `tanhDifferentiable` fixes that with tf.customGrad, expressing the gradient
// with ops on (a saved clone of) the input x, all recorded in the right order.
//
// Loading: the Node entry of @tensorflow/tfjs-core (a CJS bundle) registers no
// gradients; they live only in its ES-module build (register_all_gradients),
// which imports extension-less paths Node cannot load. So, as a browser app
// would, we bundle the ES modules of tfjs-core (with all gradients),
// tfjs-backend-wasm and tfjs-backend-webgpu once with esbuild into
// .cache/bench/tfjs.mjs and import that: one tfjs-core instance for both
// backends. The webgpu backend registers itself only if navigator.gpu exists
// when its module runs, so the bundle evaluates that module lazily
// (`registerWebgpu`), after `loadTfjs` has installed navigator.gpu.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MlpLayout } from './mlp-layout.js';
import { median, timeReps, type GradHvpTimes } from './common.js';

export type TF = typeof import('@tensorflow/tfjs-core');
type Tensor = import('@tensorflow/tfjs-core').Tensor;

/** What the bundle exports: tfjs-core, the wasm backend's module, and a trigger for the webgpu backend's. */
export interface TfjsBundle {
  tf: TF;
  wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  /** Evaluates tfjs-backend-webgpu (once), which registers 'webgpu' if navigator.gpu exists by then. */
  registerWebgpu(): Promise<unknown>;
}

let bundleModule: Promise<TfjsBundle> | null = null;

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE = join(ROOT, '.cache/bench/tfjs.mjs');
const PACKAGES = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm'];

/** Bundles TF.js (core + all gradients + wasm and webgpu backends) unless the bundle is newer than the installed packages. */
async function tfjsBundle(): Promise<string> {
  const pkgs = PACKAGES.map((p) => join(ROOT, 'node_modules', p, 'package.json'));
  for (const p of pkgs) if (!existsSync(p)) throw new Error(`${p} missing: run \`npm install\` (TF.js is a devDependency)`);
  const newest = Math.max(...pkgs.map((p) => statSync(p).mtimeMs), statSync(fileURLToPath(import.meta.url)).mtimeMs);
  if (!existsSync(BUNDLE) || statSync(BUNDLE).mtimeMs < newest) {
    mkdirSync(dirname(BUNDLE), { recursive: true });
    const { build } = await import('esbuild');
    await build({
      stdin: {
        contents: [
          "import '@tensorflow/tfjs-core/dist/register_all_gradients';",
          "export * as tf from '@tensorflow/tfjs-core';",
          "export * as wasm from '@tensorflow/tfjs-backend-wasm';",
          // esbuild inlines a dynamic import of a bundled module as a lazily evaluated one.
          "export const registerWebgpu = () => import('@tensorflow/tfjs-backend-webgpu');",
        ].join('\n'),
        resolveDir: ROOT,
        loader: 'js',
      },
      bundle: true, format: 'esm', platform: 'node', mainFields: ['module', 'main'],
      // tfjs-core's Node platform require()s 'util' at run time; the wasm backend's
      // Emscripten loader require()s 'fs' and 'path' and reads __dirname.
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; import { dirname as __dn } from 'node:path'; " +
          "import { fileURLToPath as __fu } from 'node:url'; " +
          'const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);',
      },
      outfile: BUNDLE, logLevel: 'error',
    });
  }
  return BUNDLE;
}

/** The bundled TF.js (built on first use), imported once per process. */
export function importTfjs(): Promise<TfjsBundle> {
  return (bundleModule ??= tfjsBundle().then((b) => import(pathToFileURL(b).href) as Promise<TfjsBundle>));
}

/** Runs `fn` with console.log/warn silenced (tfjs-core in Node suggests installing tfjs-node; Emscripten chats). */
export async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn, log = console.log;
  console.warn = console.log = () => {};
  try {
    return await fn();
  } finally {
    console.warn = warn;
    console.log = log;
  }
}

/** Loads TF.js core and its WebGPU backend on the given WebGPU instance; returns tf and the adapter description. */
export async function loadTfjs(gpu: GPU): Promise<{ tf: TF; device: GPUDevice; description: string }> {
  // tfjs-backend-webgpu checks navigator.gpu when it is imported and asks it for an adapter.
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  Object.defineProperty(g.navigator!, 'gpu', { value: gpu, configurable: true, writable: true });
  const { tf, registerWebgpu } = await importTfjs();
  await quietly(async () => {
    await registerWebgpu();
    if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js could not initialise its webgpu backend');
    await tf.ready();
  });
  const backend = tf.backend() as unknown as { device: GPUDevice; adapterInfo?: { description?: string; vendor?: string; architecture?: string } };
  const info = backend.adapterInfo ?? {};
  return { tf, device: backend.device, description: [info.description, info.vendor, info.architecture].filter(Boolean).join(' / ') };
}

/** Removes TF.js's webgpu backend and destroys its device (Dawn busy-polls a core until then). */
export function unloadTfjs(tf: TF, device: GPUDevice): void {
  tf.disposeVariables();
  tf.removeBackend('webgpu');
  device.destroy();
}

export interface TfModel {
  params: Tensor[];
  loss: (...ps: Tensor[]) => Tensor;
  dispose(): void;
}

/**
 * tanh whose gradient is itself differentiable (see the header): the saved
 * tensor is a clone of the *input* x, whose tape node follows x's producer,
 * so the second backward pass reaches x through it.
 */
function tanhDifferentiable(tf: TF): (x: Tensor) => Tensor {
  return tf.customGrad(((x: Tensor, save: (ts: Tensor[]) => void) => {
    save([x]);
    return {
      value: tf.tanh(x),
      gradFunc: (dy: Tensor, saved: Tensor[]) => tf.mul(dy, tf.sub(1, tf.square(tf.tanh(saved[0])))),
    };
  }) as never) as unknown as (x: Tensor) => Tensor;
}

/** fc-tanh with MSE loss L = (1/N) Σ ½‖f − y‖², θ split into PyTorch-layout W [out, in] and b. */
export function buildModel(tf: TF, layout: MlpLayout, X: Float32Array, Y: Float32Array, N: number,
                           theta: Float32Array, opts: { fixTanh: boolean }): TfModel {
  const d = layout.spec.sizes[0], c = layout.spec.sizes[layout.spec.sizes.length - 1];
  const Xt = tf.tensor2d(X, [N, d]), Yt = tf.tensor2d(Y, [N, c]);
  const params: Tensor[] = [];
  for (const l of layout.layers) {
    params.push(tf.tensor2d(theta.subarray(l.wOff, l.wOff + l.outDim * l.inDim), [l.outDim, l.inDim]));
    if (l.bOff >= 0) params.push(tf.tensor1d(theta.subarray(l.bOff, l.bOff + l.outDim)));
  }
  const act = opts.fixTanh ? tanhDifferentiable(tf) : (x: Tensor) => tf.tanh(x);
  const bias = layout.spec.bias;
  const last = layout.layers.length - 1;
  const loss = (...ps: Tensor[]): Tensor => {
    let h: Tensor = Xt;
    let p = 0;
    for (const l of layout.layers) {
      let a = tf.matMul(h, ps[p++], false, true);
      if (bias) a = tf.add(a, ps[p++]);
      h = l.index < last ? act(a) : a;
    }
    return tf.mul(tf.sum(tf.square(tf.sub(h, Yt))), 0.5 / N);
  };
  return { params, loss, dispose: () => tf.dispose([Xt, Yt, ...params]) };
}

/** Value and gradient (flat, θ order). */
export function tfGrad(tf: TF, m: TfModel): { value: Tensor; grads: Tensor[] } {
  return tf.valueAndGrads(m.loss)(m.params);
}

/** ⟨∇L(θ), v⟩ and its gradient, Hv (double backward). */
export function tfHvp(tf: TF, m: TfModel, vs: Tensor[]): { value: Tensor; grads: Tensor[] } {
  return tf.valueAndGrads((...ps: Tensor[]) => {
    const gs = tf.grads(m.loss)(ps);
    return tf.addN(gs.map((gi, i) => tf.sum(tf.mul(gi, vs[i]))));
  })(m.params);
}

export function splitLike(tf: TF, m: TfModel, flat: Float32Array): Tensor[] {
  let off = 0;
  return m.params.map((p) => {
    const t = tf.tensor(flat.subarray(off, off + p.size), p.shape);
    off += p.size;
    return t;
  });
}

export async function flatten(ts: Tensor[]): Promise<Float32Array> {
  const parts = await Promise.all(ts.map((t) => t.data() as Promise<Float32Array>));
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

/** Gradient and HVP of a small problem, for checking against eoslab. */
export async function tfSmall(tf: TF, layout: MlpLayout, X: Float32Array, Y: Float32Array, N: number,
                              theta: Float32Array, v: Float32Array, fixTanh: boolean): Promise<{ grad: Float32Array; hvp: Float32Array; loss: number }> {
  const m = buildModel(tf, layout, X, Y, N, theta, { fixTanh });
  const vs = splitLike(tf, m, v);
  const gr = tfGrad(tf, m);
  const hv = tfHvp(tf, m, vs);
  const out = { grad: await flatten(gr.grads), hvp: await flatten(hv.grads), loss: (await gr.value.data())[0] };
  tf.dispose([gr.value, ...gr.grads, hv.value, ...hv.grads, ...vs]);
  m.dispose();
  return out;
}

export interface TfBench extends GradHvpTimes {
  leakedTensors: number;
}

/**
 * Full-batch timings on tf's current backend: each rep runs the whole op and
 * awaits the read-back of its scalar value, then `sync` (if given).
 */
export async function benchTfGradHvp(tf: TF, layout: MlpLayout, X: Float32Array, Y: Float32Array, N: number,
                                     theta: Float32Array, v: Float32Array,
                                     opts: { reps: number; budgetMs: number; log: (s: string) => void; label: string; sync?: () => Promise<unknown> }): Promise<TfBench> {
  const m = buildModel(tf, layout, X, Y, N, theta, { fixTanh: true });
  const vs = splitLike(tf, m, v);
  const before = tf.memory().numTensors;
  let loss = NaN;
  const run = async (op: () => { value: Tensor; grads: Tensor[] }, keep?: (x: number) => void) => {
    const r = op();
    const val = (await r.value.data())[0];
    await opts.sync?.();
    keep?.(val);
    tf.dispose([r.value, ...r.grads]);
  };
  opts.log(`  timing the ${opts.label} full-batch gradient…`);
  const gr = await timeReps(() => run(() => tfGrad(tf, m), (x) => { loss = x; }), opts.reps, opts.budgetMs);
  opts.log(`  timing the ${opts.label} full-batch HVP (double backward)…`);
  const hr = await timeReps(() => run(() => tfHvp(tf, m, vs)), opts.reps, opts.budgetMs);
  const leakedTensors = tf.memory().numTensors - before;
  tf.dispose(vs);
  m.dispose();
  return {
    gradTimes: gr.times, hvpTimes: hr.times, gradWarmMs: gr.warmMs, hvpWarmMs: hr.warmMs,
    gradMs: median(gr.times), hvpMs: median(hr.times), loss, leakedTensors,
  };
}

/** TF.js webgpu: `benchTfGradHvp`, each rep also waiting for the device queue to drain. */
export function benchTfjs(tf: TF, device: GPUDevice, layout: MlpLayout, X: Float32Array, Y: Float32Array, N: number,
                          theta: Float32Array, v: Float32Array, opts: { reps: number; budgetMs: number; log: (s: string) => void }): Promise<TfBench> {
  return benchTfGradHvp(tf, layout, X, Y, N, theta, v, { ...opts, label: 'TF.js', sync: () => device.queue.onSubmittedWorkDone() });
}
