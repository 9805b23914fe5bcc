// A copy through the op set that keeps every bit: the vector op computes
// α·x + β·y + γ, and γ = −0 because +0 + −0 would turn a −0 into +0.
import type { Backend, Buf } from './types.js';

/** dst[dOff + i] = src[sOff + i] for i < n, bit for bit. */
export function copyBits(backend: Backend, dst: Buf, dOff: number, src: Buf, sOff: number, n: number): void {
  backend.vector({ n, y: dst, yOff: dOff, x: src, xOff: sOff, alpha: 1, beta: 0, gamma: -0 });
}
