// The Node host's Wasm backend: the AssemblyScript core from build/ (built by
// `npm install` / `npm run build`) on worker_threads over one shared memory.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { WasmBackend } from '../../core/ts/backend/wasm/backend.js';
import type { CoreFlavour } from '../../core/ts/backend/wasm/module.js';
import type { SpawnCoreWorker } from '../../core/ts/backend/wasm/threads.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FILES: Record<CoreFlavour, string> = { threads: 'build/eoslab.wasm', simd: 'build/eoslab-simd.wasm', scalar: 'build/eoslab-scalar.wasm' };

const modules = new Map<CoreFlavour, WebAssembly.Module>();

/** The compiled core, read and compiled once per process. */
export function nodeCoreModule(flavour: CoreFlavour): WebAssembly.Module {
  let m = modules.get(flavour);
  if (!m) {
    const file = join(ROOT, FILES[flavour]);
    if (!existsSync(file)) throw new Error(`the Wasm core ${FILES[flavour]} is missing: run \`npm run build\``);
    m = new WebAssembly.Module(readFileSync(file));
    modules.set(flavour, m);
  }
  return m;
}

export const spawnNodeWorker: SpawnCoreWorker = (init, onError) => {
  const w = new Worker(new URL('./wasm-worker.mjs', import.meta.url), { workerData: init });
  w.on('error', (e: Error) => onError(e.message));
  w.on('exit', (code) => { if (code !== 0) onError(`worker exited with code ${code}`); });
  w.unref(); // a sleeping worker must not keep the process alive
  return { terminate: () => void w.terminate() };
};

export function defaultThreads(): number {
  return availableParallelism();
}

/** The best build this Node can run: SIMD with threads, else SIMD, else scalar. */
let bestFlavour: CoreFlavour | null = null;
export function nodeCoreFlavour(): CoreFlavour {
  bestFlavour ??= !WebAssembly.validate(readFileSync(join(ROOT, FILES.simd))) ? 'scalar'
    : typeof SharedArrayBuffer === 'function' ? 'threads' : 'simd';
  return bestFlavour;
}

export async function createNodeWasm(opts: { threads?: number; flavour?: CoreFlavour } = {}): Promise<WasmBackend> {
  const flavour = opts.flavour ?? nodeCoreFlavour();
  const threads = flavour === 'threads' ? opts.threads ?? defaultThreads() : 1;
  if (flavour !== 'threads' && (opts.threads ?? 1) > 1) throw new Error(`--threads ${opts.threads} needs the threads build of the Wasm core; the ${flavour} build runs one thread`);
  return WasmBackend.create({
    module: nodeCoreModule(flavour), flavour, threads, spawn: spawnNodeWorker,
    description: `${cpus()[0]?.model.trim() ?? 'CPU'}, ${cpus().length} cores`,
  });
}
