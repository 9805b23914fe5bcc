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

@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;


/** Stores columns n..n+3 of row m (those inside C). */
fn store4(z: u32, m: u32, n: u32, v: vec4<f32>) {
  if (m >= u.M) { return; }
  for (var t = 0u; t < 4u; t++) {
    if (n + t < u.N) { store_c(z, m, n + t, v[t]); }
  }
}
