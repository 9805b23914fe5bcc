// Conv2d's weight gradient as dot products along positions, for 3-wide
// kernels at stride 1 whose output rows are whole f32x4 vectors (cnn-relu's
// convs; dweightByDot decides from the shape alone):
//   dW[co, (c,i,j)] (+)= Σ_b Σ_(r,q) dy_b[co, r, q] · xpad_b[c, r + i, q + j]
// Both factors run along positions in memory (dy's rows; the padded image's
// rows, shifted by j), so f32x4 lanes take four neighbouring positions and
// nothing is packed: the GEMM form (conv-dweight.ts) must transpose both into
// k-major micro-panels first, which costs a third of the op where the
// reduction (positions) is long and the output (Cout × Cin·9) small.
//
// A tile is 3 output channels × the 3 taps j of one (c, i): nine f32x4
// accumulators (plus three image and one dy vector: 13 of x86's 16 xmm
// registers), three dy and three image loads per nine fused multiply-adds,
// the image loads at one address +0, +4, +8 bytes. Each lane sums the
// positions q ≡ lane (mod 4) of every example in order (b, r, q); the tiles'
// accumulators live in a per-thread scratch across examples, and each output
// is their lanes' sum (l0 + l1) + (l2 + l3) at the end. The bias gradient is
// summed the same way over dy's rows. Every output tile is one thread's, its
// order fixed by the shape: the bits do not depend on the thread count.
import {
  C_ACCUM, C_BIAS, C_BIASBS, C_POOL, C_PP, C_PPBS, C_RT, C_RTBS, C_WBS, C_WT, C_X, C_XBS, C_Y, C_YBS, gCin, gCout, gDwT, gH, gHo, gKh, gPad, gPh, gPw,
  gW, gWo, padPlanes, pi,
} from './conv-common';
import { unpoolTriples } from './conv-pool';

/** Output channels per tile (the taps per tile are the kernel's 3 columns). */
const TC = 3;
/** Bytes of one tile's accumulators: 3 × 3 f32x4. */
const TILE = 144;

/** Whether dweight runs here (else the GEMM form): 3-wide kernel, stride 1, Wo % 4 = 0, scratch ≤ 8 MiB. */
export function dweightByDot(Cin: i32, Cout: i32, kh: i32, kw: i32, s: i32, Ho: i32, Wo: i32): bool {
  return ASC_FEATURE_SIMD && kw == 3 && s == 1 && (Wo & 3) == 0 && dotScratchBytes(Cin, Cout, kh, Ho * Wo) <= (8 << 20);
}

/**
 * Per-thread scratch of dweightDot: every tile's accumulators, each channel
 * triple's bias sums, then one example's dy with each triple's rows
 * interleaved by f32x4 ([triple][P/4][3][4]).
 */
export function dotScratchBytes(Cin: i32, Cout: i32, kh: i32, P: i32): usize {
  const CT = <usize>((Cout + TC - 1) / TC);
  return CT * <usize>Cin * <usize>kh * TILE + CT * (TC << 4) + CT * <usize>P * (TC << 2);
}

// (Every f32x4 use sits under ASC_FEATURE_SIMD: the scalar build compiles this file but never runs it.)
@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  if (ASC_FEATURE_SIMD) return f32x4.add(c, f32x4.mul(a, b));
  return c;
}

/** The lanes' sum (l0 + l1) + (l2 + l3) of the f32x4 at p. */
@inline function lanesAt(p: usize): f32 {
  if (ASC_FEATURE_SIMD) {
    const v = v128.load(p);
    return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
  }
  return 0;
}

