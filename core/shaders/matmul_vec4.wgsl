// vec4-load register-blocked matmul for CPU Vulkan drivers: each invocation
// owns an RM × (4·RN4) block of C and reads A and B as vec4 along their
// contiguous axis (declarations and alignment rules: matmul_vec4_common.wgsl).
// On lavapipe a storage load costs mostly per load instruction (address
// arithmetic, bounds check, gather), so one vec4 load bringing four operands,
// each reused RM or 4·RN4 times from registers, beats matmul_reg's scalar
// loads 2–3×. The block lives in arrays that lavapipe's compiler unrolls into
// registers; SwiftShader's JIT keeps them in memory, hence matmul_vec4_8x8.
// RM is a multiple of 4.

const RN: u32 = 4u * RN4;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let z = g.z;
  let m0 = g.y * RM; let n0 = g.x * RN;
  if (m0 >= u.M || n0 >= u.N) { return; }
  // Operand bases in vec4 units.
  let a0 = (u.a_off + z * u.a_bs) / 4u;
  let b0 = (u.b_off + z * u.b_bs) / 4u;
  let mlast = u.M - 1u; let nlast = u.N - 1u;
  var acc: array<vec4<f32>, RM * RN4>;
  for (var e = 0u; e < RM * RN4; e++) { acc[e] = vec4<f32>(0.0); }
  if (LAYOUT == 0u) {
    // acc[i][j] += Σ_t A[m_i, 4k4+t] · B[4k4+t, n-quad j]
    let L4 = u.L / 4u; let N4 = u.N / 4u;
    var ar: array<u32, RM>;
    for (var i = 0u; i < RM; i++) { ar[i] = a0 + min(m0 + i, mlast) * L4; }
    var bc: array<u32, RN4>;
    for (var j = 0u; j < RN4; j++) { bc[j] = b0 + min(n0 / 4u + j, N4 - 1u); }
    for (var k4 = 0u; k4 < L4; k4++) {
      var q: array<vec4<f32>, 4u * RN4>;
      for (var t = 0u; t < 4u; t++) {
        for (var j = 0u; j < RN4; j++) { q[t * RN4 + j] = B[bc[j] + (4u * k4 + t) * N4]; }
      }
      for (var i = 0u; i < RM; i++) {
        let p = A[ar[i] + k4];
        for (var j = 0u; j < RN4; j++) {
          acc[i * RN4 + j] += p.x * q[j] + p.y * q[RN4 + j] + p.z * q[2u * RN4 + j] + p.w * q[3u * RN4 + j];
        }
      }
    }
  } else if (LAYOUT == 1u) {
    // acc[i][j][t] += dot(A[m_i, k-quad], B[n_{4j+t}, k-quad])
    let L4 = u.L / 4u;
    var ar: array<u32, RM>;
    for (var i = 0u; i < RM; i++) { ar[i] = a0 + min(m0 + i, mlast) * L4; }
    var br: array<u32, RN>;
    for (var j = 0u; j < RN; j++) { br[j] = b0 + min(n0 + j, nlast) * L4; }
    for (var k4 = 0u; k4 < L4; k4++) {
      var q: array<vec4<f32>, RN>;
      for (var j = 0u; j < RN; j++) { q[j] = B[br[j] + k4]; }
      for (var i = 0u; i < RM; i++) {
        let p = A[ar[i] + k4];
        for (var j = 0u; j < RN4; j++) {
          acc[i * RN4 + j] += vec4<f32>(dot(p, q[4u * j]), dot(p, q[4u * j + 1u]), dot(p, q[4u * j + 2u]), dot(p, q[4u * j + 3u]));
        }
      }
    }
  } else {
    // acc[i][j] += A[k, m_i] · B[k, n-quad j], one outer product per k
    let M4 = u.M / 4u; let N4 = u.N / 4u;
    var ac: array<u32, RM / 4u>;
    for (var i4 = 0u; i4 < RM / 4u; i4++) { ac[i4] = a0 + min(m0 / 4u + i4, M4 - 1u); }
    var bc: array<u32, RN4>;
    for (var j = 0u; j < RN4; j++) { bc[j] = b0 + min(n0 / 4u + j, N4 - 1u); }
    for (var k = 0u; k < u.L; k++) {
      var q: array<vec4<f32>, RN4>;
      for (var j = 0u; j < RN4; j++) { q[j] = B[bc[j] + k * N4]; }
      for (var i4 = 0u; i4 < RM / 4u; i4++) {
        let p = A[ac[i4] + k * M4];
        for (var j = 0u; j < RN4; j++) {
          acc[(4u * i4) * RN4 + j] += p.x * q[j];
          acc[(4u * i4 + 1u) * RN4 + j] += p.y * q[j];
          acc[(4u * i4 + 2u) * RN4 + j] += p.z * q[j];
          acc[(4u * i4 + 3u) * RN4 + j] += p.w * q[j];
        }
      }
    }
  }
  for (var i = 0u; i < RM; i++) {
    for (var j = 0u; j < RN4; j++) { store4(z, m0 + i, n0 + 4u * j, acc[i * RN4 + j]); }
  }
}
