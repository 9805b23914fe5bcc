// Conv weight (and bias) gradient as implicit GEMM (conv_common.wgsl):
//   DW[z] [Cout,Cin,KH,KW] (+)= Σ_{b,oh,ow} DY[z][b,co,oh,ow] · X[z][b,ci,oh·s+i−pH,ow·s+j−pW]
//   DB[z] [Cout] (+)= Σ_{b,oh,ow} DY[z][b,co,oh,ow]      (with a bias: column n = Lw, B ≡ 1)
// rows m = co, columns n = (ci, i, j) (N = Lw, + 1 with a bias), reduction k = (b, oh, ow).
// The reduction (L = B·Ho·Wo, long) is split into S chunks of `chunk`:
// workgroup z = model·S + split. With F_SPLIT each chunk's sum goes to
// OUT = partials [K·S][M][N] and conv_dweight_sum adds them in split order;
// without it (S = 1) store() writes DW / DB directly. Deterministic either way.
// F_BIAS_IN_W: the bias gradient is a view of the weights' buffer (one flat
// gradient vector) and is written through OUT, since one buffer may not be
// bound writable twice in a dispatch.
@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(4) var<storage, read_write> DB: array<f32>;

fn model_of(zz: u32) -> u32 { return zz / u.S; }
fn k_first(zz: u32) -> u32 { return (zz % u.S) * u.chunk; }
fn k_last(zz: u32) -> u32 { return min(u.L, k_first(zz) + u.chunk); }

// Output channel m: its dy plane in example 0.
struct ARow { base: u32, ok: bool }
fn a_row(z: u32, m: u32) -> ARow { return ARow(u.y_off + z * u.y_bs + m * u.Ho * u.Wo, m < u.M); }

// Reduction index k = (b, oh, ow): offsets of example b and the window corner.
struct Tap { yk: u32, xb: u32, ih0: i32, iw0: i32, ok: bool }
fn tap(k: u32, kend: u32) -> Tap {
  let P = u.Ho * u.Wo;
  let b = k / P; let p = k % P;
  return Tap(b * u.Cout * P + p, b * u.Cin * u.H * u.W,
             i32((p / u.Wo) * STRIDE) - i32(u.padH), i32((p % u.Wo) * STRIDE) - i32(u.padW), k < kend);
}

fn a_at(r: ARow, t: Tap) -> f32 {
  if (r.ok && t.ok) { return DY[r.base + t.yk]; }
  return 0.0;
}

// Column n = (ci, i, j), or the bias column n = Lw.
struct BCol { base: u32, i: i32, j: i32, one: bool, ok: bool }
fn b_col(z: u32, n: u32) -> BCol {
  let r = n % KHW;
  return BCol(u.x_off + z * u.x_bs + (n / KHW) * u.H * u.W, i32(r / KW), i32(r % KW), n == u.Lw, n < u.N);
}
fn b_at(c: BCol, t: Tap) -> f32 {
  if (!(c.ok && t.ok)) { return 0.0; }
  if (c.one) { return 1.0; }
  let ih = t.ih0 + c.i; let iw = t.iw0 + c.j;
  if (inside(ih, u.H) && inside(iw, u.W)) { return X[c.base + t.xb + u32(ih) * u.W + u32(iw)]; }
  return 0.0;
}

fn store(zz: u32, z: u32, m: u32, n: u32, acc: f32) {
  if (has(F_SPLIT)) { OUT[(zz * u.M + m) * u.N + n] = acc; return; }
  if (n < u.Lw) {
    let i = u.w_off + z * u.w_bs + m * u.Lw + n;
    var v = acc;
    if (has(F_ACCUM)) { v += OUT[i]; }
    OUT[i] = v;
  } else {
    let i = u.b_off + z * u.b_bs + m;
    var v = acc;
    if (has(F_BIAS_IN_W)) {
      if (has(F_ACCUM)) { v += OUT[i]; }
      OUT[i] = v;
    } else {
      if (has(F_ACCUM)) { v += DB[i]; }
      DB[i] = v;
    }
  }
}
