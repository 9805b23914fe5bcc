// Conv2d forward (and dinput's GEMM form over (co, i, j) from D_b, which
// shares its loop): the reduction offsets, the job split over (model,
// example[, positions]) and the bias epilogue. See conv.ts for the scheme.
import { KC, NR } from './matmul';
import { setOut } from './conv-micro';
import {
  C_ACCUM, C_ACT, C_BIAS, C_POOL, C_PP, C_PPBS, C_RT, C_RTBS, C_BIASBS, C_WBS, C_WT, C_X, C_XBS, C_Y, C_YBS, gA, gARs, gCin, gColStride, gCout, gH, gHo, gKh, gKw,
  gOffA, gOffB, gPad, gYs, gPh, gPw, gRowStride, gS, gSrc, gTile, gW, gWg, gWo, gemmGather, padPlanes, pi,
} from './conv-common';
import { dilate } from './conv-dinput';
import { actRange } from './pool';
import { poolRoutes } from './conv-pool';

export function fwdOrDinput(params: usize, mode: i32, B: i32, K: i32, L: i32, tid: u32, nthreads: u32): void {
  const fwd = mode == 0;
  const M = fwd ? gCout : gCin;
  const N = fwd ? gHo * gWo : gH * gW;
  const padded = gPh != 0 || gPw != 0;
  // The source image's geometry and the reduction index's offsets in it.
  let Hs: i32, Ws: i32;
  if (fwd) { Hs = gH + 2 * gPh; Ws = gW + 2 * gPw; if (!padded) { Hs = gH; Ws = gW; } }
  else { Hs = gH + gKh - 1; Ws = gW + gKw - 1; }
  const khw = gKh * gKw;
  for (let l = 0; l < L; l++) {
    const c = l / khw, r = l - c * khw, i = r / gKw, j = r - i * gKw;
    if (fwd) {
      store<i32>(gOffB + (<usize>l << 2), (c * Hs + i) * Ws + j);
      store<i32>(gOffA + (<usize>l << 2), l);
    } else {
      store<i32>(gOffB + (<usize>l << 2), (c * Hs + gKh - 1 - i) * Ws + gKw - 1 - j);
      store<i32>(gOffA + (<usize>l << 2), c * gCin * khw + r);
    }
  }
  gRowStride = fwd ? gS * Ws : Ws;
  gColStride = fwd ? gS : 1;
  gWg = fwd ? gWo : gW;
  gARs = fwd ? L : khw;

  const xPer = gCin * gH * gW, yPer = gCout * gHo * gWo;
  const X = <usize>pi(params, C_X), Y = <usize>pi(params, C_Y), Wt = <usize>pi(params, C_WT);
  const xbs = pi(params, C_XBS), ybs = pi(params, C_YBS), wbs = pi(params, C_WBS);
  const bias = fwd ? <usize>pi(params, C_BIAS) : 0, biasBs = pi(params, C_BIASBS);
  const accum = pi(params, C_ACCUM) != 0;
  const act = fwd ? pi(params, C_ACT) - 1 : -1;
  // Max-pool epilogue: each example's output goes to the scratch gYs, and only its pooling and routes to memory.
  const pooled = fwd && pi(params, C_POOL) == 1;
  const PP = <usize>pi(params, C_PP), ppBs = pi(params, C_PPBS), RT = <usize>pi(params, C_RT), rtBs = pi(params, C_RTBS);
  const pPer = gCout * (gHo >> 1) * (gWo >> 1);

  // Jobs: one per (model, example), sliced along positions only when needed.
  const T = <i32>nthreads, units = K * B;
  const tiles = (N + NR - 1) / NR;
  let S = (T + units - 1) / units;
  if (S > tiles) S = tiles;
  // Pooling needs a whole example in one job.
  if (pooled) S = 1;
  const jobs = units * S;
  const j0 = (jobs * <i32>tid) / T, j1 = (jobs * (<i32>tid + 1)) / T;
  // Reduction blocks of equal length (≤ KC): the split depends on L only.
  const nblk = (L + KC - 1) / KC, kcStep = (L + nblk - 1) / nblk;
  for (let job = j0; job < j1; job++) {
    const u = job / S, s = job % S;
    const z = u / B, b = u % B;
    const n0 = min(N, ((tiles * s) / S) * NR), n1 = min(N, ((tiles * (s + 1)) / S) * NR);
    const xb = X + (<usize>(z * xbs) << 2) + (<usize>b * <usize>xPer << 2);
    const yb = pooled ? gYs : Y + (<usize>(z * ybs) << 2) + (<usize>b * <usize>yPer << 2);
    gA = Wt + (<usize>(z * wbs) << 2);
    if (fwd) {
      if (padded) { padPlanes(xb, gPad, 0, gCin, job == j0); gSrc = gPad; } else gSrc = xb;
      setOut(yb, N, accum && !pooled, gTile);
    } else {
      dilate(yb, gPad, Hs, Ws, job == j0);
      gSrc = gPad;
      setOut(xb, N, accum, gTile);
    }
    gemmGather(M, n0, n1, L, kcStep);
    if (pooled) {
      // Bias, ReLU, pooling and routes in one pass over the example in the scratch.
      const o = <usize>(b * pPer) << 2;
      poolRoutes(yb, bias != 0 ? bias + (<usize>(z * biasBs) << 2) : 0, PP + (<usize>(z * ppBs) << 2) + o, RT + (<usize>(z * rtBs) << 2) + o, 0, M, gHo, gWo);
      continue;
    }
    if (bias != 0) addBias(yb, bias + (<usize>(z * biasBs) << 2), M, N, n0, n1);
    // The example's output (Cout·Ho·Wo floats) is still in L2 here: σ in place costs far less than a pass from memory.
    if (act >= 0) for (let m = 0; m < M; m++) {
      const row = yb + (<usize>(m * N + n0) << 2);
      actRange(act, false, row, 0, row, n1 - n0);
    }
  }
}

/** y[co, n] += bias[co] for n in [n0, n1), after the product (matmul's epilogue order). */
export function addBias(y: usize, bias: usize, M: i32, N: i32, n0: i32, n1: i32): void {
  for (let m = 0; m < M; m++) {
    const bv = load<f32>(bias + (<usize>m << 2));
    const row = y + (<usize>(m * N) << 2);
    let n = n0;
    if (ASC_FEATURE_SIMD) {
      const b4 = f32x4.splat(bv);
      for (; n + 4 <= n1; n += 4) {
        const p = row + (<usize>n << 2);
        v128.store(p, f32x4.add(v128.load(p), b4));
      }
    }
    for (; n < n1; n++) {
      const p = row + (<usize>n << 2);
      store<f32>(p, load<f32>(p) + bv);
    }
  }
}
