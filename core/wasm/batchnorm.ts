// BatchNorm in training mode (BatchNormOp in core/ts/backend/types.ts): per
// model z and channel c, the B·S elements x[z][b, c, s] of x [K][B, C, S]
// (S = H·W; 1 for BatchNorm1d). Four sweeps per (z, c): μ, then σ² (two
// passes, as PyTorch, so a large mean does not cancel the variance), then the
// mode's channel sums, then the element-wise write. Sums are f64: a channel
// holds up to B·H·W terms, summed in four partials by position mod 4 (two
// f64x2 in SIMD builds, four f64 in the scalar one: the same order, see
// sums()), and each element's output is the same f64 arithmetic in SIMD lanes
// and scalar code, so every build gives the same bits. Threads take whole
// (z, c) channels (batchnormOp: contiguous runs of the K·C of them), so each
// channel's numbers are the same whatever the thread count, and K batched
// models give each model's numbers alone bit for bit.
//   mode 0 forward    out = γ x̂ + β
//   mode 1 backward   out = dx = γ/σ (dy − Σdy/n − x̂ Σdy x̂/n); g (+)= [Σ dy x̂, Σ dy]
//   mode 2 tangent    out = γ rx̂ + v_γ x̂ + v_β, rx̂ = (rx − Σrx/n − x̂ Σrx x̂/n)/σ
//   mode 3 rbackward  out = rdx, g (+)= (Hv)_{γ,β} (derivation: core/ts/nn/layers/batchnorm.ts)
//   mode 0 with g: g = [running_mean, running_var] updated in place, PyTorch's train() rule
//     (momentum 0.1, the variance unbiased by n/(n−1)).

const P_MODE = 0, P_B = 1, P_C = 2, P_S = 3, P_K = 4, P_EPS = 5, P_X = 6, P_XBS = 7, P_W = 8, P_WBS = 9, P_V = 10, P_VBS = 11,
  P_DY = 12, P_DYBS = 13, P_RX = 14, P_RXBS = 15, P_RDY = 16, P_RDYBS = 17, P_OUT = 18, P_OUTBS = 19, P_G = 20, P_GBS = 21,
  P_ACCUM = 22, P_GN = 23;

@inline function pi(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
/** Address of channel c's first element of example b in the model-z block of a [B, C, S] tensor at base with stride bs. */
@inline function row(base: usize, bs: i32, z: i32, C: i32, S: i32, c: i32, b: i32): usize {
  return base + ((<usize>z * <usize>bs + (<usize>b * <usize>C + <usize>c) * <usize>S) << 2);
}
@inline function ld(p: usize, s: i32): f64 { return <f64>load<f32>(p + (<usize>s << 2)); }

/** All K·C channels on the calling thread (the test hook and one-thread runs). */
export function batchnorm(params: usize): void {
  batchnormOp(params, 0, 1);
}

/** Thread tid's contiguous run of the K·C channels (each channel whole: its sums are serial). */
export function batchnormOp(params: usize, tid: u32, nthreads: u32): void {
  const C = pi(params, P_C), K = pi(params, P_K), jobs = <u64>K * <u64>C;
  const j0 = <i32>(jobs * <u64>tid / <u64>nthreads), j1 = <i32>(jobs * <u64>(tid + 1) / <u64>nthreads);
  for (let j = j0; j < j1; j++) channel(params, j / C, j % C);
}

// ---- Channel sums, in one order on every build --------------------------------------
// Element s < S4 = S & ~3 of each row goes to partial s mod 4, the row's last S mod 4
// elements (in order) to a tail sum; a sum is ((p0 + p1) + (p2 + p3)) + tail. SIMD builds
// hold p0..p3 as two f64x2 ([p0, p1], [p2, p3]), the scalar build as four f64: the same
// additions in the same order, so every build and thread count gives the same bits.
const T_X = 0, T_DEV2 = 1, T_PAIR = 2, T_PROD = 3;
// The results of sums(): Σ term, and for T_PAIR also Σ y·x̂.
let sumA: f64 = 0, sumB: f64 = 0;

// @ts-ignore: decorator
@inline function lo(v: v128): v128 { return f64x2.promote_low_f32x4(v); }
// @ts-ignore: decorator
@inline function hi(v: v128): v128 { return f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3)); }
// @ts-ignore: decorator
@inline function total(a0: v128, a1: v128, tail: f64): f64 {
  return ((f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1)) + (f64x2.extract_lane(a1, 0) + f64x2.extract_lane(a1, 1))) + tail;
}