export function dweightDot(params: usize, B: i32, K: i32, tid: u32, nthreads: u32): void {
  const P = gHo * gWo, L = gCin * gKh * 3;
  const CT = (gCout + TC - 1) / TC, LT = gCin * gKh, tiles = CT * LT;
  const padded = gPh != 0 || gPw != 0;
  const Hs = padded ? gH + 2 * gPh : gH, Ws = padded ? gW + 2 * gPw : gW;
  const skip = <usize>(Ws - gWo) << 2;
  // A thread takes a contiguous run of K·tiles, channel-triple-major (it
  // rebuilds only its triples' dy rows from the pooled cotangent, and pads
  // every input plane) where padding is the cheaper to repeat, else (c,i)-major
  // (pads only its input planes; dy in memory costs nothing to share).
  const pooled = pi(params, C_POOL) == 2;
  const coMajor = pooled && <i64>gCin * <i64>(Hs * Ws) < <i64>gCout * <i64>P;
  const xPer = gCin * gH * gW, yPer = gCout * P, pPer = gCout * (gHo >> 1) * (gWo >> 1);
  const X = <usize>pi(params, C_X), Y = <usize>pi(params, C_Y), Wt = <usize>pi(params, C_WT);
  const xbs = pi(params, C_XBS), ybs = pi(params, C_YBS), wbs = pi(params, C_WBS);
  const bias = <usize>pi(params, C_BIAS), biasBs = pi(params, C_BIASBS);
  const accum = pi(params, C_ACCUM) != 0;
  const total = <i64>K * <i64>tiles, T = <i64>nthreads;
  const u0 = <i32>(total * <i64>tid / T), u1 = <i32>(total * <i64>(tid + 1) / T);
  if (u0 >= u1) return;
  const acc = gDwT, bacc = gDwT + <usize>tiles * TILE, dyT = bacc + <usize>CT * (TC << 4);
  const tri = <usize>P * (TC << 2);
  // Input planes whose zero frame this thread's pad scratch holds (padPlanes).
  let fr0 = 0, fr1 = 0;
  for (let z = u0 / tiles; z <= (u1 - 1) / tiles; z++) {
    const t0 = max(u0 - z * tiles, 0), t1 = min(u1 - z * tiles, tiles);
    // The dy rows (m0..m1) and input planes (c0..c1) the tiles t0..t1 read.
    let m0 = 0, m1 = gCout, c0 = 0, c1 = gCin;
    if (coMajor) { m0 = (t0 / LT) * TC; m1 = min(gCout, ((t1 - 1) / LT + 1) * TC); }
    else { c0 = (t0 / CT) / gKh; c1 = ((t1 - 1) / CT) / gKh + 1; }
    for (let t = t0; t < t1; t++) {
      const a = acc + <usize>t * TILE;
      if (ASC_FEATURE_SIMD) for (let k = 0; k < TILE; k += 16) v128.store(a + <usize>k, f32x4.splat(0));
      if (tileL(t, coMajor, CT, LT) == 0) zeroTriple(bacc + (<usize>tileCo(t, coMajor, CT, LT) * (TC << 4)));
    }
    const xz = X + (<usize>(z * xbs) << 2), yz = Y + (<usize>(z * ybs) << 2);
    const pp = <usize>pi(params, C_PP) + (<usize>(z * pi(params, C_PPBS)) << 2), rt = <usize>pi(params, C_RT) + (<usize>(z * pi(params, C_RTBS)) << 2);
    // The unpooling writes real channels only: a last triple's missing rows are zeros (its tiles' sums there are never stored).
    if (pooled && m1 == gCout) for (let co = gCout; co < CT * TC; co++) zeroRow(dyT + <usize>(co / TC) * tri + (<usize>(co % TC) << 4), P);
    for (let b = 0; b < B; b++) {
      const xb = xz + (<usize>b * <usize>xPer << 2);
      let src = xb;
      if (padded) {
        const frame = c0 < fr0 || c1 > fr1;
        padPlanes(xb, gPad, c0, c1, frame);
        if (frame) { fr0 = c0; fr1 = c1; }
        src = gPad;
      }
      // dy with each triple's rows interleaved, so a tile reads it at one address +0, +16, +32 bytes:
      // rebuilt so from the pooled cotangent, or copied so from memory.
      if (pooled) {
        const o = <usize>b * <usize>pPer << 2;
        unpoolTriples(pp + o, rt + o, dyT, m0, m1, gHo, gWo);
      } else {
        const dy = yz + (<usize>b * <usize>yPer << 2);
        for (let ct = m0 / TC; ct < (m1 + TC - 1) / TC; ct++) {
          const co = ct * TC;
          interleave(dyT + <usize>ct * tri, dy + (<usize>co * <usize>P << 2), dy + (<usize>min(co + 1, gCout - 1) * <usize>P << 2),
            dy + (<usize>min(co + 2, gCout - 1) * <usize>P << 2), P);
        }
      }
      for (let t = t0; t < t1; t++) {
        const ct = tileCo(t, coMajor, CT, LT), lt = tileL(t, coMajor, CT, LT);
        const d = dyT + <usize>ct * tri;
        const c = lt / gKh, i = lt - c * gKh;
        dotTile(acc + <usize>t * TILE, d, src + (<usize>((c * Hs + i) * Ws) << 2), gHo, gWo, skip);
        if (bias != 0 && lt == 0) biasTriple(bacc + (<usize>ct * (TC << 4)), d, P);
      }
    }
    const wz = Wt + (<usize>(z * wbs) << 2), bz = bias + (<usize>(z * biasBs) << 2);
    for (let t = t0; t < t1; t++) {
      const ct = tileCo(t, coMajor, CT, LT), lt = tileL(t, coMajor, CT, LT);
      const a = acc + <usize>t * TILE;
      for (let k = 0; k < TC; k++) {
        const co = ct * TC + k;
        if (co >= gCout) break;
        for (let j = 0; j < 3; j++) {
          const p = wz + (<usize>(co * L + lt * 3 + j) << 2), v = lanesAt(a + (<usize>(k * 3 + j) << 4));
          store<f32>(p, accum ? load<f32>(p) + v : v);
        }
        if (bias != 0 && lt == 0) {
          const p = bz + (<usize>co << 2), v = lanesAt(bacc + (<usize>(ct * TC + k) << 4));
          store<f32>(p, accum ? load<f32>(p) + v : v);
        }
      }
    }
  }
}

