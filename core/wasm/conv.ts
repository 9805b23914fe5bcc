// Conv2d (NCHW, PyTorch's cross-correlation, zero padding) as implicit GEMM on
// the Goto/BLIS machinery of matmul.ts: the same 4×8 micro-kernel and
// micro-panel layouts, with packing routines that gather op(B) straight from
// the image (no im2col of the batch is ever formed; one KC×NC block at a time).
//
//   forward  Y_b[Cout, Ho·Wo] (+)= W[Cout, L] · col(x_b)[L, Ho·Wo] (+ bias),
//            L = (ci, i, j), col[(ci,i,j), (oh,ow)] = xpad[ci, oh·s+i, ow·s+j]
//   dinput   dX_b[Cin, H·W] (+)= W'[Cin, L'] · G_b[L', H·W], L' = (co, i, j),
//            W'[ci, (co,i,j)] = w[co, ci, i, j], G[(co,i,j), (ih,iw)] =
//            dy[co, (ih+padH−i)/s, (iw+padW−j)/s], zero where not divisible or
//            out of range: read from D_b, dy with the zeros put in (dilated by
//            s, shifted by kh−1−padH), so G is a stride-1 gather from D_b.
//            Each dX element is one sum over (co, i, j): no atomics.
//   dweight  dW[Cout, L] (+)= Σ_b dY_b[Cout, Ho·Wo] · col(x_b)ᵀ: one long
//            reduction over (b, oh, ow) in blocks of ≤ KC positions of one
//            example, in the same order whoever computes a tile, plus
//            dbias[co] (+)= Σ_{b,p} dy[b, co, p] (per block, then blockwise).
//
// Every gather reads `src[offB[l] + base(p)]`: offB holds each reduction
// index's offset in the (padded) source image, base(p) = row(p)·rowStride +
// col(p)·colStride. Where eight positions lie in one row at stride 1 the
// panel is two v128 loads per k.
//
// Threads: every thread calls conv(params, tid, nthreads). forward/dinput cut
// the work into jobs of one example (K·B of them; examples are sliced along
// their positions only when there are fewer than threads); dweight cuts the
// output dW into row or column slices. No output element is summed by two
// jobs, and each is summed in an order fixed by the shape alone: the result is
// the same bit for bit whatever the thread count.
import { KC, MC, MR, NC, NR, micro, setMicroOut } from './matmul';

// The params block (i32 words), written by core/ts/backend/wasm/backend.ts.
const C_MODE = 0, C_B = 1, C_K = 2, C_CIN = 3, C_H = 4, C_W = 5, C_COUT = 6, C_KH = 7, C_KW = 8, C_S = 9,
  C_PH = 10, C_PW = 11, C_HO = 12, C_WO = 13, C_X = 14, C_XBS = 15, C_WT = 16, C_WBS = 17, C_Y = 18, C_YBS = 19,
  C_BIAS = 20, C_BIASBS = 21, C_ACCUM = 22, C_SCRATCH = 23, C_SSTRIDE = 24, C_CS = 25, C_CSSTRIDE = 26;

