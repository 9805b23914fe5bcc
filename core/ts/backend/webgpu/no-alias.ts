import type { Buf } from '../types.js';

/**
 * WebGPU may not bind one buffer as writable storage and also as an input of
 * the same dispatch: a one-line error at enqueue instead of a device fault.
 */
export function noAlias(what: string, written: Buf, read: Buf[]): void {
  for (const r of read) {
    if (r.id === written.id) throw new Error(`${what}: the written operand and an input are both views of '${written.label}': use separate buffers`);
  }
}