/**
 * Over the channel's B rows of S elements: T_X Σx, T_DEV2 Σ(x − μ)², T_PAIR Σy and
 * Σy·x̂ (x̂ = (x − μ)·rs), T_PROD Σy·w. Results in sumA (and sumB).
 */
// @ts-ignore: decorator
@inline function sums(kind: i32, X: usize, xbs: i32, Y: usize, ybs: i32, W: usize, wbs: i32,
  z: i32, C: i32, S: i32, c: i32, B: i32, mu: f64, rs: f64): void {
  const S4 = S & ~3;
  let ta: f64 = 0, tb: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), b0 = f64x2.splat(0), b1 = f64x2.splat(0);
    const vmu = f64x2.splat(mu), vrs = f64x2.splat(rs);
    for (let b = 0; b < B; b++) {
      const px = row(X, xbs, z, C, S, c, b), py = row(Y, ybs, z, C, S, c, b), pw = row(W, wbs, z, C, S, c, b);
      for (let s = 0; s < S4; s += 4) {
        const o = <usize>s << 2;
        if (kind == T_X) {
          const v = v128.load(px + o);
          a0 = f64x2.add(a0, lo(v)); a1 = f64x2.add(a1, hi(v));
        } else if (kind == T_DEV2) {
          const v = v128.load(px + o);
          const d0 = f64x2.sub(lo(v), vmu), d1 = f64x2.sub(hi(v), vmu);
          a0 = f64x2.add(a0, f64x2.mul(d0, d0)); a1 = f64x2.add(a1, f64x2.mul(d1, d1));
        } else if (kind == T_PAIR) {
          const v = v128.load(px + o), y = v128.load(py + o);
          const y0 = lo(y), y1 = hi(y);
          a0 = f64x2.add(a0, y0); a1 = f64x2.add(a1, y1);
          b0 = f64x2.add(b0, f64x2.mul(y0, f64x2.mul(f64x2.sub(lo(v), vmu), vrs)));
          b1 = f64x2.add(b1, f64x2.mul(y1, f64x2.mul(f64x2.sub(hi(v), vmu), vrs)));
        } else {
          const y = v128.load(py + o), w = v128.load(pw + o);
          a0 = f64x2.add(a0, f64x2.mul(lo(y), lo(w))); a1 = f64x2.add(a1, f64x2.mul(hi(y), hi(w)));
        }
      }
      for (let s = S4; s < S; s++) {
        if (kind == T_X) ta += ld(px, s);
        else if (kind == T_DEV2) { const d = ld(px, s) - mu; ta += d * d; }
        else if (kind == T_PAIR) { const y = ld(py, s); ta += y; tb += y * ((ld(px, s) - mu) * rs); }
        else ta += ld(py, s) * ld(pw, s);
      }
    }
    sumA = total(a0, a1, ta);
    sumB = total(b0, b1, tb);
  } else {
    let a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0, b0: f64 = 0, b1: f64 = 0, b2: f64 = 0, b3: f64 = 0;
    for (let b = 0; b < B; b++) {
      const px = row(X, xbs, z, C, S, c, b), py = row(Y, ybs, z, C, S, c, b), pw = row(W, wbs, z, C, S, c, b);
      for (let s = 0; s < S; s++) {
        let t: f64 = 0, u: f64 = 0;
        if (kind == T_X) t = ld(px, s);
        else if (kind == T_DEV2) { const d = ld(px, s) - mu; t = d * d; }
        else if (kind == T_PAIR) { t = ld(py, s); u = t * ((ld(px, s) - mu) * rs); }
        else t = ld(py, s) * ld(pw, s);
        if (s >= S4) { ta += t; tb += u; continue; }
        const lane = s & 3;
        if (lane == 0) { a0 += t; b0 += u; } else if (lane == 1) { a1 += t; b1 += u; } else if (lane == 2) { a2 += t; b2 += u; } else { a3 += t; b3 += u; }
      }
    }
    sumA = ((a0 + a1) + (a2 + a3)) + ta;
    sumB = ((b0 + b1) + (b2 + b3)) + tb;
  }
}