@inline function pi(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
@inline function a16(n: usize): usize { return (n + 15) & ~15; }

// Shape of the op in flight (per-instance globals: each worker has its own).
let gCin: i32 = 0, gH: i32 = 0, gW: i32 = 0, gCout: i32 = 0, gKh: i32 = 0, gKw: i32 = 0, gS: i32 = 1;
let gPh: i32 = 0, gPw: i32 = 0, gHo: i32 = 0, gWo: i32 = 0;
// The gather: B source, its offsets per reduction index, the positions' grid.
let gSrc: usize = 0, gOffB: usize = 0, gRowStride: i32 = 0, gColStride: i32 = 1, gWg: i32 = 1;
// The A operand of forward/dinput: A[m, l] = gA[m·gARs + offA[l]].
let gA: usize = 0, gARs: i32 = 0, gOffA: usize = 0;
// Scratch: packed panels (matmul's layout), the padded image, tables.
let gAp: usize = 0, gBp: usize = 0, gTile: usize = 0;
let gPad: usize = 0, gBiasAcc: usize = 0, gTmp: usize = 0, gDwT: usize = 0;

/**
 * dinput's two gather forms. With few input channels (one or two 4-row
 * panels) or stride > 1 (where D_b is mostly zeros) it runs as
 *   Z_b[(ci,i,j), (oh,ow)] = Σ_co w[co, ci, i, j] · dy_b[co, oh, ow]   (GEMM, B = dy_b as it lies)
 *   dX_b[ci, ih, iw] (+)= Σ_(i,j) Z_b[(ci,i,j), ((ih+padH−i)/s, (iw+padW−j)/s)]   (valid terms, row-major)
 * when Z_b is at most 4 Mi floats; otherwise as the GEMM over (co, i, j) from D_b.
 * Either way each input element sums its own terms. The choice depends on the shape only.
 */
function dinputByZ(Cin: i32, kh: i32, kw: i32, s: i32, Ho: i32, Wo: i32): bool {
  return (Cin < 8 || s > 1) && <u64>Cin * <u64>(kh * kw) * <u64>Ho * <u64>Wo <= (1 << 22);
}

/** Floats of the per-example source image a thread copies: the padded input, dinput's D_b or Z_b. */
function srcFloats(mode: i32, Cin: i32, H: i32, W: i32, Cout: i32, kh: i32, kw: i32, ph: i32, pw: i32, s: i32, Ho: i32, Wo: i32): usize {
  if (mode == 1) {
    if (dinputByZ(Cin, kh, kw, s, Ho, Wo)) return <usize>Cin * <usize>(kh * kw) * <usize>Ho * <usize>Wo + <usize>W;
    return <usize>Cout * <usize>(H + kh - 1) * <usize>(W + kw - 1);
  }
  if (ph == 0 && pw == 0) return 0;
  return <usize>Cin * <usize>(H + 2 * ph) * <usize>(W + 2 * pw);
}

/** Length of the GEMM's reduction (forward, dinput) or of dW's rows (dweight). */
function reductionLength(mode: i32, Cin: i32, Cout: i32, kh: i32, kw: i32, s: i32, Ho: i32, Wo: i32): i32 {
  if (mode == 1) return dinputByZ(Cin, kh, kw, s, Ho, Wo) ? Cout : Cout * kh * kw;
  return Cin * kh * kw;
}

/**
 * dweight computes dWᵀ[L, Cout] (rows (ci,i,j), columns co, in a scratch
 * that is transposed into dW at the end) where that pads the 4×8 micro-tiles
 * less than dW[Cout, L] does, e.g. L = 27 against Cout = 32; the shape alone decides.
 */
function dweightTransposed(L: i32, Cout: i32): bool {
  const plain = <i64>((Cout + MR - 1) / MR * MR) * <i64>((L + NR - 1) / NR * NR);
  const trans = <i64>((L + MR - 1) / MR * MR) * <i64>((Cout + NR - 1) / NR * NR);
  return trans < plain && <i64>L * <i64>Cout <= (1 << 20);
}

/** Bytes of conv scratch one thread needs for the op at `params` (beyond matmul's scratch). */
export function convScratchBytes(params: usize): u32 {
  const mode = pi(params, C_MODE), Cin = pi(params, C_CIN), Cout = pi(params, C_COUT), kh = pi(params, C_KH), kw = pi(params, C_KW);
  const s = pi(params, C_S), Ho = pi(params, C_HO), Wo = pi(params, C_WO);
  const L = <usize>reductionLength(mode, Cin, Cout, kh, kw, s, Ho, Wo);
  const src = srcFloats(mode, Cin, pi(params, C_H), pi(params, C_W), Cout, kh, kw, pi(params, C_PH), pi(params, C_PW), s, Ho, Wo);
  const dwT = mode == 2 && dweightTransposed(<i32>L, Cout) ? L * <usize>Cout << 2 : 0;
  return <u32>(a16(src << 2) + 2 * a16(L << 2) + a16(<usize>Cout << 2) + 64 + dwT);
}

/** Runs thread tid's share of the conv described at `params`. */
export function conv(params: usize, tid: u32, nthreads: u32): void {
  const mode = pi(params, C_MODE), B = pi(params, C_B), K = pi(params, C_K);
  gCin = pi(params, C_CIN); gH = pi(params, C_H); gW = pi(params, C_W); gCout = pi(params, C_COUT);
  gKh = pi(params, C_KH); gKw = pi(params, C_KW); gS = pi(params, C_S); gPh = pi(params, C_PH); gPw = pi(params, C_PW);
  gHo = pi(params, C_HO); gWo = pi(params, C_WO);
  if (B <= 0 || K <= 0) return;
  const scratch = <usize>pi(params, C_SCRATCH) + <usize>tid * <usize>pi(params, C_SSTRIDE);
  gAp = scratch;
  gBp = gAp + <usize>(MC * KC * 4);
  gTile = gBp + <usize>(KC * NC * 4);
  const cs = <usize>pi(params, C_CS) + <usize>tid * <usize>pi(params, C_CSSTRIDE);
  const L = reductionLength(mode, gCin, gCout, gKh, gKw, gS, gHo, gWo);
  gPad = cs;
  gOffB = gPad + a16(srcFloats(mode, gCin, gH, gW, gCout, gKh, gKw, gPh, gPw, gS, gHo, gWo) << 2);
  gOffA = gOffB + a16(<usize>L << 2);
  gBiasAcc = gOffA + a16(<usize>L << 2);
  gTmp = gBiasAcc + a16(<usize>gCout << 2);
  gDwT = gTmp + 64;
  if (mode == 2) dweight(params, B, K, L, tid, nthreads);
  else if (mode == 1 && dinputByZ(gCin, gKh, gKw, gS, gHo, gWo)) dinputZ(params, B, K, tid, nthreads);
  else fwdOrDinput(params, mode, B, K, L, tid, nthreads);
}

// ------------------------------------------------------------ forward, dinput

function fwdOrDinput(params: usize, mode: i32, B: i32, K: i32, L: i32, tid: u32, nthreads: u32): void {
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

  // Jobs: one per (model, example), sliced along positions only when needed.
  const T = <i32>nthreads, units = K * B;
  const tiles = (N + NR - 1) / NR;
  let S = (T + units - 1) / units;
  if (S > tiles) S = tiles;
  const jobs = units * S;
  const j0 = (jobs * <i32>tid) / T, j1 = (jobs * (<i32>tid + 1)) / T;
  // Reduction blocks of equal length (≤ KC): the split depends on L only.
  const nblk = (L + KC - 1) / KC, kcStep = (L + nblk - 1) / nblk;
  for (let job = j0; job < j1; job++) {
    const u = job / S, s = job % S;
    const z = u / B, b = u % B;
    const n0 = min(N, ((tiles * s) / S) * NR), n1 = min(N, ((tiles * (s + 1)) / S) * NR);
    const xb = X + (<usize>(z * xbs) << 2) + (<usize>b * <usize>xPer << 2);
    const yb = Y + (<usize>(z * ybs) << 2) + (<usize>b * <usize>yPer << 2);
    gA = Wt + (<usize>(z * wbs) << 2);
    if (fwd) {
      if (padded) { padImage(xb, gPad); gSrc = gPad; } else gSrc = xb;
      setMicroOut(yb, N, accum, gTile);
    } else {
      dilate(yb, gPad, Hs, Ws);
      gSrc = gPad;
      setMicroOut(xb, N, accum, gTile);
    }
    gemmGather(M, n0, n1, L, kcStep);
    if (bias != 0) addBias(yb, bias + (<usize>(z * biasBs) << 2), M, N, n0, n1);
  }
}

// Row copies and clears of a few dozen floats: inline loops (V8 runs
// memory.copy/fill as calls into the runtime, which costs more than the copy).
@inline function copyF32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

@inline function zeroF32(dst: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), i32x4.splat(0));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), 0);
}

