// 2-d max / average pooling over K models (NCHW), PoolOp in core/ts/backend/types.ts:
//   X [B,C,H,W] fixes max's routing: each window's first maximum in row-major
//   order (−∞ padding: padded taps never win); avg divides by KH·KW
//   (count_include_pad), padded taps adding 0.
//   MODE 0 (forward, tangent): DST [B,C,Ho,Wo] = pool along the routes of SRC
//     [B,C,H,W] (forward: the host binds SRC = X)
//   MODE 1 (backward, gather form): DST [B,C,H,W] = Jᵀ SRC [B,C,Ho,Wo]: each
//     input element loops over the windows containing it, in (oh, ow) order,
//     and (max) takes SRC where the window routes to it. Deterministic.
// One invocation per DST element of the K·per_model (grid.wgsl pitch).
// RELU_MASK (max; tangent, backward): X is a ReLU's output and its derivative
//   [X > 0] multiplies SRC at the route (tangent) or DST at the input (backward).
// ROUTE (max 2×2 stride 2; tangent, backward): X binds route codes
//   [B,C,Ho,Wo], j + 4·m (j the window's route, m the ReLU's derivative there;
//   core/wasm/conv-pool.ts), in place of the activation.
//   MODE 2: DST [B,C,Ho,Wo] = the route codes of X (a ReLU's output).
// Constants: MAX (bool), MODE, ACCUM, RELU_MASK, and the window KH, KW, STRIDE, PAD
// (a network has few pooling shapes; constant strides make the backward's
// window-range divisions cheap, and the window loops unroll).
struct Params {
  n: u32, per_model: u32, pitch: u32, C: u32,
  H: u32, W: u32, Ho: u32, Wo: u32,
  x_off: u32, x_bs: u32, s_off: u32, s_bs: u32,
  d_off: u32, d_bs: u32, _p0: u32, _p1: u32,
}
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> SRC: array<f32>;
@group(0) @binding(3) var<storage, read_write> DST: array<f32>;

// The in-plane index (ih·W + iw) of window (oh, ow)'s first maximum in the
// X plane at `base`; 0xffffffff if the window holds no value above −∞.
fn argmax(base: u32, oh: u32, ow: u32) -> u32 {
  var best = 0.0; var arg = 0xffffffffu; var seen = false;
  for (var i = 0u; i < KH; i++) {
    let ih = i32(oh * STRIDE + i) - i32(PAD);
    if (ih < 0 || ih >= i32(u.H)) { continue; }
    for (var j = 0u; j < KW; j++) {
      let iw = i32(ow * STRIDE + j) - i32(PAD);
      if (iw < 0 || iw >= i32(u.W)) { continue; }
      let e = u32(ih) * u.W + u32(iw);
      let v = X[base + e];
      if (!seen || v > best) { best = v; arg = e; seen = true; }
    }
  }
  return arg;
}

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let t = flat_index(g, u.pitch);
  if (t >= u.n) { return; }
  let z = t / u.per_model; let e = t % u.per_model;
  let HW = u.H * u.W; let P = u.Ho * u.Wo;
  var v = 0.0;
  if (MODE == 2u) {
    let bc = e / P; let p = e % P; let oh = p / u.Wo; let ow = p % u.Wo;
    let xbase = u.x_off + z * u.x_bs + bc * HW;
    let a = argmax(xbase, oh, ow);
    let j = (a / u.W - oh * 2u) * 2u + (a % u.W - ow * 2u);
    v = f32(j + select(0u, 4u, X[xbase + a] > 0.0));
  } else if (MODE == 0u) {
    let bc = e / P; let p = e % P; let oh = p / u.Wo; let ow = p % u.Wo;
    let sbase = u.s_off + z * u.s_bs + bc * HW;
    if (ROUTE) {
      let c = u32(X[u.x_off + z * u.x_bs + e]); let j = c & 3u;
      v = f32(c >> 2u) * SRC[sbase + (oh * 2u + j / 2u) * u.W + ow * 2u + j % 2u];
    } else if (MAX) {
      let a = argmax(u.x_off + z * u.x_bs + bc * HW, oh, ow);
      if (a != 0xffffffffu) {
        v = SRC[sbase + a];
        if (RELU_MASK) { v = select(0.0, 1.0, X[u.x_off + z * u.x_bs + bc * HW + a] > 0.0) * v; }
      }
    } else {
      for (var i = 0u; i < KH; i++) {
        let ih = i32(oh * STRIDE + i) - i32(PAD);
        if (ih < 0 || ih >= i32(u.H)) { continue; }
        for (var j = 0u; j < KW; j++) {
          let iw = i32(ow * STRIDE + j) - i32(PAD);
          if (iw >= 0 && iw < i32(u.W)) { v += SRC[sbase + u32(ih) * u.W + u32(iw)]; }
        }
      }
      v /= f32(KH * KW);
    }
  } else {
    let bc = e / HW; let q = e % HW; let ih = q / u.W; let iw = q % u.W;
    let xbase = u.x_off + z * u.x_bs + bc * HW;
    let sbase = u.s_off + z * u.s_bs + bc * P;
    // Windows containing row ih: oh·stride ≤ ih + pad ≤ oh·stride + kh − 1.
    let hp = ih + PAD; let wp = iw + PAD;
    let oh0 = select(0u, (hp + 1u - KH + STRIDE - 1u) / STRIDE, hp + 1u > KH);
    let ow0 = select(0u, (wp + 1u - KW + STRIDE - 1u) / STRIDE, wp + 1u > KW);
    let oh1 = min(hp / STRIDE + 1u, u.Ho); let ow1 = min(wp / STRIDE + 1u, u.Wo);
    // ROUTE: the ReLU's derivative at the route, times the sum from 0 (as the unfused dmul after it).
    var mr = 1.0;
    for (var oh = oh0; oh < oh1; oh++) {
      for (var ow = ow0; ow < ow1; ow++) {
        if (ROUTE) {
          let c = u32(X[u.x_off + z * u.x_bs + bc * P + oh * u.Wo + ow]);
          if ((c & 3u) == (ih - oh * 2u) * 2u + iw - ow * 2u) { v += SRC[sbase + oh * u.Wo + ow]; mr = f32(c >> 2u); }
        } else if (MAX) {
          if (argmax(xbase, oh, ow) == q) { v += SRC[sbase + oh * u.Wo + ow]; }
        } else {
          v += SRC[sbase + oh * u.Wo + ow];
        }
      }
    }
    if (!MAX) { v /= f32(KH * KW); }
    if (RELU_MASK) { v = select(0.0, 1.0, X[xbase + q] > 0.0) * v; }
    if (ROUTE) { v = mr * v; }
  }
  let d = u.d_off + z * u.d_bs + e;
  if (ACCUM) { v += DST[d]; }
  DST[d] = v;
}
