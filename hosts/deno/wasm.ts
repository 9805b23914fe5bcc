// The Deno host's Wasm backend: the core from build/ (run `npm run build`),
// on Deno Workers over one shared memory.
import { WasmBackend } from '../../core/ts/backend/wasm/backend.js';
import type { CoreFlavour } from '../../core/ts/backend/wasm/module.js';
import type { SpawnCoreWorker } from '../../core/ts/backend/wasm/threads.js';

declare const Deno: { readFile(path: URL): Promise<Uint8Array> };

const FILES: Record<CoreFlavour, string> = { threads: 'eoslab.wasm', simd: 'eoslab-simd.wasm', scalar: 'eoslab-scalar.wasm' };

export async function denoCoreModule(flavour: CoreFlavour): Promise<WebAssembly.Module> {
  const url = new URL(`../../build/${FILES[flavour]}`, import.meta.url);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(url);
  } catch (e) {
    throw new Error(`cannot read the Wasm core ${url.pathname} (${(e as Error).message}): run \`npm run build\``);
  }
  return WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
}

export const spawnDenoWorker: SpawnCoreWorker = (init, onError) => {
  const w = new Worker(new URL('./wasm-worker.ts', import.meta.url), { type: 'module' });
  w.onerror = (e) => { e.preventDefault(); onError(e.message); };
  w.postMessage(init);
  return { terminate: () => w.terminate() };
};

export async function createDenoWasm(opts: { threads?: number } = {}): Promise<WasmBackend> {
  const threads = opts.threads ?? navigator.hardwareConcurrency ?? 1;
  return WasmBackend.create({ module: await denoCoreModule('threads'), flavour: 'threads', threads, spawn: spawnDenoWorker, description: `Deno, ${navigator.hardwareConcurrency} cores` });
}
