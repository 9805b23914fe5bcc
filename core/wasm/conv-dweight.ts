// Conv2d's weight gradient and bias sum: dW[Cout, L] (+)= Σ_b dY_b · col(x_b)ᵀ
// (dweight) or its transpose dWᵀ[L, Cout] in a scratch (dweightT), with the
// job split over row or column slices of dW, and their packers (dy rows
// interleaved, summing the bias gradient on the way; image columns gathered).
// See conv.ts for the scheme.
import { KC, MC, MR, NC, NR, micro, setMicroOut } from './matmul';
import { unpoolExample } from './conv-pool';

/**
 * Example b's dy: in memory, or (max-pool fusion) rebuilt in the scratch gYs
 * from the pooled cotangent and the routes, planes c0..c1 (the job's rows).
 */
function dyOf(params: usize, yz: usize, z: i32, b: i32, yPer: i32, c0: i32, c1: i32): usize {
  if (pi(params, C_POOL) != 2) return yz + (<usize>b * <usize>yPer << 2);
  const o = <usize>(b * gCout * (gHo >> 1) * (gWo >> 1)) << 2;
  unpoolExample(<usize>pi(params, C_PP) + (<usize>(z * pi(params, C_PPBS)) << 2) + o,
    <usize>pi(params, C_RT) + (<usize>(z * pi(params, C_RTBS)) << 2) + o, gYs, c0, c1, gHo, gWo);
  return gYs;
}
import {
  C_ACCUM, C_BIAS, C_BIASBS, C_POOL, C_PP, C_PPBS, C_RT, C_RTBS, gYs, C_WBS, C_WT, C_X, C_XBS, C_Y, C_YBS, gAp, gBiasAcc, gBp, gCin, gColStride, gCout, gDwT,
  gH, gHo, gKh, gKw, gOffB, gPad, gPh, gPw, gRowStride, gS, gSrc, gTile, gTmp, gW, gWg, gWo, padPlanes, pi, zeroF32,
} from './conv-common';

/**
 * dweight computes dWᵀ[L, Cout] (rows (ci,i,j), columns co, in a scratch
 * that is transposed into dW at the end) where that pads the 4×8 micro-tiles
 * less than dW[Cout, L] does, e.g. L = 27 against Cout = 32; the shape alone decides.
 */
export function dweightTransposed(L: i32, Cout: i32): bool {
  const plain = <i64>((Cout + MR - 1) / MR * MR) * <i64>((L + NR - 1) / NR * NR);
  const trans = <i64>((L + MR - 1) / MR * MR) * <i64>((Cout + NR - 1) / NR * NR);
  return trans < plain && <i64>L * <i64>Cout <= (1 << 20);
}

