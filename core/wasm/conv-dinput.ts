// Conv2d's input gradient: the choice between its two forms (dinputByZ), the
// Z form (Z_b = Wᵀ · dy_b by the gather GEMM, then col2im), and the dilation
// of dy into D_b that the GEMM form (run by fwdOrDinput in conv-forward.ts)
// gathers from. See conv.ts for the scheme.
import { KC } from './matmul';
import { setOut } from './conv-micro';
import {
  C_ACCUM, C_WBS, C_WT, C_X, C_XBS, C_Y, C_YBS, copyF32, gA, gARs, gCin, gColStride, gCout, gH, gHo, gKh, gKw,
  gOffA, gOffB, gPad, gPh, gPw, gRowStride, gS, gSrc, gTile, gW, gWg, gWo, gemmGather, pi, zeroF32,
} from './conv-common';

/**
 * dinput's two gather forms. With few input channels (one or two 4-row
 * panels) or stride > 1 (where D_b is mostly zeros) it runs as
 *   Z_b[(ci,i,j), (oh,ow)] = Σ_co w[co, ci, i, j] · dy_b[co, oh, ow]   (GEMM, B = dy_b as it lies)
 *   dX_b[ci, ih, iw] (+)= Σ_(i,j) Z_b[(ci,i,j), ((ih+padH−i)/s, (iw+padW−j)/s)]   (valid terms, row-major)
 * when Z_b is at most 4 Mi floats; otherwise as the GEMM over (co, i, j) from D_b.
 * Either way each input element sums its own terms. The choice depends on the shape only.
 */
export function dinputByZ(Cin: i32, kh: i32, kw: i32, s: i32, Ho: i32, Wo: i32): bool {
  return (Cin < 8 || s > 1) && <u64>Cin * <u64>(kh * kw) * <u64>Ho * <u64>Wo <= (1 << 22);
}

/** dinput as Z_b = Wᵀ · dy_b, then each input gathers its terms from Z_b (see dinputByZ). */
export function dinputZ(params: usize, B: i32, K: i32, tid: u32, nthreads: u32): void {
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
    setOut(Z, P, false, gTile);
    gemmGather(M, 0, P, gCout, kcStep);
    col2im(Z, acc, X + (<usize>(z * xbs) << 2) + (<usize>b * <usize>xPer << 2), accum);
  }
}

/** dX[ci, ih, iw] (+)= Σ over valid (i, j), row-major, from 0, of Z[(ci,i,j), oh, ow]. */
export function col2im(Z: usize, acc: usize, dx: usize, accum: bool): void {
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
        // Stride s > 1: for each valid (i, j), row-major, the columns it reaches are every s-th
        // from the first with (iw + padW − j) ≡ 0 mod s; each adds its Z term into acc there.
        // The same terms in the same order per input as summing them one input at a time.
        zeroF32(acc, gW);
        for (let i = 0; i < gKh; i++) {
          const th = ih + gPh - i;
          if (th < 0 || th % gS != 0 || th / gS >= gHo) continue;
          const oh = th / gS;
          for (let j = 0; j < gKw; j++) {
            const row = Z + (<usize>((ci * khw + i * gKw + j) * P + oh * gWo) << 2);
            let iw = j - gPw; // where tw = iw + padW − j = 0
            if (iw < 0) iw += ((gS - 1 - iw) / gS) * gS;
            for (let ow = (iw + gPw - j) / gS; iw < gW && ow < gWo; iw += gS, ow++) {
              const p = acc + (<usize>iw << 2);
              store<f32>(p, load<f32>(p) + load<f32>(row + (<usize>ow << 2)));
            }
          }
        }
        for (let iw = 0; iw < gW; iw++) {
          const o = out + (<usize>iw << 2), v = load<f32>(acc + (<usize>iw << 2));
          store<f32>(o, accum ? load<f32>(o) + v : v);
        }
      }
    }
  }
}

/**
 * D[co, oh·s + kh−1−padH, ow·s + kw−1−padW] = dy[co, oh, ow], zero elsewhere
 * (Cout × (H+kh−1) × (W+kw−1)); terms that fall outside read no input. At
 * stride 1 the zero frame is the same for every example of an op: `frame`
 * writes it (the thread's first example into this scratch), else only dy's
 * rows are copied in.
 */
export function dilate(dy: usize, dst: usize, Hd: i32, Wd: i32, frame: bool): void {
  const r0 = gKh - 1 - gPh, q0 = gKw - 1 - gPw;
  if (gS == 1 && r0 >= 0 && q0 >= 0 && r0 + gHo <= Hd && q0 + gWo <= Wd) {
    const rowB = <usize>Wd << 2, right = Wd - q0 - gWo;
    for (let c = 0; c < gCout; c++) {
      const plane = dst + (<usize>(c * Hd) * <usize>Wd << 2);
      if (frame) zeroF32(plane, r0 * Wd);
      for (let oh = 0; oh < gHo; oh++) {
        const d = plane + <usize>(r0 + oh) * rowB;
        if (frame) { zeroF32(d, q0); zeroF32(d + (<usize>(q0 + gWo) << 2), right); }
        copyF32(d + (<usize>q0 << 2), dy + (<usize>((c * gHo + oh) * gWo) << 2), gWo);
      }
      if (frame) zeroF32(plane + <usize>(r0 + gHo) * rowB, (Hd - r0 - gHo) * Wd);
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
