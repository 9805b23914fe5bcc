// Shared-memory tiled conv kernel (the real-GPU shape, as matmul_tiled): a
// (4·WG_Y) × (4·WG_X) tile of the GEMM view (conv_common.wgsl) per
// workgroup, 4×4 per invocation, stepping TK along the reduction. The
// workgroup gathers the A tile [TK][BM] and B tile [TK][BN] once into shared
// memory. Each invocation always loads the same row of A and column of B, so
// their address parts are decoded once, outside the reduction loop; the TK
// taps of a step (dweight's need two divisions by runtime sizes) are decoded
// once per workgroup into shared memory, during the previous step's
// products. Neighbouring invocations load neighbouring rows, i.e.
// neighbouring pixels.
// Needs WG_X and WG_Y multiples of 4, so that NT is a multiple of BM and BN
// (the host's variant list keeps to that).
// Tiles are numbered n-fastest over the x and y workgroup axes; workgroup z
// is the model (dweight: and split).
const BM: u32 = WG_Y * 4u;
const BN: u32 = WG_X * 4u;
const NT: u32 = WG_X * WG_Y;
const TILE_M: u32 = BM;
const TILE_N: u32 = BN;
const A_STEP: u32 = NT / BM; // k rows of the A tile one pass of the workgroup loads
const B_STEP: u32 = NT / BN;
var<workgroup> As: array<f32, BM * TK>; // [TK][BM]
var<workgroup> Bs: array<f32, BN * TK>; // [TK][BN]
var<workgroup> Ts: array<Tap, TK>;       // the current step's taps

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>,
        @builtin(num_workgroups) nw: vec3<u32>) {
  let zz = wg.z; let z = model_of(zz);
  let tn = (u.N + BN - 1u) / BN;
  let tile = wg.y * nw.x + wg.x;
  if (tile >= tn * ((u.M + BM - 1u) / BM)) { return; } // uniform per workgroup
  let mb = (tile / tn) * BM; let nb = (tile % tn) * BN;
  let tid = l.y * WG_X + l.x;
  let am = tid % BM; let ak = tid / BM;
  let bn = tid % BN; let bk = tid / BN;
  let ar = a_row(z, mb + am);
  let bc = b_col(z, nb + bn);
  var acc: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }
  let kb = k_first(zz); let ke = k_last(zz);
  if (tid < TK) { Ts[tid] = tap(kb + tid, ke); }
  workgroupBarrier();
  for (var k0 = kb; k0 < ke; k0 += TK) {
    for (var kk = ak; kk < TK; kk += A_STEP) { As[kk * BM + am] = a_at(ar, Ts[kk]); }
    for (var kk = bk; kk < TK; kk += B_STEP) { Bs[kk * BN + bn] = b_at(bc, Ts[kk]); }
    workgroupBarrier();
    // Ts is not read again this step: decode the next step's taps now.
    if (tid < TK) { Ts[tid] = tap(k0 + TK + tid, ke); }
    for (var kk = 0u; kk < TK; kk++) {
      let b = vec4<f32>(Bs[kk * BN + l.x * 4u], Bs[kk * BN + l.x * 4u + 1u],
                        Bs[kk * BN + l.x * 4u + 2u], Bs[kk * BN + l.x * 4u + 3u]);
      for (var i = 0u; i < 4u; i++) { acc[i] += As[kk * BM + l.y * 4u + i] * b; }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = mb + l.y * 4u + i;
    if (m >= u.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = nb + l.x * 4u + j;
      if (n < u.N) { store(zz, z, m, n, acc[i][j]); }
    }
  }
}