export function dweight(params: usize, B: i32, K: i32, L: i32, tid: u32, nthreads: u32): void {
  const M = gCout, N = L, P = gHo * gWo;
  const padded = gPh != 0 || gPw != 0;
  const Hs = padded ? gH + 2 * gPh : gH, Ws = padded ? gW + 2 * gPw : gW;
  const khw = gKh * gKw;
  for (let l = 0; l < L; l++) {
    const c = l / khw, r = l - c * khw, i = r / gKw, j = r - i * gKw;
    store<i32>(gOffB + (<usize>l << 2), (c * Hs + i) * Ws + j);
  }
  gRowStride = gS * Ws; gColStride = gS; gWg = gWo;

  const xPer = gCin * gH * gW, yPer = gCout * P;
  const X = <usize>pi(params, C_X), Y = <usize>pi(params, C_Y), Wt = <usize>pi(params, C_WT);
  const xbs = pi(params, C_XBS), ybs = pi(params, C_YBS), wbs = pi(params, C_WBS);
  const bias = <usize>pi(params, C_BIAS), biasBs = pi(params, C_BIASBS);
  const accum = pi(params, C_ACCUM) != 0;

  if (dweightTransposed(L, M)) {
    dweightT(params, B, K, L, tid, nthreads, xPer, yPer, X, Y, Wt, xbs, ybs, wbs, bias, biasBs, accum);
    return;
  }
  // Jobs: row or column slices of each model's dW, in whole micro-tiles (as mm).
  const T = <i32>nthreads;
  const byRows = M >= N;
  const unit = byRows ? MR : NR;
  const tiles = ((byRows ? M : N) + unit - 1) / unit;
  let S = (T + K - 1) / K;
  if (S > tiles) S = tiles;
  const jobs = K * S;
  const j0 = (jobs * <i32>tid) / T, j1 = (jobs * (<i32>tid + 1)) / T;
  let framed = false;
  // Position blocks of equal length (≤ KC) within an example: they depend on P only.
  const nblk = (P + KC - 1) / KC, kpStep = (P + nblk - 1) / nblk;
  for (let job = j0; job < j1; job++) {
    const z = job / S, s = job % S;
    const t0 = (tiles * s) / S, t1 = (tiles * (s + 1)) / S;
    let m0 = 0, m1 = M, n0 = 0, n1 = N;
    if (byRows) { m0 = t0 * MR; m1 = min(M, t1 * MR); } else { n0 = t0 * NR; n1 = min(N, t1 * NR); }
    const xz = X + (<usize>(z * xbs) << 2), yz = Y + (<usize>(z * ybs) << 2);
    setMicroOut(Wt + (<usize>(z * wbs) << 2), N, accum, gTile);
    // The job holding column 0 also sums the bias gradient of its rows.
    const biasOwner = bias != 0 && n0 == 0;
    for (let jc = n0; jc < n1; jc += NC) {
      const nc = min(NC, n1 - jc);
      const doBias = biasOwner && jc == n0;
      if (doBias) zeroF32(gBiasAcc, M);
      let first = true;
      for (let b = 0; b < B; b++) {
        const xb = xz + (<usize>b * <usize>xPer << 2), yb = dyOf(params, yz, z, b, yPer, m0, m1);
        if (padded) { padPlanes(xb, gPad, 0, gCin, !framed); framed = true; gSrc = gPad; } else gSrc = xb;
        for (let p0 = 0; p0 < P; p0 += kpStep) {
          const kc = min(kpStep, P - p0);
          if (m1 - m0 <= MC) {
            // The job's rows in one block: each B panel packed right before its use (L1-hot).
            packADy(yb, P, m0, m1 - m0, p0, kc, doBias);
            for (let jr = jc; jr < jc + nc; jr += NR) {
              const nr = min(NR, jc + nc - jr);
              packBCol(p0, kc, jr, nr);
              for (let ir = m0; ir < m1; ir += MR) {
                micro(kc, gAp + (<usize>((ir - m0) * kc) << 2), gBp, ir, jr, min(MR, m1 - ir), nr, first);
              }
            }
            first = false;
            continue;
          }
          packBCol(p0, kc, jc, nc);
          for (let ic = m0; ic < m1; ic += MC) {
            const mc = min(MC, m1 - ic);
            packADy(yb, P, ic, mc, p0, kc, doBias);
            for (let jr = 0; jr < nc; jr += NR) {
              const bp = gBp + (<usize>(jr * kc) << 2);
              const nr = min(NR, nc - jr);
              for (let ir = 0; ir < mc; ir += MR) {
                micro(kc, gAp + (<usize>(ir * kc) << 2), bp, ic + ir, jc + jr, min(MR, mc - ir), nr, first);
              }
            }
          }
          first = false;
        }
      }
      if (doBias) {
        const bz = bias + (<usize>(z * biasBs) << 2);
        for (let m = m0; m < m1; m++) {
          const p = bz + (<usize>m << 2), v = load<f32>(gBiasAcc + (<usize>m << 2));
          store<f32>(p, accum ? load<f32>(p) + v : v);
        }
      }
    }
  }
}

/**
 * dweight as dWᵀ[L, Cout] = Σ_b col(x_b) · dY_bᵀ into the scratch gDwT (row
 * stride Cout), then dW (+)= its transpose: the same sums as dweight()'s, in
 * the same order, on fuller micro-tiles when L is the short side.
 */
