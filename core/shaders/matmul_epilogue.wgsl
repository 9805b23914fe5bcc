// What every matmul variant shares: the parameter block, the output-side
// bindings, and the fused epilogue (layouts and order of operations:
// matmul_common.wgsl). A and B (bindings 1, 2) are declared by the variant's
// common file, scalar or vec4.
struct Params {
  M: u32, N: u32, L: u32, K: u32,
  a_off: u32, a_bs: u32, b_off: u32, b_bs: u32,
  c_off: u32, c_bs: u32, bias_off: u32, bias_bs: u32,
  aux_off: u32, aux_bs: u32, o2_off: u32, o2_bs: u32,
  alpha: f32, _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> u: Params;

@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<storage, read> BIAS: array<f32>;
@group(0) @binding(5) var<storage, read> AUX: array<f32>;
@group(0) @binding(6) var<storage, read_write> OUT2: array<f32>;

fn store_c(z: u32, m: u32, n: u32, acc: f32) {
  let e = m * u.N + n;
  let ci = u.c_off + z * u.c_bs + e;
  var v = u.alpha * acc;
  if (ACCUM) { v += C[ci]; }
  if (HAS_BIAS) { v += BIAS[u.bias_off + z * u.bias_bs + n]; }
  if (HAS_OUT2) { OUT2[u.o2_off + z * u.o2_bs + e] = v; }
  if (APPLY_ACT) { v = act_f(ACT, v); }
  if (HAS_DACT) { v *= act_d1(ACT, AUX[u.aux_off + z * u.aux_bs + e]); }
  C[ci] = v;
}
