// BatchNorm in training mode over K models (BatchNormOp in core/ts/backend/types.ts).
//   X, DY, RX, RDY, OUT [K][B, C, S] (S = H·W; 1 for BatchNorm1d), each with
//   its own offset and per-model stride; W, V, G [K][2C] = [γ, β] at their
//   offsets. One workgroup of WG invocations per (channel c, model z): the
//   B·S elements of c are strided over the invocations, then summed by a
//   fixed tree in workgroup memory, so the result does not depend on K.
// MODE 0 forward   OUT = γ x̂ + β
// MODE 1 backward  OUT = dx (HAS_OUT), G (+)= [Σ dy x̂, Σ dy] (HAS_G)
// MODE 2 tangent   OUT = γ rx̂ + v_γ x̂ + v_β (rx̂ = 0 without HAS_RX)
// MODE 3 rbackward OUT = rdx (HAS_OUT), G (+)= (Hv)_{γ,β}; GN drops the dy·tangent terms
// MODE 0 with HAS_G: G = [running_mean, running_var] updated in place, PyTorch's
//   train() rule (momentum 0.1, the variance unbiased by n/(n−1))
// (derivation: core/ts/nn/layers/batchnorm.ts; the Wasm twin: core/wasm/batchnorm.ts).
struct Params {
  B: u32, C: u32, S: u32, eps: f32,
  x_off: u32, x_bs: u32, w_off: u32, w_bs: u32,
  v_off: u32, v_bs: u32, dy_off: u32, dy_bs: u32,
  rx_off: u32, rx_bs: u32, rdy_off: u32, rdy_bs: u32,
  o_off: u32, o_bs: u32, g_off: u32, g_bs: u32,
}
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read> DY: array<f32>;
@group(0) @binding(5) var<storage, read> RX: array<f32>;
@group(0) @binding(6) var<storage, read> RDY: array<f32>;
@group(0) @binding(7) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(8) var<storage, read_write> G: array<f32>;

const WG = 64u;
const NS = 7u;
var<workgroup> red: array<f32, 448>; // WG × NS partial sums

/** Element e (of B·S) of channel c in a [B, C, S] block: its index within the model's block. */
fn idx(c: u32, e: u32) -> u32 { let b = e / u.S; return (b * u.C + c) * u.S + (e - b * u.S); }