function dweightT(params: usize, B: i32, K: i32, L: i32, tid: u32, nthreads: u32, xPer: i32, yPer: i32, X: usize, Y: usize, Wt: usize,
  xbs: i32, ybs: i32, wbs: i32, bias: usize, biasBs: i32, accum: bool): void {
  const M = L, N = gCout, P = gHo * gWo;
  const padded = gPh != 0 || gPw != 0;
  const T = <i32>nthreads;
  const byRows = M >= N;
  const unit = byRows ? MR : NR;
  const tiles = ((byRows ? M : N) + unit - 1) / unit;
  let S = (T + K - 1) / K;
  if (S > tiles) S = tiles;
  const jobs = K * S;
  const j0 = (jobs * <i32>tid) / T, j1 = (jobs * (<i32>tid + 1)) / T;
  let framed = false;
  const nblk = (P + KC - 1) / KC, kpStep = (P + nblk - 1) / nblk;
  for (let job = j0; job < j1; job++) {
    const z = job / S, s = job % S;
    const t0 = (tiles * s) / S, t1 = (tiles * (s + 1)) / S;
    let m0 = 0, m1 = M, n0 = 0, n1 = N;
    if (byRows) { m0 = t0 * MR; m1 = min(M, t1 * MR); } else { n0 = t0 * NR; n1 = min(N, t1 * NR); }
    const xz = X + (<usize>(z * xbs) << 2), yz = Y + (<usize>(z * ybs) << 2);
    setMicroOut(gDwT, N, false, gTile);
    // The job holding row 0 sums the bias gradient of its columns (while packing dy).
    const doBias = bias != 0 && m0 == 0;
    if (doBias) zeroF32(gBiasAcc, N);
    let first = true;
    for (let b = 0; b < B; b++) {
      const xb = xz + (<usize>b * <usize>xPer << 2), yb = dyOf(params, yz, z, b, yPer, n0, n1);
      if (padded) { padPlanes(xb, gPad, 0, gCin, !framed); framed = true; gSrc = gPad; } else gSrc = xb;
      for (let p0 = 0; p0 < P; p0 += kpStep) {
        const kc = min(kpStep, P - p0);
        for (let jc = n0; jc < n1; jc += NC) {
          const nc = min(NC, n1 - jc);
          packBDy(yb, P, jc, nc, p0, kc, doBias);
          for (let ic = m0; ic < m1; ic += MC) {
            const mc = min(MC, m1 - ic);
            packACol(p0, kc, ic, mc);
            for (let jr = 0; jr < nc; jr += NR) {
              const bp = gBp + (<usize>(jr * kc) << 2);
              const nr = min(NR, nc - jr);
              for (let ir = 0; ir < mc; ir += MR) {
                micro(kc, gAp + (<usize>(ir * kc) << 2), bp, ic + ir, jc + jr, min(MR, mc - ir), nr, first);
              }
            }
          }
        }
        first = false;
      }
    }
    // dW[co, l] (+)= dWᵀ[l, co] over the job's block.
    const wz = Wt + (<usize>(z * wbs) << 2);
    for (let co = n0; co < n1; co++) {
      for (let l = m0; l < m1; l++) {
        const p = wz + (<usize>(co * L + l) << 2), v = load<f32>(gDwT + (<usize>(l * N + co) << 2));
        store<f32>(p, accum ? load<f32>(p) + v : v);
      }
    }
    if (doBias) {
      const bz = bias + (<usize>(z * biasBs) << 2);
      for (let co = n0; co < n1; co++) {
        const p = bz + (<usize>co << 2), v = load<f32>(gBiasAcc + (<usize>co << 2));
        store<f32>(p, accum ? load<f32>(p) + v : v);
      }
    }
  }
}

/**
 * dweightT's A: Ap[ir/MR][k][i] = col[ic + ir + i, p0 + k] (four reduction
 * indices' shifted image rows interleaved); rows past mc repeat the last.
 */
