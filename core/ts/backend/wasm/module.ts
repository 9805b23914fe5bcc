// Instantiates the AssemblyScript core (core/wasm → build/eoslab.wasm). The
// host supplies the bytes (core/ never touches files); views into linear
// memory are re-created after every growth, since growth detaches them.
export interface WasmCore {
  readonly memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  reset(): void;
  philoxBits(out: number, n: number, index0: number, stream: number, k0: number, k1: number): void;
  philoxSigned(out: number, n: number, index0: number, stream: number, k0: number, k1: number, scale: number): void;
  /** A Float32Array view of n floats at byte offset `ptr`, valid until the next allocation. */
  f32(ptr: number, n: number): Float32Array;
  u32(ptr: number, n: number): Uint32Array;
}

export async function instantiateCore(bytes: BufferSource): Promise<WasmCore> {
  const { instance } = await WebAssembly.instantiate(bytes, {
    env: {
      abort: (_msg: number, _file: number, line: number, col: number) => {
        throw new Error(`eoslab wasm core aborted at ${line}:${col}`);
      },
    },
  });
  const e = instance.exports as unknown as {
    memory: WebAssembly.Memory;
    alloc(bytes: number): number;
    reset(): void;
    philoxBits(out: number, n: number, index0: number, stream: number, k0: number, k1: number): void;
    philoxSigned(out: number, n: number, index0: number, stream: number, k0: number, k1: number, scale: number): void;
  };
  return {
    memory: e.memory,
    alloc: (bytes) => e.alloc(bytes) >>> 0,
    reset: () => e.reset(),
    philoxBits: (...a) => e.philoxBits(...a),
    philoxSigned: (...a) => e.philoxSigned(...a),
    f32: (ptr, n) => new Float32Array(e.memory.buffer, ptr, n),
    u32: (ptr, n) => new Uint32Array(e.memory.buffer, ptr, n),
  };
}
