// The browser host's Wasm backend. The core's bytes are bundled into the page
// script (esbuild's binary loader), the workers are build/browser/wasm-worker.js.
// Threads need a cross-origin-isolated page (COOP same-origin + COEP
// require-corp headers) for SharedArrayBuffer; without it the page runs the
// unshared SIMD build on one thread, and without Wasm SIMD the scalar build;
// where the browser validates relaxed SIMD, the threads build with FMA.
import threadsBytes from '../../build/eoslab.wasm';
import simdBytes from '../../build/eoslab-simd.wasm';
import scalarBytes from '../../build/eoslab-scalar.wasm';
import relaxedBytes from '../../build/eoslab-relaxed.wasm';
import { WasmBackend } from '../../core/ts/backend/wasm/backend.js';
import { coreShared, type CoreFlavour } from '../../core/ts/backend/wasm/module.js';
import type { SpawnCoreWorker } from '../../core/ts/backend/wasm/threads.js';

/** The best build this page can run, and why. */
export async function browserCoreFlavour(): Promise<{ flavour: CoreFlavour; why: string }> {
  if (!(await WebAssembly.validate(simdBytes as Uint8Array<ArrayBuffer>))) return { flavour: 'scalar', why: 'no Wasm SIMD in this browser' };
  if (!globalThis.crossOriginIsolated) return { flavour: 'simd', why: 'page not cross-origin isolated: no SharedArrayBuffer, one thread' };
  if (await WebAssembly.validate(relaxedBytes as Uint8Array<ArrayBuffer>)) return { flavour: 'relaxed', why: 'cross-origin isolated: Wasm threads, relaxed SIMD (FMA)' };
  return { flavour: 'threads', why: 'cross-origin isolated: Wasm threads' };
}

export function spawnBrowserWorker(workerUrl: URL): SpawnCoreWorker {
  return (init, onError) => {
    const w = new Worker(workerUrl);
    w.onerror = (e) => { e.preventDefault(); onError(e.message || 'worker failed to load'); };
    w.postMessage(init);
    return { terminate: () => w.terminate() };
  };
}

export async function createBrowserWasm(opts: { threads?: number; workerUrl?: URL } = {}): Promise<WasmBackend> {
  const { flavour } = await browserCoreFlavour();
  const bytes = { threads: threadsBytes, simd: simdBytes, scalar: scalarBytes, relaxed: relaxedBytes }[flavour];
  const threads = coreShared(flavour) ? opts.threads ?? navigator.hardwareConcurrency ?? 1 : 1;
  const workerUrl = opts.workerUrl ?? new URL('wasm-worker.js', location.href);
  return WasmBackend.create({
    // Async compile: browsers refuse synchronous compiles of large modules on the main thread.
    module: await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>), flavour, threads,
    spawn: spawnBrowserWorker(workerUrl), description: `browser, ${navigator.hardwareConcurrency} cores`,
  });
}
