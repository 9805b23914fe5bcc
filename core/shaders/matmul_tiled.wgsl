// Shared-memory tiles with 4×4 register blocking: a (4·WG_Y)×(4·WG_X) tile of
// C per workgroup, stepping TK along the reduction. The fast shape on real
// GPUs. Tiles are read from global memory along each operand's contiguous
// axis so neighbouring invocations touch neighbouring addresses.
const BM: u32 = WG_Y * 4u;
const BN: u32 = WG_X * 4u;
const NT: u32 = WG_X * WG_Y;
var<workgroup> As: array<f32, BM * TK>; // [TK][BM]
var<workgroup> Bs: array<f32, BN * TK>; // [TK][BN]

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let z = wg.z;
  let tid = l.y * WG_X + l.x;
  let mb = wg.y * BM; let nb = wg.x * BN;
  var acc: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }
  for (var k0 = 0u; k0 < u.L; k0 += TK) {
    for (var e = tid; e < BM * TK; e += NT) {
      var mm: u32; var kk: u32;
      if (LAYOUT == 2u) { kk = e / BM; mm = e % BM; } else { mm = e / TK; kk = e % TK; }
      let m = mb + mm; let k = k0 + kk;
      var v = 0.0;
      if (m < u.M && k < u.L) { v = A[a_index(z, m, k)]; }
      As[kk * BM + mm] = v;
    }
    for (var e = tid; e < BN * TK; e += NT) {
      var nn: u32; var kk: u32;
      if (LAYOUT == 1u) { nn = e / TK; kk = e % TK; } else { kk = e / BN; nn = e % BN; }
      let n = nb + nn; let k = k0 + kk;
      var v = 0.0;
      if (n < u.N && k < u.L) { v = B[b_index(z, k, n)]; }
      Bs[kk * BN + nn] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let b = vec4<f32>(Bs[kk * BN + l.x * 4u], Bs[kk * BN + l.x * 4u + 1u],
                        Bs[kk * BN + l.x * 4u + 2u], Bs[kk * BN + l.x * 4u + 3u]);
      for (var i = 0u; i < 4u; i++) {
        acc[i] += As[kk * BM + l.y * 4u + i] * b;
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = mb + l.y * 4u + i;
    if (m >= u.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = nb + l.x * 4u + j;
      if (n < u.N) { store_c(z, m, n, acc[i][j]); }
    }
  }
}