/** Sums slots 0..k-1 of red over the workgroup (tree, fixed order); every invocation gets the totals in red[0..k). */
fn tree(t: u32, k: u32) {
  for (var h = WG / 2u; h > 0u; h = h / 2u) {
    workgroupBarrier();
    if (t < h) { for (var j = 0u; j < k; j++) { red[t * NS + j] += red[(t + h) * NS + j]; } }
  }
  workgroupBarrier();
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
  let c = wg.x; let z = wg.y; let t = li.x;
  let n = u.B * u.S; let fn_ = f32(n);
  let xb = u.x_off + z * u.x_bs;
  var s = 0.0;
  for (var e = t; e < n; e += WG) { s += X[xb + idx(c, e)]; }
  red[t * NS] = s;
  tree(t, 1u);
  let mu = red[0] / fn_;
  workgroupBarrier();
  s = 0.0;
  for (var e = t; e < n; e += WG) { let d = X[xb + idx(c, e)] - mu; s += d * d; }
  red[t * NS] = s;
  tree(t, 1u);
  let rs = inverseSqrt(red[0] / fn_ + u.eps);
  if (HAS_G && t == 0u && MODE == 0u) {
    var uv = red[0] / fn_; if (n > 1u) { uv = red[0] / f32(n - 1u); }
    let r0 = u.g_off + z * u.g_bs + c;
    G[r0] = 0.9 * G[r0] + 0.1 * mu; G[r0 + u.C] = 0.9 * G[r0 + u.C] + 0.1 * uv;
  }
  workgroupBarrier();
  let gamma = Wt[u.w_off + z * u.w_bs + c]; let beta = Wt[u.w_off + z * u.w_bs + u.C + c];
  var vg = 0.0; var vb = 0.0;
  if (MODE >= 2u) { vg = V[u.v_off + z * u.v_bs + c]; vb = V[u.v_off + z * u.v_bs + u.C + c]; }
  let wantDy = MODE == 1u || (MODE == 3u && !GN);
  let wantRx = HAS_RX && (MODE == 2u || (MODE == 3u && !GN));
  let db = u.dy_off + z * u.dy_bs; let rb = u.rx_off + z * u.rx_bs; let rdb = u.rdy_off + z * u.rdy_bs;
  // Slots: 0 Σdy, 1 Σdy x̂, 2 Σrx, 3 Σrx x̂, 4 Σdy rx, 5 Σrdy, 6 Σrdy x̂.
  var p = array<f32, 7>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
  if (MODE != 0u) {
    for (var e = t; e < n; e += WG) {
      let i = idx(c, e);
      let xh = (X[xb + i] - mu) * rs;
      if (wantDy) { let d = DY[db + i]; p[0] += d; p[1] += d * xh; if (wantRx) { p[4] += d * RX[rb + i]; } }
      if (wantRx) { let r = RX[rb + i]; p[2] += r; p[3] += r * xh; }
      if (MODE == 3u) { let d = RDY[rdb + i]; p[5] += d; p[6] += d * xh; }
    }
    for (var j = 0u; j < NS; j++) { red[t * NS + j] = p[j]; }
    tree(t, NS);
  }
  var sdy = 0.0; var sdyx = 0.0; var srx = 0.0; var srxx = 0.0; var sdyrx = 0.0; var srdy = 0.0; var srdyx = 0.0;
  if (MODE != 0u) { sdy = red[0]; sdyx = red[1]; srx = red[2]; srxx = red[3]; sdyrx = red[4]; srdy = red[5]; srdyx = red[6]; }
  // Σ dy·rx̂ (rx̂ the tangent of x̂), from the sums alone.
  let sdyrxh = rs * (sdyrx - sdy * srx / fn_ - sdyx * srxx / fn_);
  if (HAS_G && t == 0u && (MODE == 1u || MODE == 3u)) {
    var gg = sdyx; var gb = sdy;
    if (MODE == 3u) { gg = srdyx; if (wantRx) { gg += sdyrxh; } gb = srdy; }
    let g0 = u.g_off + z * u.g_bs + c; let g1 = g0 + u.C;
    if (ACCUM) { G[g0] += gg; G[g1] += gb; } else { G[g0] = gg; G[g1] = gb; }
  }
  if (!HAS_OUT) { return; }
  var hdy = vg; if (GN) { hdy = 0.0; }
  let sh = gamma * srdy + hdy * sdy; let shx = gamma * srdyx + hdy * sdyx;
  let a = gamma * sdyx / fn_; let bb = gamma * sdyrxh / fn_; let cc = srxx / fn_;
  let ob = u.o_off + z * u.o_bs;
  for (var e = t; e < n; e += WG) {
    let i = idx(c, e);
    let xh = (X[xb + i] - mu) * rs;
    var o = 0.0;
    if (MODE == 0u) { o = gamma * xh + beta; }
    else if (MODE == 1u) { o = gamma * rs * (DY[db + i] - sdy / fn_ - xh * sdyx / fn_); }
    else if (MODE == 2u) {
      o = vg * xh + vb;
      if (HAS_RX) { o += gamma * rs * (RX[rb + i] - srx / fn_ - xh * srxx / fn_); }
    } else {
      var dy = 0.0; if (wantDy) { dy = DY[db + i]; }
      let h = gamma * RDY[rdb + i] + hdy * dy;
      o = rs * (h - sh / fn_ - xh * shx / fn_);
      if (wantRx) {
        let rxh = rs * (RX[rb + i] - srx / fn_ - xh * srxx / fn_);
        let dx = gamma * rs * (dy - sdy / fn_ - xh * sdyx / fn_);
        o -= rs * (rxh * a + xh * bb + dx * cc);
      }
    }
    OUT[ob + i] = o;
  }
}
