// Wasm threads over one shared memory. core/ may not create workers, so the
// host injects a SpawnCoreWorker that starts a worker whose only job is to
// call runCoreWorker(init) (hosts/*/wasm-worker.*). Each worker instantiates
// the same module over the same shared memory and then sleeps on a control
// word; a parallel call bumps the generation, every thread (the caller is
// thread 0) runs its share, and the caller waits for the others.
import { instantiateModule } from './module.js';

/** What a worker needs; all of it is structured-cloneable (Module, shared Memory, SAB). */
export interface CoreWorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctrl: SharedArrayBuffer;
  tid: number;
}

export interface CoreWorkerHandle {
  terminate(): void;
}

/**
 * Starts one worker that runs runCoreWorker(init). `onError` is called if the
 * worker fails to start or dies, so a waiting caller can stop waiting.
 */
export type SpawnCoreWorker = (init: CoreWorkerInit, onError: (message: string) => void) => CoreWorkerHandle;

// Control words (Int32Array over ctrl).
const GEN = 0, DONE = 1, OP = 2, ARG = 3, NTHREADS = 4, READY = 5, FAILED = 6;
const OP_QUIT = 2;
const CTRL_WORDS = 8;

/**
 * How long a thread polls a control word before it sleeps on it. A futex wake
 * costs ~10–50 µs, as much as a whole small matmul: a batched sweep's step
 * issues parallel ops every few tens of µs, and with the worker sleeping
 * between them a K = 16 product ran slower on 2 threads than on 1. Polling
 * for a bounded time (as OpenMP runtimes do) keeps it awake through a step
 * and still lets it sleep as soon as the engine pauses.
 */
const SPIN_MS = 0.2;

/** Polls ctrl[i] until it differs from `was` (true) or `ms` have passed (false). */
function spinUntilChanged(ctrl: Int32Array, i: number, was: number, ms: number): boolean {
  const t0 = performance.now();
  for (;;) {
    for (let k = 0; k < 256; k++) if (Atomics.load(ctrl, i) !== was) return true;
    if (performance.now() - t0 > ms) return false;
  }
}

/** The parallel kernels of core/wasm: each is export(params, tid, nthreads). */
export type CoreKernel = 'mm' | 'conv' | 'pool' | 'actOp' | 'rdeltaOp' | 'batchnormOp';
const KERNEL_OPS: Record<CoreKernel, number> = { mm: 1, conv: 3, pool: 4, actOp: 5, rdeltaOp: 6, batchnormOp: 7 };
const OP_KERNELS = new Map<number, CoreKernel>(Object.entries(KERNEL_OPS).map(([k, v]) => [v, k as CoreKernel]));

/** The worker side: never returns until told to quit. */
export async function runCoreWorker(init: CoreWorkerInit): Promise<void> {
  const core = await instantiateModule(init.module, init.memory);
  type Kernel = (params: number, tid: number, nthreads: number) => void;
  const ctrl = new Int32Array(init.ctrl);
  Atomics.add(ctrl, READY, 1);
  Atomics.notify(ctrl, READY);
  let seen = 0;
  for (;;) {
    if (!spinUntilChanged(ctrl, GEN, seen, SPIN_MS)) Atomics.wait(ctrl, GEN, seen);
    seen = Atomics.load(ctrl, GEN);
    const op = Atomics.load(ctrl, OP);
    if (op === OP_QUIT) return;
    const n = Atomics.load(ctrl, NTHREADS);
    if (init.tid < n) {
      try {
        const kernel = core.exports[OP_KERNELS.get(op) ?? 'mm'] as Kernel;
        kernel(Atomics.load(ctrl, ARG), init.tid, n);
      } catch {
        Atomics.store(ctrl, FAILED, 1);
      }
      Atomics.add(ctrl, DONE, 1);
      Atomics.notify(ctrl, DONE);
    }
  }
}

/** The caller's side: a pool of `count` threads, the caller included. */
export class CoreThreads {
  readonly count: number;
  private ctrl: Int32Array;
  private workers: CoreWorkerHandle[] = [];
  private failure: string | null = null;
  /** Browsers forbid Atomics.wait on the main thread: there the caller spins. */
  private canBlock = true;

  private constructor(count: number) {
    this.count = count;
    this.ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
  }

  /** Starts count − 1 workers and waits until each has instantiated the module. */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, count: number,
                     spawn: SpawnCoreWorker, timeoutMs = 60_000): Promise<CoreThreads> {
    const t = new CoreThreads(count);
    for (let tid = 1; tid < count; tid++) {
      t.workers.push(spawn({ module, memory, ctrl: t.ctrl.buffer as SharedArrayBuffer, tid }, (msg) => {
        t.failure ??= msg;
        Atomics.store(t.ctrl, FAILED, 1);
        Atomics.notify(t.ctrl, DONE);
      }));
    }
    const t0 = Date.now();
    while (Atomics.load(t.ctrl, READY) < count - 1) {
      if (t.failure) { t.stop(); throw new Error(`a Wasm worker failed to start: ${t.failure}`); }
      if (Date.now() - t0 > timeoutMs) { t.stop(); throw new Error(`Wasm workers did not start within ${timeoutMs / 1000} s`); }
      await new Promise((r) => setTimeout(r, 2));
    }
    try {
      Atomics.wait(t.ctrl, CTRL_WORDS - 1, 1, 0); // throws where blocking is not allowed
    } catch {
      t.canBlock = false;
    }
    return t;
  }

  /** Runs mm(params, tid, n) on n ≤ count threads, the caller as thread 0, and waits for all. */
  mm(run: (tid: number, n: number) => void, params: number, n: number): void {
    this.call('mm', run, params, n);
  }

  /** Runs kernel(params, tid, n) on n ≤ count threads (`run` is the caller's own call), and waits for all. */
  call(kernel: CoreKernel, run: (tid: number, n: number) => void, params: number, n: number): void {
    if (n <= 1 || this.count <= 1) { run(0, 1); return; }
    n = Math.min(n, this.count);
    const c = this.ctrl;
    if (Atomics.load(c, FAILED)) throw new Error(`a Wasm worker failed${this.failure ? `: ${this.failure}` : ''}; restart with --threads 1`);
    Atomics.store(c, DONE, 0);
    Atomics.store(c, OP, KERNEL_OPS[kernel]);
    Atomics.store(c, ARG, params);
    Atomics.store(c, NTHREADS, n);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    run(0, n);
    for (;;) {
      const done = Atomics.load(c, DONE);
      if (done >= n - 1) break;
      if (Atomics.load(c, FAILED)) throw new Error(`a Wasm worker failed${this.failure ? `: ${this.failure}` : ''}; restart with --threads 1`);
      if (spinUntilChanged(c, DONE, done, SPIN_MS)) continue;
      if (this.canBlock) Atomics.wait(c, DONE, done, 1000);
    }
    if (Atomics.load(c, FAILED)) throw new Error(`a Wasm worker trapped in the ${kernel} kernel`);
  }

  stop(): void {
    Atomics.store(this.ctrl, OP, OP_QUIT);
    Atomics.add(this.ctrl, GEN, 1);
    Atomics.notify(this.ctrl, GEN);
    for (const w of this.workers) w.terminate();
    this.workers = [];
  }
}