/** dinput as Z_b = Wᵀ · dy_b, then each input gathers its terms from Z_b (see dinputByZ). */
function dinputZ(params: usize, B: i32, K: i32, tid: u32, nthreads: u32): void {
  const khw = gKh * gKw, M = gCin * khw, P = gHo * gWo;
  // A[(ci,i,j), co] = w[co, (ci,i,j)]; B[co, p] = dy_b[co, p], one row of positions.
  for (let k = 0; k < gCout; k++) {
    store<i32>(gOffA + (<usize>k << 2), k * M);
    store<i32>(gOffB + (<usize>k << 2), k * P);
  }
  gARs = 1; gRowStride = 0; gColStride = 1; gWg = P;
  const xPer = gCin * gH * gW, yPer = gCout * P;
  const X = <usize>pi(params, C_X), Y = <usize>pi(params, C_Y), Wt = <usize>pi(params, C_WT);
  const xbs = pi(params, C_XBS), ybs = pi(params, C_YBS), wbs = pi(params, C_WBS);
  const accum = pi(params, C_ACCUM) != 0;
  const Z = gPad, acc = gPad + (<usize>M * <usize>P << 2);
  const nblk = (gCout + KC - 1) / KC, kcStep = (gCout + nblk - 1) / nblk;
  // Jobs: one per (model, example); never sliced (the gather reads all of Z_b).
  const T = <i32>nthreads, units = K * B;
  const j0 = (units * <i32>tid) / T, j1 = (units * (<i32>tid + 1)) / T;
  for (let u = j0; u < j1; u++) {
    const z = u / B, b = u % B;
    gA = Wt + (<usize>(z * wbs) << 2);
    gSrc = Y + (<usize>(z * ybs) << 2) + (<usize>b * <usize>yPer << 2);
    setMicroOut(Z, P, false, gTile);
    gemmGather(M, 0, P, gCout, kcStep);
    col2im(Z, acc, X + (<usize>(z * xbs) << 2) + (<usize>b * <usize>xPer << 2), accum);
  }
}

