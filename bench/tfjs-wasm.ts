// TensorFlow.js's Wasm backend (@tensorflow/tfjs-backend-wasm, XNNPACK) as a
// CPU peer of eoslab: the same full-batch gradient and double-backward HVP as
// the webgpu peer (model, loss and timing shared with bench/tfjs.ts, same
// bundle, same tfjs-core instance), a small-problem check against the float64
// reference, and the three dense-layer matmul layouts through tf.matMul.
//
// Build and threads: the .wasm binaries ship in the package; setWasmPaths
// points at node_modules/@tensorflow/tfjs-backend-wasm/dist/, and Emscripten
// reads them with fs under Node. tfjs-backend-wasm 4.22 answers
// WASM_HAS_MULTITHREAD_SUPPORT = false whenever IS_NODE (tfjs issue #3830: its
// pthread workers are Blob URLs, which Node's worker_threads cannot start), so
// under Node it loads tfjs-backend-wasm-simd.wasm, and XNNPACK runs on one
// thread (getThreadsCount() = 1). Its BatchMatMul kernel hands only an
// untransposed A·B to XNNPACK (with B packed once per tensor and cached); any
// transposeA/transposeB goes to a scalar 48-blocked triple loop — which the
// forward X·Wᵀ and the weight gradient δᵀ·X of a dense layer both are.
//
// Standalone: `node --import tsx bench/tfjs-wasm.ts [--quick]` prints the
// small-problem errors, grad/HVP ms at N = 1000 and N = 5000, and the matmul
// GFLOP/s at N = 5000.
import { cpus } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { MlpLayout } from './mlp-layout.js';
import { grad64, hvp64 } from '../tests/reference/mlp64.js';
import { fmt, median, relErr, signedArray, syntheticData, timeReps } from './common.js';
import { benchTfGradHvp, importTfjs, quietly, ROOT, tfSmall, type TF, type TfBench } from './tfjs.js';

export type { TfBench };

const WASM_DIR = join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/';
const SIMD_BINARY = 'tfjs-backend-wasm-simd.wasm';

/** Listeners Emscripten adds to `process` while loading (rethrowing ones) are taken off again. */
const PROCESS_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;
type Listener = (...args: unknown[]) => void;
const processListeners = () => PROCESS_EVENTS.map((e) => process.listeners(e) as Listener[]);

/**
 * Loads the bundled TF.js on its wasm backend (SIMD build). `threads` is
 * XNNPACK's thread count as the backend reports it after initialisation.
 */
export async function loadTfjsWasm(): Promise<{ tf: TF; description: string; threads: number; binary: string; simd: boolean; multithread: boolean }> {
  const { tf, wasm } = await importTfjs();
  // A file-system prefix, not a file:// URL: Emscripten's Node loader path-normalises it and reads it with fs.
  wasm.setWasmPaths(WASM_DIR);
  const before = processListeners();
  await quietly(async () => {
    if (!(await tf.setBackend('wasm'))) throw new Error('TF.js could not initialise its wasm backend');
    await tf.ready();
  });
  PROCESS_EVENTS.forEach((e, i) => {
    for (const l of process.listeners(e) as Listener[]) if (!before[i].includes(l)) process.removeListener(e, l);
  });
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  const multithread = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) as boolean;
  if (!simd) throw new Error('this Node has no Wasm SIMD; the bench wants the SIMD build of tfjs-backend-wasm');
  // The choice tfjs-backend-wasm's getPathToWasmBinary makes from the two flags.
  const binary = multithread ? 'tfjs-backend-wasm-threaded-simd.wasm' : SIMD_BINARY;
  const threads = wasm.getThreadsCount();
  const description = `TF.js ${tf.version_core} wasm (${binary}, XNNPACK, ${threads} thread${threads === 1 ? '' : 's'}` +
    `${multithread ? '' : '; no multithread support under Node'})`;
  return { tf, description, threads, binary, simd, multithread };
}

