// Register-blocked conv kernel, no shared memory (the CPU-driver shape, as
// matmul_reg / matmul_vec4): each invocation owns an RM × (4·RN4) block of
// the GEMM view (conv_common.wgsl); per reduction index the tap is decoded
// once, RM values of A and 4·RN4 of B are gathered, and RM·4·RN4 products
// accumulate in registers (arrays with constant bounds, unrolled).
// Tiles of (RM·WG_Y) × (4·RN4·WG_X) per workgroup are numbered n-fastest over
// the x and y workgroup axes; workgroup z is the model (dweight: and split).
const RN: u32 = 4u * RN4;
const TILE_M: u32 = RM * WG_Y;
const TILE_N: u32 = RN * WG_X;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>,
        @builtin(num_workgroups) nw: vec3<u32>) {
  let zz = wg.z; let z = model_of(zz);
  let tn = (u.N + TILE_N - 1u) / TILE_N;
  let tile = wg.y * nw.x + wg.x;
  if (tile >= tn * ((u.M + TILE_M - 1u) / TILE_M)) { return; }
  let m0 = (tile / tn) * TILE_M + l.y * RM; let n0 = (tile % tn) * TILE_N + l.x * RN;
  if (m0 >= u.M || n0 >= u.N) { return; }
  // Rows and columns past the edge read as 0 (ok = false) and are not stored.
  var rows: array<ARow, RM>;
  for (var i = 0u; i < RM; i++) { rows[i] = a_row(z, m0 + i); }
  var cols: array<BCol, RN>;
  for (var j = 0u; j < RN; j++) { cols[j] = b_col(z, n0 + j); }
  var acc: array<vec4<f32>, RM * RN4>;
  for (var e = 0u; e < RM * RN4; e++) { acc[e] = vec4<f32>(0.0); }
  let ke = k_last(zz);
  for (var k = k_first(zz); k < ke; k++) {
    let t = tap(k, ke);
    var bv: array<vec4<f32>, RN4>;
    for (var q = 0u; q < RN4; q++) {
      bv[q] = vec4<f32>(b_at(cols[4u * q], t), b_at(cols[4u * q + 1u], t),
                        b_at(cols[4u * q + 2u], t), b_at(cols[4u * q + 3u], t));
    }
    for (var i = 0u; i < RM; i++) {
      let a = a_at(rows[i], t);
      for (var q = 0u; q < RN4; q++) { acc[i * RN4 + q] += a * bv[q]; }
    }
  }
  for (var i = 0u; i < RM; i++) {
    let m = m0 + i;
    if (m >= u.M) { break; }
    for (var j = 0u; j < RN; j++) {
      let n = n0 + j;
      if (n < u.N) { store(zz, z, m, n, acc[i * RN4 + j / 4u][j % 4u]); }
    }
  }
}