// ---- The element-wise write, one formula per mode --------------------------------------
// The channel's constants, set by channel() before write(): per-element arithmetic is the
// same f64 operations in the SIMD lanes and the scalar loop.
let kGamma: f64 = 0, kBeta: f64 = 0, kMu: f64 = 0, kRs: f64 = 0, kGr: f64 = 0, kVg: f64 = 0, kVb: f64 = 0, kHdy: f64 = 0;
let kMdy: f64 = 0, kQdy: f64 = 0, kMrx: f64 = 0, kQrx: f64 = 0, kMh: f64 = 0, kQh: f64 = 0, kA: f64 = 0, kBb: f64 = 0, kCc: f64 = 0;

/** out for one element (mode 0 forward, 1 backward, 2 tangent, 3 rbackward); the scalar form of out2(). */
// @ts-ignore: decorator
@inline function out1(mode: i32, wantDy: bool, wantRx: bool, hasRx: bool, x: f64, dy: f64, rx: f64, rdy: f64): f64 {
  const xh = (x - kMu) * kRs;
  if (mode == 0) return kGamma * xh + kBeta;
  if (mode == 1) return kGr * ((dy - kMdy) - xh * kQdy);
  if (mode == 2) {
    let o = kVg * xh + kVb;
    if (hasRx) o += kGr * ((rx - kMrx) - xh * kQrx);
    return o;
  }
  const d = wantDy ? dy : 0;
  let o = kRs * (((kGamma * rdy + kHdy * d) - kMh) - xh * kQh);
  if (wantRx) {
    const rxh = kRs * ((rx - kMrx) - xh * kQrx);
    const dx = kGr * ((d - kMdy) - xh * kQdy);
    o -= kRs * ((rxh * kA + xh * kBb) + dx * kCc);
  }
  return o;
}

/** out1 on two lanes: the same operations in the same order. */
// @ts-ignore: decorator
@inline function out2(mode: i32, wantDy: bool, wantRx: bool, hasRx: bool, x: v128, dy: v128, rx: v128, rdy: v128): v128 {
  const xh = f64x2.mul(f64x2.sub(x, f64x2.splat(kMu)), f64x2.splat(kRs));
  if (mode == 0) return f64x2.add(f64x2.mul(f64x2.splat(kGamma), xh), f64x2.splat(kBeta));
  if (mode == 1) return f64x2.mul(f64x2.splat(kGr), f64x2.sub(f64x2.sub(dy, f64x2.splat(kMdy)), f64x2.mul(xh, f64x2.splat(kQdy))));
  if (mode == 2) {
    let o = f64x2.add(f64x2.mul(f64x2.splat(kVg), xh), f64x2.splat(kVb));
    if (hasRx) o = f64x2.add(o, f64x2.mul(f64x2.splat(kGr), f64x2.sub(f64x2.sub(rx, f64x2.splat(kMrx)), f64x2.mul(xh, f64x2.splat(kQrx)))));
    return o;
  }
  const d = wantDy ? dy : f64x2.splat(0);
  const h = f64x2.add(f64x2.mul(f64x2.splat(kGamma), rdy), f64x2.mul(f64x2.splat(kHdy), d));
  let o = f64x2.mul(f64x2.splat(kRs), f64x2.sub(f64x2.sub(h, f64x2.splat(kMh)), f64x2.mul(xh, f64x2.splat(kQh))));
  if (wantRx) {
    const rxh = f64x2.mul(f64x2.splat(kRs), f64x2.sub(f64x2.sub(rx, f64x2.splat(kMrx)), f64x2.mul(xh, f64x2.splat(kQrx))));
    const dx = f64x2.mul(f64x2.splat(kGr), f64x2.sub(f64x2.sub(d, f64x2.splat(kMdy)), f64x2.mul(xh, f64x2.splat(kQdy))));
    o = f64x2.sub(o, f64x2.mul(f64x2.splat(kRs), f64x2.add(f64x2.add(f64x2.mul(rxh, f64x2.splat(kA)), f64x2.mul(xh, f64x2.splat(kBb))), f64x2.mul(dx, f64x2.splat(kCc)))));
  }
  return o;
}

