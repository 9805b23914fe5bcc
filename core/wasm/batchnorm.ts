// BatchNorm in training mode (BatchNormOp in core/ts/backend/types.ts): per
// model z and channel c, the B·S elements x[z][b, c, s] of x [K][B, C, S]
// (S = H·W; 1 for BatchNorm1d). Four sweeps per (z, c): μ, then σ² (two
// passes, as PyTorch, so a large mean does not cancel the variance), then the
// mode's channel sums, then the element-wise write. Sums are f64: a channel
// holds up to B·H·W terms, summed in element order e = b·S + s. Threads take
// whole (z, c) channels (batchnormOp: contiguous runs of the K·C of them), so
// each channel's numbers are the same whatever the thread count, and K
// batched models give each model's numbers alone bit for bit.
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

function channel(params: usize, z: i32, c: i32): void {
  const mode = pi(params, P_MODE), B = pi(params, P_B), C = pi(params, P_C), S = pi(params, P_S);
  const eps = <f64>load<f32>(params + (<usize>P_EPS << 2));
  const X = <usize>pi(params, P_X), xbs = pi(params, P_XBS), W = <usize>pi(params, P_W), wbs = pi(params, P_WBS);
  const V = <usize>pi(params, P_V), vbs = pi(params, P_VBS), DY = <usize>pi(params, P_DY), dybs = pi(params, P_DYBS);
  const RX = <usize>pi(params, P_RX), rxbs = pi(params, P_RXBS), RDY = <usize>pi(params, P_RDY), rdybs = pi(params, P_RDYBS);
  const OUT = <usize>pi(params, P_OUT), outbs = pi(params, P_OUTBS), G = <usize>pi(params, P_G), gbs = pi(params, P_GBS);
  const accum = pi(params, P_ACCUM) != 0, gn = pi(params, P_GN) != 0;
  const n = B * S, fn = <f64>n;
  let sx: f64 = 0;
  for (let b = 0; b < B; b++) { const px = row(X, xbs, z, C, S, c, b); for (let s = 0; s < S; s++) sx += ld(px, s); }
  const mu = sx / fn;
  let sv: f64 = 0;
  for (let b = 0; b < B; b++) { const px = row(X, xbs, z, C, S, c, b); for (let s = 0; s < S; s++) { const d = ld(px, s) - mu; sv += d * d; } }
  const rs = 1.0 / Math.sqrt(sv / fn + eps);
  const gamma = <f64>load<f32>(W + ((<usize>z * <usize>wbs + <usize>c) << 2));
  const beta = <f64>load<f32>(W + ((<usize>z * <usize>wbs + <usize>(C + c)) << 2));
  const vg = V ? <f64>load<f32>(V + ((<usize>z * <usize>vbs + <usize>c) << 2)) : 0;
  const vb = V ? <f64>load<f32>(V + ((<usize>z * <usize>vbs + <usize>(C + c)) << 2)) : 0;
  // Channel sums: dy, dy·x̂, rx, rx·x̂, dy·rx, rdy, rdy·x̂ (each only where the mode reads it).
  const wantDy = mode == 1 || (mode == 3 && !gn), wantRx = RX != 0 && (mode == 2 || (mode == 3 && !gn));
  let sdy: f64 = 0, sdyx: f64 = 0, srx: f64 = 0, srxx: f64 = 0, sdyrx: f64 = 0, srdy: f64 = 0, srdyx: f64 = 0;
  if (mode != 0) for (let b = 0; b < B; b++) {
    const px = row(X, xbs, z, C, S, c, b), pdy = row(DY, dybs, z, C, S, c, b), prx = row(RX, rxbs, z, C, S, c, b), prdy = row(RDY, rdybs, z, C, S, c, b);
    for (let s = 0; s < S; s++) {
      const xh = (ld(px, s) - mu) * rs;
      if (wantDy) { const d = ld(pdy, s); sdy += d; sdyx += d * xh; if (wantRx) sdyrx += d * ld(prx, s); }
      if (wantRx) { const r = ld(prx, s); srx += r; srxx += r * xh; }
      if (mode == 3) { const d = ld(prdy, s); srdy += d; srdyx += d * xh; }
    }
  }
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
  const a = gamma * sdyx / fn, bb = gamma * sdyrxh / fn, cc = srxx / fn;
  for (let b = 0; b < B; b++) {
    const px = row(X, xbs, z, C, S, c, b), pdy = row(DY, dybs, z, C, S, c, b), prx = row(RX, rxbs, z, C, S, c, b);
    const prdy = row(RDY, rdybs, z, C, S, c, b), po = row(OUT, outbs, z, C, S, c, b);
    for (let s = 0; s < S; s++) {
      const xh = (ld(px, s) - mu) * rs;
      let o: f64 = 0;
      if (mode == 0) o = gamma * xh + beta;
      else if (mode == 1) o = gamma * rs * (ld(pdy, s) - sdy / fn - xh * sdyx / fn);
      else if (mode == 2) {
        o = vg * xh + vb;
        if (RX) o += gamma * rs * (ld(prx, s) - srx / fn - xh * srxx / fn);
      } else {
        const dy = wantDy ? ld(pdy, s) : 0;
        const h = gamma * ld(prdy, s) + hdy * dy;
        o = rs * (h - sh / fn - xh * shx / fn);
        if (wantRx) {
          const rxh = rs * (ld(prx, s) - srx / fn - xh * srxx / fn);
          const dx = gamma * rs * (dy - sdy / fn - xh * sdyx / fn);
          o -= rs * (rxh * a + xh * bb + dx * cc);
        }
      }
      store<f32>(po + (<usize>s << 2), <f32>o);
    }
  }
}
