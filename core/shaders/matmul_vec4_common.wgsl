// Shared by the vec4 matmul kernels (matmul_vec4, matmul_vec4_8x8): the
// declarations of matmul_common.wgsl with A and B bound as vec4 arrays, and
// its epilogue unchanged. Same layouts, batching and epilogue:
//   C[z] (M×N) = epilogue( alpha · op(A[z]) (M×L) · op(B[z]) (L×N) )
// The axes read as vec4 must be whole: A's and B's offsets (and per-model
// strides when K > 1) multiples of 4, and per layout
//   ab  (A [M,L], B [L,N]):  L % 4 == 0, N % 4 == 0
//   abt (A [M,L], B [N,L]):  L % 4 == 0
//   atb (A [L,M], B [L,N]):  M % 4 == 0, N % 4 == 0
// (matmulVec4Eligible in matmul-variants.ts); the kernels clamp other edges
// on load and guard stores.

struct Params {
  M: u32, N: u32, L: u32, K: u32,
  a_off: u32, a_bs: u32, b_off: u32, b_bs: u32,
  c_off: u32, c_bs: u32, bias_off: u32, bias_bs: u32,
  aux_off: u32, aux_bs: u32, o2_off: u32, o2_bs: u32,
  alpha: f32, _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<storage, read> BIAS: array<f32>;
@group(0) @binding(5) var<storage, read> AUX: array<f32>;
@group(0) @binding(6) var<storage, read_write> OUT2: array<f32>;


/** Stores columns n..n+3 of row m (those inside C). */
fn store4(z: u32, m: u32, n: u32, v: vec4<f32>) {
  if (m >= u.M) { return; }
  for (var t = 0u; t < 4u; t++) {
    if (n + t < u.N) { store_c(z, m, n + t, v[t]); }
  }
}