/** Removes the wasm backend (frees its Wasm memory); it cannot be set again in this process. */
export function unloadTfjsWasm(tf: TF): void {
  // Its dispose also removes every process listener that existed when its module loaded; put back all but its own.
  const before = processListeners();
  tf.disposeVariables();
  tf.removeBackend('wasm');
  PROCESS_EVENTS.forEach((e, i) => {
    const now = process.listeners(e);
    for (const l of before[i]) if (!now.includes(l)) process.on(e, l);
  });
}

/** Full-batch gradient and HVP on the wasm backend (tf's backend must be 'wasm'); one rep awaits the scalar loss. */
export function benchTfjsWasm(tf: TF, layout: MlpLayout, X: Float32Array, Y: Float32Array, N: number,
                              theta: Float32Array, v: Float32Array, opts: { reps: number; budgetMs: number; log: (s: string) => void }): Promise<TfBench> {
  if (tf.getBackend() !== 'wasm') throw new Error(`benchTfjsWasm: current TF.js backend is ${tf.getBackend()}, not wasm`);
  return benchTfGradHvp(tf, layout, X, Y, N, theta, v, { ...opts, label: 'TF.js wasm' });
}

export interface TfjsWasmErrors {
  /** ‖a−b‖∞/‖b‖∞ against the float64 reference (tests/reference/mlp64.ts). */
  grad: number;
  hvp: number;
  /** The HVP with TF.js's built-in tanh gradient (drops σ″), for reference. */
  hvpBuiltinTanh: number;
  loss: number;
}

/** Small-problem gradient and HVP on the wasm backend against the float64 reference (bias, tanh, MSE: the bench's model). */
export async function tfjsWasmSmallErrors(tf: TF, layout: MlpLayout, X: Float32Array, Y: Float32Array, N: number,
                                          theta: Float32Array, v: Float32Array): Promise<TfjsWasmErrors> {
  const m64 = { sizes: layout.spec.sizes, act: 'tanh' as const, bias: layout.spec.bias };
  const th = Float64Array.from(theta), X64 = Float64Array.from(X), Y64 = Float64Array.from(Y);
  const g64 = grad64(m64, th, X64, Y64, N, 'mse');
  const h64 = hvp64(m64, th, X64, Y64, N, 'mse', Float64Array.from(v));
  const fixed = await tfSmall(tf, layout, X, Y, N, theta, v, true);
  const builtin = await tfSmall(tf, layout, X, Y, N, theta, v, false);
  return { grad: relErr(fixed.grad, g64), hvp: relErr(fixed.hvp, h64), hvpBuiltinTanh: relErr(builtin.hvp, h64), loss: fixed.loss };
}

export type MatmulLayout = 'ab' | 'abt' | 'atb';
export interface TfjsWasmMatmul {
  /** GFLOP/s = 2·M·N·L / median time. */
  ab: number;
  abt: number;
  atb: number;
  ms: Record<MatmulLayout, number>;
  shape: Record<MatmulLayout, [M: number, N: number, L: number]>;
}

/**
 * The three products of a dense layer 3072→200 on a batch of N (bench/README.md):
 * abt = X·Wᵀ (N×3072 · (200×3072)ᵀ), ab = δ·W (N×200 · 200×3072), atb = δᵀ·X
 * ((N×200)ᵀ · N×3072), via tf.matMul(a, b, transposeA, transposeB) on the
 * current backend. One rep = the matMul (synchronous on wasm) + reading one
 * element of its result; median of `reps` after a warm-up.
 */
