// Shared by every matmul variant. Batched over z (K models):
//   C[z] (M×N) = epilogue( alpha · op(A[z]) (M×L) · op(B[z]) (L×N) )
// LAYOUT 0: A·B   A is [M,L], B is [L,N]    (backward: δ·W)
// LAYOUT 1: A·Bᵀ  A is [M,L], B is [N,L]    (forward: H·Wᵀ)
// LAYOUT 2: Aᵀ·B  A is [L,M], B is [L,N]    (weight gradient: δᵀ·H)
// All row-major and contiguous; *_off are element offsets into the bound
// buffer (layers are views into flat vectors), *_bs the per-model stride
// (0 where all models share the operand, e.g. the data X).
// Epilogue, in order: v = alpha·acc (+ C_old if ACCUM) (+ bias[n]);
//   out2 = v if HAS_OUT2; v = act(v) if APPLY_ACT; v *= act′(aux) if HAS_DACT.
// The header (LAYOUT, ACT, flags, workgroup shape) is prepended by the host.

@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;

fn a_index(z: u32, m: u32, k: u32) -> u32 {
  if (LAYOUT == 2u) { return u.a_off + z * u.a_bs + k * u.M + m; }
  return u.a_off + z * u.a_bs + m * u.L + k;
}

fn b_index(z: u32, k: u32, n: u32) -> u32 {
  if (LAYOUT == 1u) { return u.b_off + z * u.b_bs + n * u.L + k; }
  return u.b_off + z * u.b_bs + k * u.N + n;
}

