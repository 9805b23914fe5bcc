// Training data resident on the device: N examples of per-example shape
// `shape` (flattened row-major, C·H·W for images) and their targets.
import type { Backend, Buf } from '../backend/types.js';

export interface DeviceData {
  /** N×d inputs, row-major. */
  X: Buf;
  /** N×c targets (one-hot for classification), row-major. */
  Y: Buf;
  N: number;
  d: number;
  c: number;
}

export function uploadData(backend: Backend, X: Float32Array, Y: Float32Array, N: number, d: number, c: number): DeviceData {
  if (X.length !== N * d) throw new Error(`inputs hold ${X.length} values, expected N×d = ${N}×${d}`);
  if (Y.length !== N * c) throw new Error(`targets hold ${Y.length} values, expected N×c = ${N}×${c}`);
  const Xb = backend.alloc(N * d, 'X'), Yb = backend.alloc(N * c, 'Y');
  backend.write(Xb, X);
  backend.write(Yb, Y);
  return { X: Xb, Y: Yb, N, d, c };
}