// @ts-ignore: decorator
@inline function write(mode: i32, wantDy: bool, wantRx: bool, hasRx: bool, X: usize, xbs: i32, DY: usize, dybs: i32, RX: usize, rxbs: i32,
  RDY: usize, rdybs: i32, OUT: usize, outbs: i32, z: i32, C: i32, S: i32, c: i32, B: i32): void {
  const S4 = ASC_FEATURE_SIMD ? S & ~3 : 0;
  for (let b = 0; b < B; b++) {
    const px = row(X, xbs, z, C, S, c, b), pdy = row(DY, dybs, z, C, S, c, b), prx = row(RX, rxbs, z, C, S, c, b);
    const prdy = row(RDY, rdybs, z, C, S, c, b), po = row(OUT, outbs, z, C, S, c, b);
    if (ASC_FEATURE_SIMD) {
      for (let s = 0; s < S4; s += 4) {
        const o = <usize>s << 2;
        const x = v128.load(px + o);
        const dy = mode == 1 || wantDy ? v128.load(pdy + o) : f32x4.splat(0);
        const rx = hasRx ? v128.load(prx + o) : f32x4.splat(0);
        const rdy = mode == 3 ? v128.load(prdy + o) : f32x4.splat(0);
        const r0 = out2(mode, wantDy, wantRx, hasRx, lo(x), lo(dy), lo(rx), lo(rdy));
        const r1 = out2(mode, wantDy, wantRx, hasRx, hi(x), hi(dy), hi(rx), hi(rdy));
        v128.store(po + o, i64x2.shuffle(f32x4.demote_f64x2_zero(r0), f32x4.demote_f64x2_zero(r1), 0, 2));
      }
    }
    for (let s = S4; s < S; s++) {
      const dy = mode == 1 || wantDy ? ld(pdy, s) : 0, rx = hasRx ? ld(prx, s) : 0, rdy = mode == 3 ? ld(prdy, s) : 0;
      store<f32>(po + (<usize>s << 2), <f32>out1(mode, wantDy, wantRx, hasRx, ld(px, s), dy, rx, rdy));
    }
  }
}

