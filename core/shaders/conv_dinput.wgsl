// Conv input gradient (the transposed conv) as implicit GEMM in gather form
// (conv_common.wgsl): DX[z] [B,Cin,H,W] (+)= convᵀ(DY[z] [B,Cout,Ho,Wo], Wt[z] [Cout,Cin,KH,KW])
// rows m = (b, ih, iw), columns n = ci, reduction k = (co, i, j); a term
// exists where ih + padH − i = oh·STRIDE and iw + padW − j = ow·STRIDE with
// (oh, ow) inside the output. Each dx element is one invocation's own sum,
// in a fixed order: no atomics, deterministic.
@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;

fn model_of(zz: u32) -> u32 { return zz; }
fn k_first(zz: u32) -> u32 { return 0u; }
fn k_last(zz: u32) -> u32 { return u.L; }

// Input position m: its example's dy base and its padded coordinates.
struct ARow { base: u32, ihp: i32, iwp: i32, ok: bool }
fn a_row(z: u32, m: u32) -> ARow {
  let HW = u.H * u.W;
  let b = m / HW; let q = m % HW;
  return ARow(u.y_off + z * u.y_bs + b * u.Cout * u.Ho * u.Wo,
              i32(q / u.W + u.padH), i32(q % u.W + u.padW), m < u.M);
}

// Tap k = (co, i, j): dy plane of co, and the offset of (i, j) in a w[co, ci] filter.
struct Tap { plane: u32, i: i32, j: i32, wk: u32, ok: bool }
fn tap(k: u32, kend: u32) -> Tap {
  let co = k / KHW; let r = k % KHW;
  return Tap(co * u.Ho * u.Wo, i32(r / KW), i32(r % KW), co * u.Cin * KHW + r, k < kend);
}

fn a_at(r: ARow, t: Tap) -> f32 {
  let sh = r.ihp - t.i; let sw = r.iwp - t.j;
  if (!(r.ok && t.ok) || sh < 0 || sw < 0) { return 0.0; }
  let uh = u32(sh); let uw = u32(sw);
  if (STRIDE > 1u && (uh % STRIDE != 0u || uw % STRIDE != 0u)) { return 0.0; }
  let oh = uh / STRIDE; let ow = uw / STRIDE;
  if (oh >= u.Ho || ow >= u.Wo) { return 0.0; }
  return DY[r.base + t.plane + oh * u.Wo + ow];
}

// Input channel n: the base of its filters w[:, n, :, :].
struct BCol { base: u32, ok: bool }
fn b_col(z: u32, n: u32) -> BCol { return BCol(u.w_off + z * u.w_bs + n * KHW, n < u.N); }
fn b_at(c: BCol, t: Tap) -> f32 {
  if (c.ok && t.ok) { return Wt[c.base + t.wk]; }
  return 0.0;
}

fn store(zz: u32, z: u32, m: u32, n: u32, acc: f32) {
  let HW = u.H * u.W;
  let i = u.x_off + z * u.x_bs + ((m / HW) * u.Cin + n) * HW + m % HW;
  var v = acc;
  if (has(F_ACCUM)) { v += DX[i]; }
  DX[i] = v;
}