/** dX[ci, ih, iw] (+)= Σ over valid (i, j), row-major, from 0, of Z[(ci,i,j), oh, ow]. */
function col2im(Z: usize, acc: usize, dx: usize, accum: bool): void {
  const P = gHo * gWo, khw = gKh * gKw;
  for (let ci = 0; ci < gCin; ci++) {
    for (let ih = 0; ih < gH; ih++) {
      const out = dx + (<usize>((ci * gH + ih) * gW) << 2);
      if (gS == 1) {
        // A row at a time: each valid (i, j) adds a shifted row of Z over the columns it reaches.
        zeroF32(acc, gW);
        for (let i = 0; i < gKh; i++) {
          const oh = ih + gPh - i;
          if (oh < 0 || oh >= gHo) continue;
          for (let j = 0; j < gKw; j++) {
            const row = Z + (<usize>((ci * khw + i * gKw + j) * P + oh * gWo) << 2);
            // ow = iw + padW − j ∈ [0, Wo)
            const iw0 = max(0, j - gPw), iw1 = min(gW, gWo + j - gPw);
            const zr = row + (<usize>(gPw - j) << 2); // zr[iw] = Z[.., oh, iw + padW − j]
            let iw = iw0;
            if (ASC_FEATURE_SIMD) {
              for (; iw + 4 <= iw1; iw += 4) {
                const p = acc + (<usize>iw << 2);
                v128.store(p, f32x4.add(v128.load(p), v128.load(zr + (<usize>iw << 2))));
              }
            }
            for (; iw < iw1; iw++) {
              const p = acc + (<usize>iw << 2);
              store<f32>(p, load<f32>(p) + load<f32>(zr + (<usize>iw << 2)));
            }
          }
        }
        let iw = 0;
        if (ASC_FEATURE_SIMD) {
          for (; iw + 4 <= gW; iw += 4) {
            const o = <usize>iw << 2;
            const v = v128.load(acc + o);
            v128.store(out + o, accum ? f32x4.add(v128.load(out + o), v) : v);
          }
        }
        for (; iw < gW; iw++) {
          const o = <usize>iw << 2, v = load<f32>(acc + o);
          store<f32>(out + o, accum ? load<f32>(out + o) + v : v);
        }
      } else {
        for (let iw = 0; iw < gW; iw++) {
          let sum: f32 = 0;
          for (let i = 0; i < gKh; i++) {
            const th = ih + gPh - i;
            if (th < 0 || th % gS != 0 || th / gS >= gHo) continue;
            for (let j = 0; j < gKw; j++) {
              const tw = iw + gPw - j;
              if (tw < 0 || tw % gS != 0 || tw / gS >= gWo) continue;
              sum += load<f32>(Z + (<usize>((ci * khw + i * gKw + j) * P + (th / gS) * gWo + tw / gS) << 2));
            }
          }
          const o = out + (<usize>iw << 2);
          store<f32>(o, accum ? load<f32>(o) + sum : sum);
        }
      }
    }
  }
}

/** xpad[c, r, q] = x[c, r − padH, q − padW], zero outside: Cin × (H+2padH) × (W+2padW). */
function padImage(x: usize, dst: usize): void {
  const Hp = gH + 2 * gPh, Wp = gW + 2 * gPw;
  for (let c = 0; c < gCin; c++) {
    const plane = dst + (<usize>(c * Hp) * <usize>Wp << 2);
    zeroF32(plane, gPh * Wp);
    for (let r = 0; r < gH; r++) {
      const d = plane + (<usize>((r + gPh) * Wp) << 2);
      zeroF32(d, gPw);
      copyF32(d + (<usize>gPw << 2), x + (<usize>((c * gH + r) * gW) << 2), gW);
      zeroF32(d + (<usize>(gPw + gW) << 2), gPw);
    }
    zeroF32(plane + (<usize>((gPh + gH) * Wp) << 2), gPh * Wp);
  }
}

