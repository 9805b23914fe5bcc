// Instantiates the AssemblyScript core (core/wasm → build/*.wasm). The host
// supplies the bytes (core/ never touches files). The module imports its
// memory: one shared WebAssembly.Memory is what the main thread and every
// worker instance compute in. Views into it are re-created on demand, since
// growth detaches (unshared) or outgrows (shared) the old ones.

/**
 * The builds of asconfig.json: 'threads' (SIMD, shared memory), 'simd'
 * (unshared), 'scalar' (no SIMD) and 'relaxed' (as 'threads', plus relaxed
 * SIMD: the micro-kernel's f32x4.relaxed_madd is one FMA where the CPU has it,
 * so its bits differ from the other builds').
 */
export type CoreFlavour = 'threads' | 'simd' | 'scalar' | 'relaxed';

/** Whether a build imports shared memory (and so can run on several threads). */
export function coreShared(flavour: CoreFlavour): boolean {
  return flavour === 'threads' || flavour === 'relaxed';
}

/** Pages of 64 KiB: must match asconfig.json's initialMemory / maximumMemory. */
export const CORE_INITIAL_PAGES = 16;
export const CORE_MAXIMUM_PAGES = 65536;

/** The raw exports of core/wasm/index.ts; pointers are byte offsets, strides element counts. */
export interface CoreExports {
  alloc(bytes: number): number;
  reset(): void;
  philoxBits(out: number, n: number, index0: number, stream: number, k0: number, k1: number): void;
  philoxSigned(out: number, n: number, index0: number, stream: number, k0: number, k1: number, scale: number): void;
  [name: string]: unknown;
}

export interface WasmCore {
  readonly memory: WebAssembly.Memory;
  readonly module: WebAssembly.Module;
  readonly exports: CoreExports;
  alloc(bytes: number): number;
  reset(): void;
  philoxBits(out: number, n: number, index0: number, stream: number, k0: number, k1: number): void;
  philoxSigned(out: number, n: number, index0: number, stream: number, k0: number, k1: number, scale: number): void;
  /** A Float32Array view of n floats at byte offset `ptr`, valid until memory grows. */
  f32(ptr: number, n: number): Float32Array;
  u32(ptr: number, n: number): Uint32Array;
}

export function createCoreMemory(shared: boolean): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: CORE_INITIAL_PAGES, maximum: CORE_MAXIMUM_PAGES, shared });
}

function imports(memory: WebAssembly.Memory): WebAssembly.Imports {
  return {
    env: {
      memory,
      abort: (_msg: number, _file: number, line: number, col: number) => {
        throw new Error(`eoslab wasm core aborted at ${line}:${col}`);
      },
    },
  };
}

/** Instantiates a compiled core over `memory` (a worker passes the main thread's shared memory). */
export async function instantiateModule(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<WasmCore> {
  const instance = await WebAssembly.instantiate(module, imports(memory));
  const e = instance.exports as unknown as CoreExports;
  return {
    memory,
    module,
    exports: e,
    alloc: (bytes) => e.alloc(bytes) >>> 0,
    reset: () => e.reset(),
    philoxBits: (...a) => e.philoxBits(...a),
    philoxSigned: (...a) => e.philoxSigned(...a),
    f32: (ptr, n) => new Float32Array(memory.buffer, ptr, n),
    u32: (ptr, n) => new Uint32Array(memory.buffer, ptr, n),
  };
}

/**
 * Compiles and instantiates the core. `shared` must be true for the threads
 * build (its memory import is declared shared) and false for the others.
 */
export async function instantiateCore(bytes: BufferSource, shared = false): Promise<WasmCore> {
  const module = await WebAssembly.compile(bytes);
  return instantiateModule(module, createCoreMemory(shared));
}
