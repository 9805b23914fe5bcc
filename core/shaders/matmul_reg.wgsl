// Register-blocked, no shared memory: each invocation owns a 4×4 block of C.
// On CPU Vulkan drivers (SwiftShader, lavapipe) this beats shared-memory
// tiles: workgroup barriers are expensive there and caches do the tiling.
// Loads clamp their indices instead of branching; stores are guarded.
@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let z = g.z;
  let m0 = g.y * 4u; let n0 = g.x * 4u;
  if (m0 >= u.M || n0 >= u.N) { return; }
  let mlast = u.M - 1u; let nlast = u.N - 1u;
  let ms = vec4<u32>(m0, min(m0 + 1u, mlast), min(m0 + 2u, mlast), min(m0 + 3u, mlast));
  let ns = vec4<u32>(n0, min(n0 + 1u, nlast), min(n0 + 2u, nlast), min(n0 + 3u, nlast));
  var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
  for (var k = 0u; k < u.L; k++) {
    let b = vec4<f32>(B[b_index(z, k, ns.x)], B[b_index(z, k, ns.y)], B[b_index(z, k, ns.z)], B[b_index(z, k, ns.w)]);
    acc0 += A[a_index(z, ms.x, k)] * b;
    acc1 += A[a_index(z, ms.y, k)] * b;
    acc2 += A[a_index(z, ms.z, k)] * b;
    acc3 += A[a_index(z, ms.w, k)] * b;
  }
  let accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    if (m >= u.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + j;
      if (n < u.N) { store_c(z, m, n, accs[i][j]); }
    }
  }
}
