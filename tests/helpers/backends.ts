// The backends a test suite runs on: WebGPU (Dawn, on whatever Vulkan driver
// the host picks) and the Wasm core on two threads (so the worker path runs).
// EOSLAB_TEST_BACKENDS=wasm (or =webgpu, or a comma list) restricts the set
// for quick local runs; by default every parameterised suite runs on both.
import { suite, type Test } from 'uvu';
import type { Backend } from '../../core/ts/backend/types.js';
import { createNodeWasm } from '../../hosts/node/wasm.js';
import { testGpu } from './gpu.js';

export type BackendKind = 'webgpu' | 'wasm';

const ALL: BackendKind[] = ['webgpu', 'wasm'];

function selected(env: string | undefined): BackendKind[] {
  if (!env?.trim()) return ALL;
  const want = env.split(',').map((s) => s.trim()).filter(Boolean);
  for (const w of want) if (!ALL.includes(w as BackendKind)) throw new Error(`EOSLAB_TEST_BACKENDS: unknown backend '${w}' (want ${ALL.join(', ')})`);
  return ALL.filter((k) => want.includes(k));
}

export const BACKENDS: BackendKind[] = selected(process.env.EOSLAB_TEST_BACKENDS);

/** A fresh backend of the given kind; the caller must destroy() it. */
export async function testBackend(kind: BackendKind, opts: { threads?: number } = {}): Promise<Backend> {
  if (kind === 'webgpu') return (await testGpu()).backend;
  return createNodeWasm({ threads: opts.threads ?? 2 });
}

export interface BackendCtx {
  be: Backend;
}

/**
 * Declares `name [kind]` for every selected backend: `body` adds the tests,
 * each run with ctx.be, created before the suite and destroyed after it.
 */
export function forEachBackend(name: string, body: (T: Test<BackendCtx>, kind: BackendKind) => void): void {
  for (const kind of BACKENDS) {
    const T = suite<BackendCtx>(`${name} [${kind}]`);
    T.before(async (ctx) => { ctx.be = await testBackend(kind); });
    T.after((ctx) => ctx.be?.destroy());
    body(T, kind);
    T.run();
  }
}
