// float64 reference of one batched matmul with the fused epilogue of
// core/shaders/matmul_common.wgsl + matmul_epilogue.wgsl, for the kernel tests.
import type { Layout } from '../../core/ts/backend/types.js';
import { act64 } from './mlp64.js';

export interface EpilogueFlags { accum: boolean; bias: boolean; act: boolean; dact: boolean; alpha: number }

/**
 * C[z] = epilogue(alpha · op(A[z]) · op(B[z])) for z < K; A's per-model
 * stride is aStride (0: shared by all models), B, C, aux are batched, bias is
 * [K, N]; the activation is tanh. Returns C and the pre-activation values.
 */
export function matmulRef64(layout: Layout, M: number, N: number, L: number, K: number, aStride: number,
                            A: Float32Array, B: Float32Array, C0: Float32Array, bias: Float32Array, aux: Float32Array,
                            f: EpilogueFlags): { C: Float64Array; pre: Float64Array } {
  const C = new Float64Array(K * M * N), pre = new Float64Array(K * M * N);
  for (let z = 0; z < K; z++) for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let acc = 0;
    for (let k = 0; k < L; k++) {
      const a = layout === 'atb' ? A[z * aStride + k * M + m] : A[z * aStride + m * L + k];
      const b = layout === 'abt' ? B[z * N * L + n * L + k] : B[z * L * N + k * N + n];
      acc += a * b;
    }
    const e = z * M * N + m * N + n;
    let v = f.alpha * acc;
    if (f.accum) v += C0[e];
    if (f.bias) v += bias[z * N + n];
    pre[e] = v;
    if (f.act) v = act64('tanh', v)[0];
    if (f.dact) v *= act64('tanh', aux[e])[1];
    C[e] = v;
  }
  return { C, pre };
}