export async function benchTfjsWasmMatmul(tf: TF, opts: { N: number; reps: number; budgetMs?: number; log?: (s: string) => void }): Promise<TfjsWasmMatmul> {
  const { N, reps } = opts;
  const D = 3072, H = 200;
  const t2 = (rows: number, cols: number, seed: number) => tf.tensor2d(signedArray(rows * cols, seed), [rows, cols]);
  const X = t2(N, D, 11), W = t2(H, D, 12), delta = t2(N, H, 13);
  const cases: [MatmulLayout, () => import('@tensorflow/tfjs-core').Tensor, [number, number, number]][] = [
    ['abt', () => tf.matMul(X, W, false, true), [N, H, D]],
    ['ab', () => tf.matMul(delta, W, false, false), [N, D, H]],
    ['atb', () => tf.matMul(delta, X, true, false), [H, D, N]],
  ];
  const out = { ms: {}, shape: {} } as TfjsWasmMatmul;
  try {
    for (const [layout, op, shape] of cases) {
      opts.log?.(`  tf.matMul ${layout} ${shape.join('×')}…`);
      const r = await timeReps(async () => {
        const c = op();
        const probe = tf.slice(c, [0, 0], [1, 1]);
        await probe.data();
        tf.dispose([c, probe]);
      }, reps, opts.budgetMs ?? 30_000);
      const ms = median(r.times);
      const [M, Nn, L] = shape;
      out[layout] = (2 * M * Nn * L) / (ms * 1e6);
      out.ms[layout] = ms;
      out.shape[layout] = shape;
    }
  } finally {
    tf.dispose([X, W, delta]);
  }
  return out;
}

// ---- standalone runner ---------------------------------------------------------
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values: argv } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  const quick = argv.quick!;
  const reps = quick ? 2 : 3;
  const budgetMs = quick ? 20_000 : 60_000;
  const log = (s: string) => console.error(s);
  const { benchLayout, benchParams, CLASSES, D_IN } = await import('./eoslab.js');
  const layout = benchLayout();
  const { theta, v } = benchParams(layout);
  const t0 = performance.now();
  const { tf, description, threads } = await loadTfjsWasm();
  console.log(`${description}; node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`);
  console.log(`tfjs_wasm_threads = ${threads}`);
  try {
    const SMALL_N = 64;
    const small = syntheticData(SMALL_N, D_IN, CLASSES, 99);
    log(`small-problem check (N = ${SMALL_N}) against the float64 reference…`);
    const err = await tfjsWasmSmallErrors(tf, layout, small.X, small.Y, SMALL_N, theta, v);
    console.log(`correctness vs float64 (N = ${SMALL_N}, ‖a−b‖∞/‖b‖∞): grad ${err.grad.toExponential(2)}, HVP ${err.hvp.toExponential(2)}` +
      ` (built-in tanh gradient: ${err.hvpBuiltinTanh.toExponential(2)})`);
    for (const N of [1000, 5000]) {
      log(`fc-tanh gradient and HVP, N = ${N}…`);
      const big = syntheticData(N, D_IN, CLASSES, 2024);
      const r = await benchTfjsWasm(tf, layout, big.X, big.Y, N, theta, v, { reps, budgetMs, log });
      console.log(`N = ${String(N).padStart(4)}: grad ${fmt(r.gradMs)} ms, HVP ${fmt(r.hvpMs)} ms (HVP/grad ${(r.hvpMs / r.gradMs).toFixed(2)}×)` +
        `; reps grad ${r.gradTimes.map((t) => t.toFixed(0)).join(' ')}, HVP ${r.hvpTimes.map((t) => t.toFixed(0)).join(' ')}` +
        `; warm-ups ${fmt(r.gradWarmMs, 0)} / ${fmt(r.hvpWarmMs, 0)}; loss ${r.loss.toFixed(6)}; leaked tensors ${r.leakedTensors}`);
    }
    const N = 5000;
    log(`matmul layouts at N = ${N}…`);
    const mm = await benchTfjsWasmMatmul(tf, { N, reps, budgetMs, log });
    for (const l of ['abt', 'ab', 'atb'] as const) {
      console.log(`matmul ${l.padEnd(3)} M×N×L = ${mm.shape[l].join('×').padEnd(15)} ${fmt(mm.ms[l]).padStart(8)} ms  ${mm[l].toFixed(2).padStart(6)} GFLOP/s` +
        `${l === 'ab' ? '  (XNNPACK)' : '  (transposed: scalar loop)'}`);
    }
  } finally {
    unloadTfjsWasm(tf);
  }
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  process.exit(0);
}