function channel(params: usize, z: i32, c: i32): void {
  const mode = pi(params, P_MODE), B = pi(params, P_B), C = pi(params, P_C), S = pi(params, P_S);
  const eps = <f64>load<f32>(params + (<usize>P_EPS << 2));
  const X = <usize>pi(params, P_X), xbs = pi(params, P_XBS), W = <usize>pi(params, P_W), wbs = pi(params, P_WBS);
  const V = <usize>pi(params, P_V), vbs = pi(params, P_VBS), DY = <usize>pi(params, P_DY), dybs = pi(params, P_DYBS);
  const RX = <usize>pi(params, P_RX), rxbs = pi(params, P_RXBS), RDY = <usize>pi(params, P_RDY), rdybs = pi(params, P_RDYBS);
  const OUT = <usize>pi(params, P_OUT), outbs = pi(params, P_OUTBS), G = <usize>pi(params, P_G), gbs = pi(params, P_GBS);
  const accum = pi(params, P_ACCUM) != 0, gn = pi(params, P_GN) != 0;
  const n = B * S, fn = <f64>n;
  sums(T_X, X, xbs, 0, 0, 0, 0, z, C, S, c, B, 0, 0);
  const mu = sumA / fn;
  sums(T_DEV2, X, xbs, 0, 0, 0, 0, z, C, S, c, B, mu, 0);
  const sv = sumA;
  const rs = 1.0 / Math.sqrt(sv / fn + eps);
  const gamma = <f64>load<f32>(W + ((<usize>z * <usize>wbs + <usize>c) << 2));
  const beta = <f64>load<f32>(W + ((<usize>z * <usize>wbs + <usize>(C + c)) << 2));
  const vg = V ? <f64>load<f32>(V + ((<usize>z * <usize>vbs + <usize>c) << 2)) : 0;
  const vb = V ? <f64>load<f32>(V + ((<usize>z * <usize>vbs + <usize>(C + c)) << 2)) : 0;
  // Channel sums: dy, dy·x̂, rx, rx·x̂, dy·rx, rdy, rdy·x̂ (each only where the mode reads it).
  const wantDy = mode == 1 || (mode == 3 && !gn), wantRx = RX != 0 && (mode == 2 || (mode == 3 && !gn));
  let sdy: f64 = 0, sdyx: f64 = 0, srx: f64 = 0, srxx: f64 = 0, sdyrx: f64 = 0, srdy: f64 = 0, srdyx: f64 = 0;
  if (wantDy) { sums(T_PAIR, X, xbs, DY, dybs, 0, 0, z, C, S, c, B, mu, rs); sdy = sumA; sdyx = sumB; }
  if (wantRx) { sums(T_PAIR, X, xbs, RX, rxbs, 0, 0, z, C, S, c, B, mu, rs); srx = sumA; srxx = sumB; }
  if (wantDy && wantRx) { sums(T_PROD, 0, 0, DY, dybs, RX, rxbs, z, C, S, c, B, 0, 0); sdyrx = sumA; }
  if (mode == 3) { sums(T_PAIR, X, xbs, RDY, rdybs, 0, 0, z, C, S, c, B, mu, rs); srdy = sumA; srdyx = sumB; }
  // Σ dy·rx̂ (rx̂ the tangent of x̂), from the sums alone.
  const sdyrxh = rs * (sdyrx - sdy * srx / fn - sdyx * srxx / fn);
  if (G && mode == 0) {
    const r0 = G + ((<usize>z * <usize>gbs + <usize>c) << 2), r1 = G + ((<usize>z * <usize>gbs + <usize>(C + c)) << 2);
    const uv = n > 1 ? sv / <f64>(n - 1) : sv / fn;
    store<f32>(r0, <f32>(0.9 * <f64>load<f32>(r0) + 0.1 * mu));
    store<f32>(r1, <f32>(0.9 * <f64>load<f32>(r1) + 0.1 * uv));
  }
  if (G) {
    const g0 = G + ((<usize>z * <usize>gbs + <usize>c) << 2), g1 = G + ((<usize>z * <usize>gbs + <usize>(C + c)) << 2);
    let gg: f64 = 0, gb: f64 = 0;
    if (mode == 1) { gg = sdyx; gb = sdy; }
    else if (mode == 3) { gg = srdyx + (wantRx ? sdyrxh : 0); gb = srdy; }
    if (mode == 1 || mode == 3) {
      store<f32>(g0, <f32>(accum ? <f64>load<f32>(g0) + gg : gg));
      store<f32>(g1, <f32>(accum ? <f64>load<f32>(g1) + gb : gb));
    }
  }
  if (!OUT) return;
  // rdx's projected cotangent h = γ rdy + v_γ dy (Gauss-Newton: γ rdy) and its sums.
  const hdy = gn ? 0 : vg;
  const sh = gamma * srdy + hdy * sdy, shx = gamma * srdyx + hdy * sdyx;
  kGamma = gamma; kBeta = beta; kMu = mu; kRs = rs; kGr = gamma * rs; kVg = vg; kVb = vb; kHdy = hdy;
  kMdy = sdy / fn; kQdy = sdyx / fn; kMrx = srx / fn; kQrx = srxx / fn; kMh = sh / fn; kQh = shx / fn;
  kA = gamma * sdyx / fn; kBb = gamma * sdyrxh / fn; kCc = srxx / fn;
  // One specialised loop per mode (the flags are constants inside each).
  const hasRx = RX != 0;
  if (mode == 0) write(0, false, false, false, X, xbs, DY, dybs, RX, rxbs, RDY, rdybs, OUT, outbs, z, C, S, c, B);
  else if (mode == 1) write(1, true, false, false, X, xbs, DY, dybs, RX, rxbs, RDY, rdybs, OUT, outbs, z, C, S, c, B);
  else if (mode == 2) {
    if (hasRx) write(2, false, true, true, X, xbs, DY, dybs, RX, rxbs, RDY, rdybs, OUT, outbs, z, C, S, c, B);
    else write(2, false, false, false, X, xbs, DY, dybs, RX, rxbs, RDY, rdybs, OUT, outbs, z, C, S, c, B);
  } else if (wantDy && wantRx) write(3, true, true, true, X, xbs, DY, dybs, RX, rxbs, RDY, rdybs, OUT, outbs, z, C, S, c, B);
  else if (wantDy) write(3, true, false, hasRx, X, xbs, DY, dybs, RX, rxbs, RDY, rdybs, OUT, outbs, z, C, S, c, B);
  else write(3, false, false, false, X, xbs, DY, dybs, RX, rxbs, RDY, rdybs, OUT, outbs, z, C, S, c, B);
}
