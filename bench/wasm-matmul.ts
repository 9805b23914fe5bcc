// The Wasm core's matmul on the three products of the bench's big dense layer
// (3072→200 on a batch of N; shapes as bench/README.md), through the Backend
// interface the engine uses: threads, packing and epilogue included.
import type { Backend, Layout } from '../core/ts/backend/types.js';
import { median, signedArray } from './common.js';

export interface WasmMatmul {
  layout: Layout;
  M: number;
  N: number;
  L: number;
  ms: number;
  gflops: number;
}

export function benchWasmMatmul(backend: Backend, opts: { N: number; reps: number }): WasmMatmul[] {
  const shapes: [Layout, number, number, number][] = [
    ['abt', opts.N, 200, 3072], ['ab', opts.N, 3072, 200], ['atb', 200, 3072, opts.N],
  ];
  return shapes.map(([layout, M, N, L]) => {
    const a = backend.alloc(M * L, 'A'), b = backend.alloc(L * N, 'B'), c = backend.alloc(M * N, 'C');
    backend.write(a, signedArray(M * L, 1));
    backend.write(b, signedArray(L * N, 2));
    const op = { layout, M, N, L, K: 1, a: { buf: a, off: 0, bs: 0 }, b: { buf: b, off: 0, bs: 0 }, c: { buf: c, off: 0, bs: 0 } };
    backend.matmul(op); // warm-up
    const times: number[] = [];
    for (let r = 0; r < opts.reps; r++) {
      const t0 = performance.now();
      backend.matmul(op); // synchronous on the Wasm backend: returns when every thread is done
      times.push(performance.now() - t0);
    }
    for (const x of [a, b, c]) backend.release(x);
    const ms = median(times);
    return { layout, M, N, L, ms, gflops: (2 * M * N * L) / ms / 1e6 };
  });
}
