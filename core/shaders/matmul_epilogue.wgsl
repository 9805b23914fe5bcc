// The fused epilogue every matmul variant ends with (layouts and order of
// operations: matmul_common.wgsl). Uses the Params, bindings and ACT/flag
// constants of the common file it is concatenated with.
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
