// The WebAssembly core's entry point (asconfig.json builds it into build/).
// Memory is imported (env.memory, shared in the threads build): the host
// creates it, every worker instance computes in it, hosts view into it.
export { philoxBits, philoxSigned } from './philox';
export { mm, mmScratchBytes } from './matmul';
export * from './ops';
export * from './rdelta';

/** Bump allocation of `bytes` (16-aligned) in linear memory, growing it as needed; returns the offset. */
let top: usize = 0;
export function alloc(bytes: usize): usize {
  if (top == 0) top = (__heap_base + 15) & ~15;
  const p = top;
  top = (top + bytes + 15) & ~15;
  const need = <i32>((top + 0xffff) >> 16) - memory.size();
  if (need > 0 && memory.grow(need) < 0) unreachable();
  return p;
}

/** Frees everything allocated so far (the engine re-allocates its buffers per problem). */
export function reset(): void {
  top = 0;
}
export { conv, convScratchBytes } from './conv';
export { pool, poolScratchBytes, actOp } from './pool';
export { batchnorm, batchnormOp } from './batchnorm';
