// Conv forward as implicit GEMM (conv_common.wgsl):
//   Y[z] [B,Cout,Ho,Wo] (+)= conv(X[z] [B,Cin,H,W], Wt[z] [Cout,Cin,KH,KW]) (+ BIAS[z][co])
// rows m = (b, oh, ow), columns n = co, reduction k = (ci, i, j).
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<storage, read> BIAS: array<f32>;

fn model_of(zz: u32) -> u32 { return zz; }
fn k_first(zz: u32) -> u32 { return 0u; }
fn k_last(zz: u32) -> u32 { return u.L; }

// Output position m: its example's image base and the window's top-left corner.
struct ARow { base: u32, ih0: i32, iw0: i32, ok: bool }
fn a_row(z: u32, m: u32) -> ARow {
  let P = u.Ho * u.Wo;
  let b = m / P; let p = m % P;
  return ARow(u.x_off + z * u.x_bs + b * u.Cin * u.H * u.W,
              i32((p / u.Wo) * STRIDE) - i32(u.padH), i32((p % u.Wo) * STRIDE) - i32(u.padW), m < u.M);
}

// Tap k = (ci, i, j).
struct Tap { k: u32, plane: u32, i: i32, j: i32, ok: bool }
fn tap(k: u32, kend: u32) -> Tap {
  let r = k % KHW;
  return Tap(k, (k / KHW) * u.H * u.W, i32(r / KW), i32(r % KW), k < kend);
}

fn a_at(r: ARow, t: Tap) -> f32 {
  let ih = r.ih0 + t.i; let iw = r.iw0 + t.j;
  if (r.ok && t.ok && inside(ih, u.H) && inside(iw, u.W)) { return X[r.base + t.plane + u32(ih) * u.W + u32(iw)]; }
  return 0.0;
}

// Output channel n: its filter row w[n, :, :, :].
struct BCol { base: u32, ok: bool }
fn b_col(z: u32, n: u32) -> BCol { return BCol(u.w_off + z * u.w_bs + n * u.L, n < u.N); }
fn b_at(c: BCol, t: Tap) -> f32 {
  if (c.ok && t.ok) { return Wt[c.base + t.k]; }
  return 0.0;
}

fn store(zz: u32, z: u32, m: u32, n: u32, acc: f32) {
  let P = u.Ho * u.Wo;
  let i = u.y_off + z * u.y_bs + ((m / P) * u.Cout + n) * P + m % P;
  var v = acc;
  if (has(F_ACCUM)) { v += Y[i]; }
  if (has(F_BIAS)) { v += BIAS[u.b_off + z * u.b_bs + n]; }
  Y[i] = v;
}
