// The Node host's Wasm backend: the AssemblyScript core from build/ (built by
// `npm install` / `npm run build`) on worker_threads over one shared memory.
//
// Which build: relaxed SIMD with threads (build/eoslab-relaxed.wasm, FMA in the
// micro-kernel) where this Node validates it, else SIMD with threads, else
// unshared SIMD, else scalar. Node 20's V8 (11.3) has relaxed SIMD behind
// --experimental-wasm-relaxed-simd (later V8s ship it on), and refuses that
// flag in NODE_OPTIONS; so to run the relaxed build on Node 20 either
//   - start node with the flag: `node --experimental-wasm-relaxed-simd
//     hosts/node/bin/eoslab.mjs …`, or have the CLI re-exec itself with it,
//     as hosts/node/reexec.ts does for LD_LIBRARY_PATH:
//     spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd',
//       ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' })
//     (execArgv is inherited by worker_threads, so the workers validate it too);
//   - or call enableNodeRelaxedSimd() before the first createNodeWasm(): it sets
//     the V8 flag in-process (v8.setFlagsFromString), which Node 20 honours for
//     modules compiled afterwards, the workers' included (flags are per process).
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { WasmBackend } from '../../core/ts/backend/wasm/backend.js';
import { coreShared, type CoreFlavour } from '../../core/ts/backend/wasm/module.js';
import type { SpawnCoreWorker } from '../../core/ts/backend/wasm/threads.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FILES: Record<CoreFlavour, string> = {
  threads: 'build/eoslab.wasm', simd: 'build/eoslab-simd.wasm', scalar: 'build/eoslab-scalar.wasm', relaxed: 'build/eoslab-relaxed.wasm',
};

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

/** Whether this Node can compile a build (its file is there and WebAssembly.validate accepts it). */
export function nodeCoreRuns(flavour: CoreFlavour): boolean {
  const file = join(ROOT, FILES[flavour]);
  return existsSync(file) && WebAssembly.validate(readFileSync(file));
}

/**
 * The best build this Node can run: relaxed SIMD with threads, else SIMD with
 * threads, else SIMD, else scalar (probed once; enableNodeRelaxedSimd re-probes).
 */
let bestFlavour: CoreFlavour | null = null;
export function nodeCoreFlavour(): CoreFlavour {
  const shared = typeof SharedArrayBuffer === 'function';
  bestFlavour ??= !WebAssembly.validate(readFileSync(join(ROOT, FILES.simd))) ? 'scalar'
    : !shared ? 'simd' : nodeCoreRuns('relaxed') ? 'relaxed' : 'threads';
  return bestFlavour;
}

/**
 * Turns on V8's relaxed SIMD in this process (Node 20 keeps it behind
 * --experimental-wasm-relaxed-simd) and says whether the relaxed build now
 * validates; from then on nodeCoreFlavour() picks it. Opt-in: its results
 * differ in the last bits from the other builds'.
 */
export function enableNodeRelaxedSimd(): boolean {
  if (!nodeCoreRuns('relaxed')) {
    try {
      setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      return false;
    }
  }
  bestFlavour = null;
  return nodeCoreRuns('relaxed');
}

export async function createNodeWasm(opts: { threads?: number; flavour?: CoreFlavour } = {}): Promise<WasmBackend> {
  const flavour = opts.flavour ?? nodeCoreFlavour();
  const threads = coreShared(flavour) ? opts.threads ?? defaultThreads() : 1;
  if (!coreShared(flavour) && (opts.threads ?? 1) > 1) throw new Error(`--threads ${opts.threads} needs the threads build of the Wasm core; the ${flavour} build runs one thread`);
  return WasmBackend.create({
    module: nodeCoreModule(flavour), flavour, threads, spawn: spawnNodeWorker,
    description: `${cpus()[0]?.model.trim() ?? 'CPU'}, ${cpus().length} cores`,
  });
}
