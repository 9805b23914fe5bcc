// Reference conv kernel: one invocation per output element of the GEMM view
// (conv_common.wgsl), summing its whole reduction range in order, no
// blocking. The correctness baseline beside the fast variants.
// Tiles of WG_Y rows × WG_X columns are numbered n-fastest over the x and y
// workgroup axes (x·y ≥ tiles, so M·N beyond 65535 workgroups per axis
// fits); workgroup z is the model (and, for dweight, the split).
const TILE_M: u32 = WG_Y;
const TILE_N: u32 = WG_X;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>,
        @builtin(num_workgroups) nw: vec3<u32>) {
  let zz = wg.z; let z = model_of(zz);
  let tn = (u.N + TILE_N - 1u) / TILE_N;
  let tile = wg.y * nw.x + wg.x;
  if (tile >= tn * ((u.M + TILE_M - 1u) / TILE_M)) { return; }
  let m = (tile / tn) * TILE_M + l.y; let n = (tile % tn) * TILE_N + l.x;
  if (m >= u.M || n >= u.N) { return; }
  let r = a_row(z, m); let c = b_col(z, n);
  let ke = k_last(zz);
  var acc = 0.0;
  for (var k = k_first(zz); k < ke; k++) {
    let t = tap(k, ke);
    acc += a_at(r, t) * b_at(c, t);
  }
  store(zz, z, m, n, acc);
}
