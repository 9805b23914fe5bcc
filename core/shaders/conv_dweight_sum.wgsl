// Second pass of a split conv dweight (conv_dweight.wgsl): for each model z
// and element (m, n) of its [M, N] = [Cout, Lw (+1 bias column)] gradient,
//   v = Σ_{s<S} PART[(z·S + s)·M·N + m·N + n]   (in split order: deterministic)
// then DW[z][m, n] (+)= v, or DB[z][m] (+)= v for the bias column n = Lw
// (through DW with F_BIAS_IN_W: the bias is a view of DW's buffer).
// One invocation per element of the K·M·N outputs (grid.wgsl pitch);
// Params and u come from conv_common.wgsl.
@group(0) @binding(1) var<storage, read> PART: array<f32>;
@group(0) @binding(2) var<storage, read_write> DW: array<f32>;
@group(0) @binding(3) var<storage, read_write> DB: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let t = flat_index(g, u.pitch);
  if (t >= u.n_out) { return; }
  let MN = u.M * u.N;
  let z = t / MN; let e = t % MN;
  let m = e / u.N; let n = e % u.N;
  var v = 0.0;
  for (var s = 0u; s < u.S; s++) { v += PART[(z * u.S + s) * MN + e]; }
  if (n < u.Lw) {
    let i = u.w_off + z * u.w_bs + m * u.Lw + n;
    if (has(F_ACCUM)) { v += DW[i]; }
    DW[i] = v;
  } else {
    let i = u.b_off + z * u.b_bs + m;
    if (has(F_BIAS_IN_W)) {
      if (has(F_ACCUM)) { v += DW[i]; }
      DW[i] = v;
    } else {
      if (has(F_ACCUM)) { v += DB[i]; }
      DB[i] = v;
    }
  }
}