function packACol(p0: i32, kc: i32, ic: i32, mc: i32): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const dst = gAp + (<usize>(ir * kc) << 2);
    const mr = min(MR, mc - ir);
    const ob = gOffB + (<usize>(ic + ir) << 2), last = <usize>(mr - 1) << 2;
    const s0 = gSrc + (<usize>load<i32>(ob) << 2);
    const s1 = gSrc + (<usize>load<i32>(ob + min<usize>(4, last)) << 2);
    const s2 = gSrc + (<usize>load<i32>(ob + min<usize>(8, last)) << 2);
    const s3 = gSrc + (<usize>load<i32>(ob + min<usize>(12, last)) << 2);
    let r = p0 / gWo, c = p0 - r * gWo;
    let k = 0;
    while (k < kc) {
      const d = dst + (<usize>(k * MR) << 2);
      if (ASC_FEATURE_SIMD && gColStride == 1 && k + 4 <= kc && c + 4 <= gWo) {
        const o = <usize>(r * gRowStride + c) << 2;
        transpose4(v128.load(s0 + o), v128.load(s1 + o), v128.load(s2 + o), v128.load(s3 + o), d, <usize>MR << 2);
        k += 4; c += 4;
      } else {
        const o = <usize>(r * gRowStride + c * gColStride) << 2;
        store<f32>(d, load<f32>(s0 + o)); store<f32>(d, load<f32>(s1 + o), 4);
        store<f32>(d, load<f32>(s2 + o), 8); store<f32>(d, load<f32>(s3 + o), 12);
        k++; c++;
      }
      if (c == gWo) { c = 0; r++; }
    }
  }
}

/**
 * dweightT's B: Bp[jr/NR][k][j] = dy_b[jc + jr + j, p0 + k] (eight rows of dy
 * interleaved); columns past nc repeat the last. With `bias`, each row's
 * block sum (sequential in k, as packADy's) is added to gBiasAcc.
 */
function packBDy(dy: usize, P: i32, jc: i32, nc: i32, p0: i32, kc: i32, bias: bool): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const dst = gBp + (<usize>(jr * kc) << 2);
    const nr = min(NR, nc - jr);
    const row = jc + jr;
    const r0 = dy + (<usize>(row * P + p0) << 2);
    const r1 = dy + (<usize>((row + min(1, nr - 1)) * P + p0) << 2);
    const r2 = dy + (<usize>((row + min(2, nr - 1)) * P + p0) << 2);
    const r3 = dy + (<usize>((row + min(3, nr - 1)) * P + p0) << 2);
    const r4 = dy + (<usize>((row + min(4, nr - 1)) * P + p0) << 2);
    const r5 = dy + (<usize>((row + min(5, nr - 1)) * P + p0) << 2);
    const r6 = dy + (<usize>((row + min(6, nr - 1)) * P + p0) << 2);
    const r7 = dy + (<usize>((row + min(7, nr - 1)) * P + p0) << 2);
    if (ASC_FEATURE_SIMD) {
      let lo = f32x4.splat(0), hi = f32x4.splat(0);
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const o = <usize>k << 2, d = dst + (<usize>(k * NR) << 2);
        transpose4(v128.load(r0 + o), v128.load(r1 + o), v128.load(r2 + o), v128.load(r3 + o), d, 32);
        transpose4(v128.load(r4 + o), v128.load(r5 + o), v128.load(r6 + o), v128.load(r7 + o), d + 16, 32);
        if (bias) {
          lo = f32x4.add(lo, v128.load(d)); hi = f32x4.add(hi, v128.load(d, 16));
          lo = f32x4.add(lo, v128.load(d, 32)); hi = f32x4.add(hi, v128.load(d, 48));
          lo = f32x4.add(lo, v128.load(d, 64)); hi = f32x4.add(hi, v128.load(d, 80));
          lo = f32x4.add(lo, v128.load(d, 96)); hi = f32x4.add(hi, v128.load(d, 112));
        }
      }
      for (; k < kc; k++) {
        const o = <usize>k << 2, d = dst + (<usize>(k * NR) << 2);
        store<f32>(d, load<f32>(r0 + o)); store<f32>(d, load<f32>(r1 + o), 4);
        store<f32>(d, load<f32>(r2 + o), 8); store<f32>(d, load<f32>(r3 + o), 12);
        store<f32>(d, load<f32>(r4 + o), 16); store<f32>(d, load<f32>(r5 + o), 20);
        store<f32>(d, load<f32>(r6 + o), 24); store<f32>(d, load<f32>(r7 + o), 28);
        if (bias) { lo = f32x4.add(lo, v128.load(d)); hi = f32x4.add(hi, v128.load(d, 16)); }
      }
      if (bias) { v128.store(gTmp, lo); v128.store(gTmp, hi, 16); }
    } else {
      for (let j = 0; j < NR; j++) store<f32>(gTmp + (<usize>j << 2), 0);
      for (let k = 0; k < kc; k++) {
        const o = <usize>k << 2, d = dst + (<usize>(k * NR) << 2);
        const v0 = load<f32>(r0 + o), v1 = load<f32>(r1 + o), v2 = load<f32>(r2 + o), v3 = load<f32>(r3 + o);
        const v4 = load<f32>(r4 + o), v5 = load<f32>(r5 + o), v6 = load<f32>(r6 + o), v7 = load<f32>(r7 + o);
        store<f32>(d, v0); store<f32>(d, v1, 4); store<f32>(d, v2, 8); store<f32>(d, v3, 12);
        store<f32>(d, v4, 16); store<f32>(d, v5, 20); store<f32>(d, v6, 24); store<f32>(d, v7, 28);
        if (bias) {
          store<f32>(gTmp, load<f32>(gTmp) + v0); store<f32>(gTmp, load<f32>(gTmp, 4) + v1, 4);
          store<f32>(gTmp, load<f32>(gTmp, 8) + v2, 8); store<f32>(gTmp, load<f32>(gTmp, 12) + v3, 12);
          store<f32>(gTmp, load<f32>(gTmp, 16) + v4, 16); store<f32>(gTmp, load<f32>(gTmp, 20) + v5, 20);
          store<f32>(gTmp, load<f32>(gTmp, 24) + v6, 24); store<f32>(gTmp, load<f32>(gTmp, 28) + v7, 28);
        }
      }
    }
    if (bias) {
      for (let j = 0; j < nr; j++) {
        const p = gBiasAcc + (<usize>(row + j) << 2);
        store<f32>(p, load<f32>(p) + load<f32>(gTmp + (<usize>j << 2)));
      }
    }
  }
}

