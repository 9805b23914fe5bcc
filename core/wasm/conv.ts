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
// panel is two v128 loads per k, and the forward/dinput GEMM does not pack it
// at all (conv-micro.ts).
//
// Threads: every thread calls conv(params, tid, nthreads). forward/dinput cut
// the work into jobs of one example (K·B of them; examples are sliced along
// their positions only when there are fewer than threads); dweight cuts the
// output dW into row or column slices (conv-dot.ts: runs of its tiles). No output element is summed by two
// jobs, and each is summed in an order fixed by the shape alone: the result is
// the same bit for bit whatever the thread count.
//
// The pieces: conv-common.ts (params layout, globals, padding, the gather
// GEMM), conv-forward.ts (forward and dinput's GEMM form), conv-dinput.ts
// (the form choice, the Z form, the dilation of dy), conv-dweight.ts (dW and
// the bias gradient), conv-dot.ts (dW and the bias gradient of 3-wide
// stride-1 kernels as f32x4 dot products along positions, with no packing),
// conv-micro.ts (the micro-kernel reading B panels where they lie in the
// image), conv-pool.ts (the max-pool fusion). This file sizes the scratch and
// dispatches by mode.
import { KC, MC, NC } from './matmul';
import {
  C_B, C_CIN, C_COUT, C_CS, C_CSSTRIDE, C_H, C_HO, C_K, C_KH, C_KW, C_MODE, C_PH, C_POOL, C_PW, C_S, C_SCRATCH, C_SSTRIDE, C_W, C_WO,
  a16, gAp, gApFor, gBiasAcc, gBp, gCin, gCout, gDwT, gH, gHo, gKh, gKw, gOffA, gOffB, gPad, gPh, gPw, gS, gTile, gTmp, gW, gWo, gYs, pi,
} from './conv-common';
import { fwdOrDinput } from './conv-forward';
import { dinputByZ, dinputZ } from './conv-dinput';
import { dweight, dweightTransposed } from './conv-dweight';
import { dotScratchBytes, dweightByDot, dweightDot } from './conv-dot';

/** Bytes of dweight's own scratch: dotScratchBytes, or dWᵀ where dweight runs transposed, else none. */
function dwScratchBytes(mode: i32, L: i32, Cin: i32, Cout: i32, kh: i32, kw: i32, s: i32, Ho: i32, Wo: i32): usize {
  if (mode != 2) return 0;
  if (dweightByDot(Cin, Cout, kh, kw, s, Ho, Wo)) return dotScratchBytes(Cin, Cout, kh, Ho * Wo);
  return dweightTransposed(L, Cout) ? <usize>L * <usize>Cout << 2 : 0;
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

/** Bytes of conv scratch one thread needs for the op at `params` (beyond matmul's scratch). */
export function convScratchBytes(params: usize): u32 {
  const mode = pi(params, C_MODE), Cin = pi(params, C_CIN), Cout = pi(params, C_COUT), kh = pi(params, C_KH), kw = pi(params, C_KW);
  const s = pi(params, C_S), Ho = pi(params, C_HO), Wo = pi(params, C_WO);
  const L = <usize>reductionLength(mode, Cin, Cout, kh, kw, s, Ho, Wo);
  const src = srcFloats(mode, Cin, pi(params, C_H), pi(params, C_W), Cout, kh, kw, pi(params, C_PH), pi(params, C_PW), s, Ho, Wo);
  const dwT = dwScratchBytes(mode, <i32>L, Cin, Cout, kh, kw, s, Ho, Wo);
  const ys = pi(params, C_POOL) != 0 ? <usize>Cout * <usize>Ho * <usize>Wo << 2 : 0;
  return <u32>(a16(src << 2) + 2 * a16(L << 2) + a16(<usize>Cout << 2) + 64 + a16(dwT) + ys);
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
  gApFor = 0;
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
  gYs = gDwT + a16(dwScratchBytes(mode, L, gCin, gCout, gKh, gKw, gS, gHo, gWo));
  if (mode == 2 && dweightByDot(gCin, gCout, gKh, gKw, gS, gHo, gWo)) dweightDot(params, B, K, tid, nthreads);
  else if (mode == 2) dweight(params, B, K, L, tid, nthreads);
  else if (mode == 1 && dinputByZ(gCin, gKh, gKw, gS, gHo, gWo)) dinputZ(params, B, K, tid, nthreads);
  else fwdOrDinput(params, mode, B, K, L, tid, nthreads);
}
