// The 8×8 instance of matmul_vec4 written out with named registers: an
// invocation owns rows m0..m0+7 × columns n0..n0+7 of C as c<row>_<column
// quad>, reading A and B as vec4 (declarations and alignment rules:
// matmul_vec4_common.wgsl). SwiftShader's JIT does not unroll loops, so the
// arrays of matmul_vec4 stay in memory there; named variables stay in
// registers, which makes this 2–3× faster than matmul_reg on SwiftShader.
// Lavapipe unrolls either form. Mechanical by construction: keep the three
// layouts' loops in step with matmul_vec4.wgsl.

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let z = g.z;
  let m0 = g.y * 8u; let n0 = g.x * 8u;
  if (m0 >= u.M || n0 >= u.N) { return; }
  // Operand bases in vec4 units.
  let a0 = (u.a_off + z * u.a_bs) / 4u;
  let b0 = (u.b_off + z * u.b_bs) / 4u;
  let mlast = u.M - 1u; let nlast = u.N - 1u;
  var c0_0 = vec4<f32>(0.0); var c0_1 = vec4<f32>(0.0);
  var c1_0 = vec4<f32>(0.0); var c1_1 = vec4<f32>(0.0);
  var c2_0 = vec4<f32>(0.0); var c2_1 = vec4<f32>(0.0);
  var c3_0 = vec4<f32>(0.0); var c3_1 = vec4<f32>(0.0);
  var c4_0 = vec4<f32>(0.0); var c4_1 = vec4<f32>(0.0);
  var c5_0 = vec4<f32>(0.0); var c5_1 = vec4<f32>(0.0);
  var c6_0 = vec4<f32>(0.0); var c6_1 = vec4<f32>(0.0);
  var c7_0 = vec4<f32>(0.0); var c7_1 = vec4<f32>(0.0);
  if (LAYOUT == 0u) {
    // c_ij += Σ_t A[m_i, 4k4+t] · B[4k4+t, n-quad j]
    let L4 = u.L / 4u; let N4 = u.N / 4u;
    let ar0 = a0 + min(m0 + 0u, mlast) * L4; let ar1 = a0 + min(m0 + 1u, mlast) * L4; let ar2 = a0 + min(m0 + 2u, mlast) * L4; let ar3 = a0 + min(m0 + 3u, mlast) * L4;
    let ar4 = a0 + min(m0 + 4u, mlast) * L4; let ar5 = a0 + min(m0 + 5u, mlast) * L4; let ar6 = a0 + min(m0 + 6u, mlast) * L4; let ar7 = a0 + min(m0 + 7u, mlast) * L4;
    let bc0 = b0 + min(n0 / 4u + 0u, N4 - 1u); let bc1 = b0 + min(n0 / 4u + 1u, N4 - 1u);
    for (var k4 = 0u; k4 < L4; k4++) {
      let kb = 4u * k4 * N4;
      let q0_0 = B[bc0 + kb + 0u * N4]; let q0_1 = B[bc1 + kb + 0u * N4];
      let q1_0 = B[bc0 + kb + 1u * N4]; let q1_1 = B[bc1 + kb + 1u * N4];
      let q2_0 = B[bc0 + kb + 2u * N4]; let q2_1 = B[bc1 + kb + 2u * N4];
      let q3_0 = B[bc0 + kb + 3u * N4]; let q3_1 = B[bc1 + kb + 3u * N4];
      let p0 = A[ar0 + k4];
      c0_0 += p0.x * q0_0 + p0.y * q1_0 + p0.z * q2_0 + p0.w * q3_0;
      c0_1 += p0.x * q0_1 + p0.y * q1_1 + p0.z * q2_1 + p0.w * q3_1;
      let p1 = A[ar1 + k4];
      c1_0 += p1.x * q0_0 + p1.y * q1_0 + p1.z * q2_0 + p1.w * q3_0;
      c1_1 += p1.x * q0_1 + p1.y * q1_1 + p1.z * q2_1 + p1.w * q3_1;
      let p2 = A[ar2 + k4];
      c2_0 += p2.x * q0_0 + p2.y * q1_0 + p2.z * q2_0 + p2.w * q3_0;
      c2_1 += p2.x * q0_1 + p2.y * q1_1 + p2.z * q2_1 + p2.w * q3_1;
      let p3 = A[ar3 + k4];
      c3_0 += p3.x * q0_0 + p3.y * q1_0 + p3.z * q2_0 + p3.w * q3_0;
      c3_1 += p3.x * q0_1 + p3.y * q1_1 + p3.z * q2_1 + p3.w * q3_1;
      let p4 = A[ar4 + k4];
      c4_0 += p4.x * q0_0 + p4.y * q1_0 + p4.z * q2_0 + p4.w * q3_0;
      c4_1 += p4.x * q0_1 + p4.y * q1_1 + p4.z * q2_1 + p4.w * q3_1;
      let p5 = A[ar5 + k4];
      c5_0 += p5.x * q0_0 + p5.y * q1_0 + p5.z * q2_0 + p5.w * q3_0;
      c5_1 += p5.x * q0_1 + p5.y * q1_1 + p5.z * q2_1 + p5.w * q3_1;
      let p6 = A[ar6 + k4];
      c6_0 += p6.x * q0_0 + p6.y * q1_0 + p6.z * q2_0 + p6.w * q3_0;
      c6_1 += p6.x * q0_1 + p6.y * q1_1 + p6.z * q2_1 + p6.w * q3_1;
      let p7 = A[ar7 + k4];
      c7_0 += p7.x * q0_0 + p7.y * q1_0 + p7.z * q2_0 + p7.w * q3_0;
      c7_1 += p7.x * q0_1 + p7.y * q1_1 + p7.z * q2_1 + p7.w * q3_1;
    }
  } else if (LAYOUT == 1u) {
    // c_ij[t] += dot(A[m_i, k-quad], B[n_{4j+t}, k-quad])
    let L4 = u.L / 4u;
    let ar0 = a0 + min(m0 + 0u, mlast) * L4; let ar1 = a0 + min(m0 + 1u, mlast) * L4; let ar2 = a0 + min(m0 + 2u, mlast) * L4; let ar3 = a0 + min(m0 + 3u, mlast) * L4;
    let ar4 = a0 + min(m0 + 4u, mlast) * L4; let ar5 = a0 + min(m0 + 5u, mlast) * L4; let ar6 = a0 + min(m0 + 6u, mlast) * L4; let ar7 = a0 + min(m0 + 7u, mlast) * L4;
    let br0 = b0 + min(n0 + 0u, nlast) * L4; let br1 = b0 + min(n0 + 1u, nlast) * L4; let br2 = b0 + min(n0 + 2u, nlast) * L4; let br3 = b0 + min(n0 + 3u, nlast) * L4;
    let br4 = b0 + min(n0 + 4u, nlast) * L4; let br5 = b0 + min(n0 + 5u, nlast) * L4; let br6 = b0 + min(n0 + 6u, nlast) * L4; let br7 = b0 + min(n0 + 7u, nlast) * L4;
    for (var k4 = 0u; k4 < L4; k4++) {
      let q0 = B[br0 + k4]; let q1 = B[br1 + k4]; let q2 = B[br2 + k4]; let q3 = B[br3 + k4];
      let q4 = B[br4 + k4]; let q5 = B[br5 + k4]; let q6 = B[br6 + k4]; let q7 = B[br7 + k4];
      let p0 = A[ar0 + k4];
      c0_0 += vec4<f32>(dot(p0, q0), dot(p0, q1), dot(p0, q2), dot(p0, q3));
      c0_1 += vec4<f32>(dot(p0, q4), dot(p0, q5), dot(p0, q6), dot(p0, q7));
      let p1 = A[ar1 + k4];
      c1_0 += vec4<f32>(dot(p1, q0), dot(p1, q1), dot(p1, q2), dot(p1, q3));
      c1_1 += vec4<f32>(dot(p1, q4), dot(p1, q5), dot(p1, q6), dot(p1, q7));
      let p2 = A[ar2 + k4];
      c2_0 += vec4<f32>(dot(p2, q0), dot(p2, q1), dot(p2, q2), dot(p2, q3));
      c2_1 += vec4<f32>(dot(p2, q4), dot(p2, q5), dot(p2, q6), dot(p2, q7));
      let p3 = A[ar3 + k4];
      c3_0 += vec4<f32>(dot(p3, q0), dot(p3, q1), dot(p3, q2), dot(p3, q3));
      c3_1 += vec4<f32>(dot(p3, q4), dot(p3, q5), dot(p3, q6), dot(p3, q7));
      let p4 = A[ar4 + k4];
      c4_0 += vec4<f32>(dot(p4, q0), dot(p4, q1), dot(p4, q2), dot(p4, q3));
      c4_1 += vec4<f32>(dot(p4, q4), dot(p4, q5), dot(p4, q6), dot(p4, q7));
      let p5 = A[ar5 + k4];
      c5_0 += vec4<f32>(dot(p5, q0), dot(p5, q1), dot(p5, q2), dot(p5, q3));
      c5_1 += vec4<f32>(dot(p5, q4), dot(p5, q5), dot(p5, q6), dot(p5, q7));
      let p6 = A[ar6 + k4];
      c6_0 += vec4<f32>(dot(p6, q0), dot(p6, q1), dot(p6, q2), dot(p6, q3));
      c6_1 += vec4<f32>(dot(p6, q4), dot(p6, q5), dot(p6, q6), dot(p6, q7));
      let p7 = A[ar7 + k4];
      c7_0 += vec4<f32>(dot(p7, q0), dot(p7, q1), dot(p7, q2), dot(p7, q3));
      c7_1 += vec4<f32>(dot(p7, q4), dot(p7, q5), dot(p7, q6), dot(p7, q7));
    }
  } else {
    // c_ij += A[k, m_i] · B[k, n-quad j], one outer product per k
    let M4 = u.M / 4u; let N4 = u.N / 4u;
    let ac0 = a0 + min(m0 / 4u + 0u, M4 - 1u); let ac1 = a0 + min(m0 / 4u + 1u, M4 - 1u);
    let bc0 = b0 + min(n0 / 4u + 0u, N4 - 1u); let bc1 = b0 + min(n0 / 4u + 1u, N4 - 1u);
    for (var k = 0u; k < u.L; k++) {
      let q0 = B[bc0 + k * N4]; let q1 = B[bc1 + k * N4];
      let p0 = A[ac0 + k * M4];
      c0_0 += p0.x * q0; c0_1 += p0.x * q1;
      c1_0 += p0.y * q0; c1_1 += p0.y * q1;
      c2_0 += p0.z * q0; c2_1 += p0.z * q1;
      c3_0 += p0.w * q0; c3_1 += p0.w * q1;
      let p1 = A[ac1 + k * M4];
      c4_0 += p1.x * q0; c4_1 += p1.x * q1;
      c5_0 += p1.y * q0; c5_1 += p1.y * q1;
      c6_0 += p1.z * q0; c6_1 += p1.z * q1;
      c7_0 += p1.w * q0; c7_1 += p1.w * q1;
    }
  }
  store4(z, m0 + 0u, n0 + 0u, c0_0); store4(z, m0 + 0u, n0 + 4u, c0_1);
  store4(z, m0 + 1u, n0 + 0u, c1_0); store4(z, m0 + 1u, n0 + 4u, c1_1);
  store4(z, m0 + 2u, n0 + 0u, c2_0); store4(z, m0 + 2u, n0 + 4u, c2_1);
  store4(z, m0 + 3u, n0 + 0u, c3_0); store4(z, m0 + 3u, n0 + 4u, c3_1);
  store4(z, m0 + 4u, n0 + 0u, c4_0); store4(z, m0 + 4u, n0 + 4u, c4_1);
  store4(z, m0 + 5u, n0 + 0u, c5_0); store4(z, m0 + 5u, n0 + 4u, c5_1);
  store4(z, m0 + 6u, n0 + 0u, c6_0); store4(z, m0 + 6u, n0 + 4u, c6_1);
  store4(z, m0 + 7u, n0 + 0u, c7_0); store4(z, m0 + 7u, n0 + 4u, c7_1);
}