/** 4×4 transpose of rows r0..r3 into columns, stored at d, d + step, d + 2·step, d + 3·step. */
@inline function transpose4(r0: v128, r1: v128, r2: v128, r3: v128, d: usize, step: usize): void {
  const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t2 = f32x4.shuffle(r2, r3, 0, 4, 1, 5), t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(d, f32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(d + step, f32x4.shuffle(t0, t2, 2, 3, 6, 7));
  v128.store(d + 2 * step, f32x4.shuffle(t1, t3, 0, 1, 4, 5));
  v128.store(d + 3 * step, f32x4.shuffle(t1, t3, 2, 3, 6, 7));
}

/**
 * dweight's B: Bp[jr/NR][k][j] = col[jc + jr + j, p0 + k] = src[offB[l] + base(p0 + k)].
 * Four positions in one row at stride 1 are contiguous for each l: eight
 * loads and two 4×4 transposes. Lanes past nc repeat the last column.
 */
function packBCol(p0: i32, kc: i32, jc: i32, nc: i32): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const dst = gBp + (<usize>(jr * kc) << 2);
    const nr = min(NR, nc - jr);
    const ob = gOffB + (<usize>(jc + jr) << 2);
    const last = <usize>(nr - 1) << 2;
    const s0 = gSrc + (<usize>load<i32>(ob) << 2);
    const s1 = gSrc + (<usize>load<i32>(ob + min<usize>(4, last)) << 2);
    const s2 = gSrc + (<usize>load<i32>(ob + min<usize>(8, last)) << 2);
    const s3 = gSrc + (<usize>load<i32>(ob + min<usize>(12, last)) << 2);
    const s4 = gSrc + (<usize>load<i32>(ob + min<usize>(16, last)) << 2);
    const s5 = gSrc + (<usize>load<i32>(ob + min<usize>(20, last)) << 2);
    const s6 = gSrc + (<usize>load<i32>(ob + min<usize>(24, last)) << 2);
    const s7 = gSrc + (<usize>load<i32>(ob + min<usize>(28, last)) << 2);
    let r = p0 / gWo, c = p0 - r * gWo;
    let k = 0;
    while (k < kc) {
      const d = dst + (<usize>(k * NR) << 2);
      if (ASC_FEATURE_SIMD && gColStride == 1 && k + 4 <= kc && c + 4 <= gWo) {
        const o = <usize>(r * gRowStride + c) << 2;
        transpose4(v128.load(s0 + o), v128.load(s1 + o), v128.load(s2 + o), v128.load(s3 + o), d, <usize>NR << 2);
        transpose4(v128.load(s4 + o), v128.load(s5 + o), v128.load(s6 + o), v128.load(s7 + o), d + 16, <usize>NR << 2);
        k += 4; c += 4;
      } else {
        const o = <usize>(r * gRowStride + c * gColStride) << 2;
        store<f32>(d, load<f32>(s0 + o)); store<f32>(d, load<f32>(s1 + o), 4);
        store<f32>(d, load<f32>(s2 + o), 8); store<f32>(d, load<f32>(s3 + o), 12);
        store<f32>(d, load<f32>(s4 + o), 16); store<f32>(d, load<f32>(s5 + o), 20);
        store<f32>(d, load<f32>(s6 + o), 24); store<f32>(d, load<f32>(s7 + o), 28);
        k++; c++;
      }
      if (c == gWo) { c = 0; r++; }
    }
  }
}