/**
 * D[co, oh·s + kh−1−padH, ow·s + kw−1−padW] = dy[co, oh, ow], zero elsewhere
 * (Cout × (H+kh−1) × (W+kw−1)); terms that fall outside read no input.
 */
function dilate(dy: usize, dst: usize, Hd: i32, Wd: i32): void {
  const r0 = gKh - 1 - gPh, q0 = gKw - 1 - gPw;
  if (gS == 1 && r0 >= 0 && q0 >= 0 && r0 + gHo <= Hd && q0 + gWo <= Wd) {
    // Stride 1: dy's rows at an offset inside a zero frame; only the frame is cleared.
    const rowB = <usize>Wd << 2, right = Wd - q0 - gWo;
    for (let c = 0; c < gCout; c++) {
      const plane = dst + (<usize>(c * Hd) * <usize>Wd << 2);
      zeroF32(plane, r0 * Wd);
      for (let oh = 0; oh < gHo; oh++) {
        const d = plane + <usize>(r0 + oh) * rowB;
        zeroF32(d, q0);
        copyF32(d + (<usize>q0 << 2), dy + (<usize>((c * gHo + oh) * gWo) << 2), gWo);
        zeroF32(d + (<usize>(q0 + gWo) << 2), right);
      }
      zeroF32(plane + <usize>(r0 + gHo) * rowB, (Hd - r0 - gHo) * Wd);
    }
    return;
  }
  memory.fill(dst, 0, <usize>gCout * <usize>Hd * <usize>Wd << 2);
  for (let c = 0; c < gCout; c++) {
    for (let oh = 0; oh < gHo; oh++) {
      const r = oh * gS + r0;
      if (r < 0 || r >= Hd) continue;
      const d = dst + (<usize>((c * Hd + r) * Wd) << 2);
      const src = dy + (<usize>((c * gHo + oh) * gWo) << 2);
      if (gS == 1 && q0 >= 0 && q0 + gWo <= Wd) {
        copyF32(d + (<usize>q0 << 2), src, gWo);
      } else {
        for (let ow = 0; ow < gWo; ow++) {
          const q = ow * gS + q0;
          if (q >= 0 && q < Wd) store<f32>(d + (<usize>q << 2), load<f32>(src + (<usize>ow << 2)));
        }
      }
    }
  }
}

/**
 * C[0..M, n0..n1) (=|+=) A · gather(B): matmul.ts's loop nest with gathering
 * packers. When A's rows fit one MC block (the usual conv: Cout or Cin ≤ 128)
 * each B micro-panel is packed just before the row panels use it, so it is
 * read back from L1 (a whole KC×NC block would not even stay in L2, and with
 * few rows, e.g. dinput into 3 input channels, it would be read only once).
 */
function gemmGather(M: i32, n0: i32, n1: i32, L: i32, kcStep: i32): void {
  if (M <= MC) {
    for (let pc = 0; pc < L; pc += kcStep) {
      const kc = min(kcStep, L - pc);
      packAGather(0, M, pc, kc);
      for (let jr = n0; jr < n1; jr += NR) {
        const nr = min(NR, n1 - jr);
        packBGather(pc, kc, jr, nr);
        for (let ir = 0; ir < M; ir += MR) {
          micro(kc, gAp + (<usize>(ir * kc) << 2), gBp, ir, jr, min(MR, M - ir), nr, pc == 0);
        }
      }
    }
    return;
  }
  for (let jc = n0; jc < n1; jc += NC) {
    const nc = min(NC, n1 - jc);
    for (let pc = 0; pc < L; pc += kcStep) {
      const kc = min(kcStep, L - pc);
      packBGather(pc, kc, jc, nc);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        packAGather(ic, mc, pc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const bp = gBp + (<usize>(jr * kc) << 2);
          const nr = min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            micro(kc, gAp + (<usize>(ir * kc) << 2), bp, ic + ir, jc + jr, min(MR, mc - ir), nr, pc == 0);
          }
        }
      }
    }
  }
}

/**
 * Bp[jr/NR][k][j] = src[offB[pc + k] + base(jc + jr + j)]. Lanes past nc
 * repeat the last position: they feed only output columns that are never
 * stored, and every read stays inside the image.
 */
