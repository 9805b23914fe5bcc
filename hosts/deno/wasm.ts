// The Deno host's Wasm backend: the core from build/ (run `npm run build`),
// on Deno Workers over one shared memory.
import { WasmBackend } from '../../core/ts/backend/wasm/backend.js';
import type { CoreFlavour } from '../../core/ts/backend/wasm/module.js';
import type { SpawnCoreWorker } from '../../core/ts/backend/wasm/threads.js';

declare const Deno: { readFile(path: URL): Promise<Uint8Array> };

const FILES: Record<CoreFlavour, string> = { threads: 'eoslab.wasm', simd: 'eoslab-simd.wasm', scalar: 'eoslab-scalar.wasm', relaxed: 'eoslab-relaxed.wasm' };

async function readCore(flavour: CoreFlavour): Promise<Uint8Array<ArrayBuffer>> {
  const url = new URL(`../../build/${FILES[flavour]}`, import.meta.url);
  try {
    return await Deno.readFile(url) as Uint8Array<ArrayBuffer>;
  } catch (e) {
    throw new Error(`cannot read the Wasm core ${url.pathname} (${(e as Error).message}): run \`npm run build\``);
  }
}

export async function denoCoreModule(flavour: CoreFlavour): Promise<WebAssembly.Module> {
  return WebAssembly.compile(await readCore(flavour));
}

/** The relaxed-SIMD build where this Deno validates it (Deno 2's V8 ships relaxed SIMD), else the threads build. */
export async function denoCoreFlavour(): Promise<CoreFlavour> {
  try {
    return WebAssembly.validate(await readCore('relaxed')) ? 'relaxed' : 'threads';
  } catch {
    return 'threads';
  }
}

export const spawnDenoWorker: SpawnCoreWorker = (init, onError) => {
  const w = new Worker(new URL('./wasm-worker.ts', import.meta.url), { type: 'module' });
  w.onerror = (e) => { e.preventDefault(); onError(e.message); };
  w.postMessage(init);
  return { terminate: () => w.terminate() };
};

export async function createDenoWasm(opts: { threads?: number } = {}): Promise<WasmBackend> {
  const threads = opts.threads ?? navigator.hardwareConcurrency ?? 1;
  const flavour = await denoCoreFlavour();
  return WasmBackend.create({ module: await denoCoreModule(flavour), flavour, threads, spawn: spawnDenoWorker, description: `Deno, ${navigator.hardwareConcurrency} cores` });
}