/**
 * dweight's A: Ap[ir/MR][k][i] = dy_b[ic + ir + i, p0 + k] (four rows
 * interleaved by 4×4 transposes); rows past mc repeat the last row. With
 * `bias`, each row's block sum (sequential in k, the same order in every
 * build) is added to gBiasAcc.
 */
function packADy(dy: usize, P: i32, ic: i32, mc: i32, p0: i32, kc: i32, bias: bool): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const dst = gAp + (<usize>(ir * kc) << 2);
    const mr = min(MR, mc - ir);
    const row = ic + ir;
    const r0 = dy + (<usize>(row * P + p0) << 2);
    const r1 = dy + (<usize>((row + min(1, mr - 1)) * P + p0) << 2);
    const r2 = dy + (<usize>((row + min(2, mr - 1)) * P + p0) << 2);
    const r3 = dy + (<usize>((row + min(3, mr - 1)) * P + p0) << 2);
    if (ASC_FEATURE_SIMD) {
      let acc = f32x4.splat(0);
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const o = <usize>k << 2, d = dst + (<usize>(k * MR) << 2);
        transpose4(v128.load(r0 + o), v128.load(r1 + o), v128.load(r2 + o), v128.load(r3 + o), d, 16);
        if (bias) {
          acc = f32x4.add(acc, v128.load(d));
          acc = f32x4.add(acc, v128.load(d, 16));
          acc = f32x4.add(acc, v128.load(d, 32));
          acc = f32x4.add(acc, v128.load(d, 48));
        }
      }
      for (; k < kc; k++) {
        const o = <usize>k << 2, d = dst + (<usize>(k * MR) << 2);
        store<f32>(d, load<f32>(r0 + o)); store<f32>(d, load<f32>(r1 + o), 4);
        store<f32>(d, load<f32>(r2 + o), 8); store<f32>(d, load<f32>(r3 + o), 12);
        if (bias) acc = f32x4.add(acc, v128.load(d));
      }
      if (bias) v128.store(gTmp, acc);
    } else {
      let a0: f32 = 0, a1: f32 = 0, a2: f32 = 0, a3: f32 = 0;
      for (let k = 0; k < kc; k++) {
        const o = <usize>k << 2, d = dst + (<usize>(k * MR) << 2);
        const v0 = load<f32>(r0 + o), v1 = load<f32>(r1 + o), v2 = load<f32>(r2 + o), v3 = load<f32>(r3 + o);
        store<f32>(d, v0); store<f32>(d, v1, 4); store<f32>(d, v2, 8); store<f32>(d, v3, 12);
        a0 += v0; a1 += v1; a2 += v2; a3 += v3;
      }
      store<f32>(gTmp, a0); store<f32>(gTmp, a1, 4); store<f32>(gTmp, a2, 8); store<f32>(gTmp, a3, 12);
    }
    if (bias) {
      for (let i = 0; i < mr; i++) {
        const p = gBiasAcc + (<usize>(row + i) << 2);
        store<f32>(p, load<f32>(p) + load<f32>(gTmp + (<usize>i << 2)));
      }
    }
  }
}