function packBGather(pc: i32, kc: i32, jc: i32, nc: i32): void {
  const offs = gOffB + (<usize>pc << 2);
  for (let jr = 0; jr < nc; jr += NR) {
    const dst = gBp + (<usize>(jr * kc) << 2);
    const nr = min(NR, nc - jr);
    const q0 = jc + jr;
    const r0 = q0 / gWg, c0 = q0 - r0 * gWg;
    if (nr == NR && gColStride == 1 && c0 + NR <= gWg) {
      // Eight positions in one row: contiguous in the source.
      const base = gSrc + (<usize>(r0 * gRowStride + c0) << 2);
      for (let k = 0; k < kc; k++) {
        const s = base + (<usize>load<i32>(offs + (<usize>k << 2)) << 2);
        const d = dst + (<usize>(k * NR) << 2);
        if (ASC_FEATURE_SIMD) {
          v128.store(d, v128.load(s));
          v128.store(d, v128.load(s, 16), 16);
        } else {
          for (let j = 0; j < NR; j++) store<f32>(d + (<usize>j << 2), load<f32>(s + (<usize>j << 2)));
        }
      }
    } else {
      // Per-lane bases (row wrap, stride > 1, or a ragged last panel).
      let r = r0, c = c0;
      for (let j = 0; j < NR; j++) {
        store<i32>(gTmp + (<usize>j << 2), r * gRowStride + c * gColStride);
        if (j + 1 < nr) { c++; if (c == gWg) { c = 0; r++; } }
      }
      for (let k = 0; k < kc; k++) {
        const s = gSrc + (<usize>load<i32>(offs + (<usize>k << 2)) << 2);
        const d = dst + (<usize>(k * NR) << 2);
        for (let j = 0; j < NR; j++) {
          store<f32>(d + (<usize>j << 2), load<f32>(s + (<usize>load<i32>(gTmp + (<usize>j << 2)) << 2)));
        }
      }
    }
  }
}

/** Ap[ir/MR][k][i] = A[(ic + ir + i)·aRs + offA[pc + k]]; rows past mc repeat the last row. */
function packAGather(ic: i32, mc: i32, pc: i32, kc: i32): void {
  const offs = gOffA + (<usize>pc << 2);
  for (let ir = 0; ir < mc; ir += MR) {
    const dst = gAp + (<usize>(ir * kc) << 2);
    const mr = min(MR, mc - ir);
    const r0 = gA + (<usize>((ic + ir) * gARs) << 2);
    const r1 = gA + (<usize>((ic + ir + min(1, mr - 1)) * gARs) << 2);
    const r2 = gA + (<usize>((ic + ir + min(2, mr - 1)) * gARs) << 2);
    const r3 = gA + (<usize>((ic + ir + min(3, mr - 1)) * gARs) << 2);
    for (let k = 0; k < kc; k++) {
      const o = <usize>load<i32>(offs + (<usize>k << 2)) << 2;
      const d = dst + (<usize>(k * MR) << 2);
      store<f32>(d, load<f32>(r0 + o));
      store<f32>(d, load<f32>(r1 + o), 4);
      store<f32>(d, load<f32>(r2 + o), 8);
      store<f32>(d, load<f32>(r3 + o), 12);
    }
  }
}

/** y[co, n] += bias[co] for n in [n0, n1), after the product (matmul's epilogue order). */
function addBias(y: usize, bias: usize, M: i32, N: i32, n0: i32, n1: i32): void {
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

// -------------------------------------------------------------------- dweight

function dweight(params: usize, B: i32, K: i32, L: i32, tid: u32, nthreads: u32): void {
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
    dweightT(B, K, L, tid, nthreads, xPer, yPer, X, Y, Wt, xbs, ybs, wbs, bias, biasBs, accum);
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
        const xb = xz + (<usize>b * <usize>xPer << 2), yb = yz + (<usize>b * <usize>yPer << 2);
        if (padded) { padImage(xb, gPad); gSrc = gPad; } else gSrc = xb;
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
function dweightT(B: i32, K: i32, L: i32, tid: u32, nthreads: u32, xPer: i32, yPer: i32, X: usize, Y: usize, Wt: usize,
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
      const xb = xz + (<usize>b * <usize>xPer << 2), yb = yz + (<usize>b * <usize>yPer << 2);
      if (padded) { padImage(xb, gPad); gSrc = gPad; } else gSrc = xb;
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