@inline function tileCo(t: i32, coMajor: bool, CT: i32, LT: i32): i32 { return coMajor ? t / LT : t % CT; }
@inline function tileL(t: i32, coMajor: bool, CT: i32, LT: i32): i32 { return coMajor ? t % LT : t / CT; }

@inline function zeroTriple(p: usize): void {
  if (ASC_FEATURE_SIMD) { v128.store(p, f32x4.splat(0)); v128.store(p, f32x4.splat(0), 16); v128.store(p, f32x4.splat(0), 32); }
}

/** Zeros row k's f32x4s of a triple (at d: stride 48 bytes), P floats. */
function zeroRow(d: usize, P: i32): void {
  if (!ASC_FEATURE_SIMD) return;
  for (let p = 0; p < P; p += 4) { v128.store(d, f32x4.splat(0)); d += 48; }
}

/** dst[p/4][k][4] = row k's f32x4 at p, rows r0, r1, r2 of P floats (P a multiple of 4). */
function interleave(dst: usize, r0: usize, r1: usize, r2: usize, P: i32): void {
  if (!ASC_FEATURE_SIMD) return;
  for (let p: usize = 0, n = <usize>P << 2; p < n; p += 16) {
    v128.store(dst, v128.load(r0 + p)); v128.store(dst, v128.load(r1 + p), 16); v128.store(dst, v128.load(r2 + p), 32);
    dst += 48;
  }
}

/**
 * acc[k][j] += Σ over one example's positions of dy row k (interleaved at d)
 * times the image at x shifted by j: Ho rows of Wo positions, the image's
 * rows `skip` bytes apart past the Wo read.
 */
function dotTile(acc: usize, d: usize, x: usize, Ho: i32, Wo: i32, skip: usize): void {
  if (!ASC_FEATURE_SIMD) return;
  let a00 = v128.load(acc), a01 = v128.load(acc, 16), a02 = v128.load(acc, 32);
  let a10 = v128.load(acc, 48), a11 = v128.load(acc, 64), a12 = v128.load(acc, 80);
  let a20 = v128.load(acc, 96), a21 = v128.load(acc, 112), a22 = v128.load(acc, 128);
  const row = <usize>Wo << 2;
  for (let r = 0; r < Ho; r++) {
    const end = x + row;
    do {
      const x0 = v128.load(x), x1 = v128.load(x, 4), x2 = v128.load(x, 8);
      let e = v128.load(d);
      a00 = fma(e, x0, a00); a01 = fma(e, x1, a01); a02 = fma(e, x2, a02);
      e = v128.load(d, 16);
      a10 = fma(e, x0, a10); a11 = fma(e, x1, a11); a12 = fma(e, x2, a12);
      e = v128.load(d, 32);
      a20 = fma(e, x0, a20); a21 = fma(e, x1, a21); a22 = fma(e, x2, a22);
      x += 16; d += 48;
    } while (x < end);
    x += skip;
  }
  v128.store(acc, a00); v128.store(acc, a01, 16); v128.store(acc, a02, 32);
  v128.store(acc, a10, 48); v128.store(acc, a11, 64); v128.store(acc, a12, 80);
  v128.store(acc, a20, 96); v128.store(acc, a21, 112); v128.store(acc, a22, 128);
}

/** acc[k] += Σ over P positions of dy row k (interleaved at d), lane-wise. */
function biasTriple(acc: usize, d: usize, P: i32): void {
  if (!ASC_FEATURE_SIMD) return;
  let s0 = v128.load(acc), s1 = v128.load(acc, 16), s2 = v128.load(acc, 32);
  for (let p = 0; p < P; p += 4) {
    s0 = f32x4.add(s0, v128.load(d)); s1 = f32x4.add(s1, v128.load(d, 16)); s2 = f32x4.add(s2, v128.load(d, 32));
    d += 48;
  }
  v128.store(acc, s0); v128.store(acc, s1, 16); v128.store(acc, s2, 32);
}
