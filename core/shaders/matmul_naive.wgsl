// Reference kernel: one invocation per output element, no blocking.
// Kept beside the fast variants as their correctness baseline.
@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let n = g.x; let m = g.y; let z = g.z;
  if (m >= u.M || n >= u.N) { return; }
  var acc = 0.0;
  for (var k = 0u; k < u.L; k++) {
    acc += A[a_index(z, m, k)] * B[b_index(z, k, n)];
  }
  store_c(z, m, n, acc);
}
