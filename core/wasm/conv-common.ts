// Conv2d's shared pieces (see conv.ts for the scheme): the params block's
// layout, the per-instance globals that describe the op in flight and its
// gather, row copy/clear helpers, the zero padding of the input image, and
// the implicit GEMM with gathering packers (gemmGather, packBGather,
// packAGather) that forward and both dinput forms run.
import { KC, MC, MR, NC, NR, micro } from './matmul';
import { microDirect } from './conv-micro';

// The params block (i32 words), written by core/ts/backend/wasm/backend.ts.
export const C_MODE = 0, C_B = 1, C_K = 2, C_CIN = 3, C_H = 4, C_W = 5, C_COUT = 6, C_KH = 7, C_KW = 8, C_S = 9,
  C_PH = 10, C_PW = 11, C_HO = 12, C_WO = 13, C_X = 14, C_XBS = 15, C_WT = 16, C_WBS = 17, C_Y = 18, C_YBS = 19,
  C_BIAS = 20, C_BIASBS = 21, C_ACCUM = 22, C_SCRATCH = 23, C_SSTRIDE = 24, C_CS = 25, C_CSSTRIDE = 26,
  // The forward's activation epilogue: 1 + its id (core/ts/backend/activations.ts), 0 for none.
  C_ACT = 27,
  // The max-pool fusion (conv-pool.ts): C_POOL 1 = forward pools into C_PP (+ routes), 2 = dweight
  // unpools its dy from C_PP (the pooled cotangent) and the routes at C_RT; 0 = neither.
  C_POOL = 28, C_PP = 29, C_PPBS = 30, C_RT = 31, C_RTBS = 32;

@inline export function pi(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
@inline export function a16(n: usize): usize { return (n + 15) & ~15; }

// Shape of the op in flight (per-instance globals: each worker has its own).
export let gCin: i32 = 0, gH: i32 = 0, gW: i32 = 0, gCout: i32 = 0, gKh: i32 = 0, gKw: i32 = 0, gS: i32 = 1;
export let gPh: i32 = 0, gPw: i32 = 0, gHo: i32 = 0, gWo: i32 = 0;
// The gather: B source, its offsets per reduction index, the positions' grid.
export let gSrc: usize = 0, gOffB: usize = 0, gRowStride: i32 = 0, gColStride: i32 = 1, gWg: i32 = 1;
// The A operand of forward/dinput: A[m, l] = gA[m·gARs + offA[l]].
export let gA: usize = 0, gARs: i32 = 0, gOffA: usize = 0;
// Scratch: packed panels (matmul's layout), the padded image, tables.
export let gAp: usize = 0, gBp: usize = 0, gTile: usize = 0;
// The A operand (gA) whose packed blocks gAp holds, 0 for none (gemmGather; conv() resets it per call).
export let gApFor: usize = 0;
export let gPad: usize = 0, gBiasAcc: usize = 0, gTmp: usize = 0, gDwT: usize = 0;
// One example's full-size conv output or cotangent, for the max-pool fusion.
export let gYs: usize = 0;

// Row copies and clears of a few dozen floats: inline loops (V8 runs
// memory.copy/fill as calls into the runtime, which costs more than the copy).
@inline export function copyF32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

@inline export function zeroF32(dst: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), i32x4.splat(0));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), 0);
}

/**
 * xpad[c, r, q] = x[c, r − padH, q − padW], zero outside: Cin × (H+2padH) ×
 * (W+2padW), planes c0..c1. The zero frame is the same for every example of
 * an op: `frame` writes it (the thread's first image into this scratch), else
 * only the rows inside it are copied.
 */
export function padPlanes(x: usize, dst: usize, c0: i32, c1: i32, frame: bool): void {
  const Hp = gH + 2 * gPh, Wp = gW + 2 * gPw;
  for (let c = c0; c < c1; c++) {
    const plane = dst + (<usize>(c * Hp) * <usize>Wp << 2);
    if (frame) zeroF32(plane, gPh * Wp);
    for (let r = 0; r < gH; r++) {
      const d = plane + (<usize>((r + gPh) * Wp) << 2);
      if (frame) { zeroF32(d, gPw); zeroF32(d + (<usize>(gPw + gW) << 2), gPw); }
      copyF32(d + (<usize>gPw << 2), x + (<usize>((c * gH + r) * gW) << 2), gW);
    }
    if (frame) zeroF32(plane + (<usize>((gPh + gH) * Wp) << 2), gPh * Wp);
  }
}

/**
 * C[0..M, n0..n1) (=|+=) A · gather(B): matmul.ts's loop nest with gathering
 * packers. When A's rows fit one MC block (the usual conv: Cout or Cin ≤ 128)
 * each B micro-panel is packed just before the row panels use it, so it is
 * read back from L1 (a whole KC×NC block would not even stay in L2, and with
 * few rows, e.g. dinput into 3 input channels, it would be read only once).
 */
export function gemmGather(M: i32, n0: i32, n1: i32, L: i32, kcStep: i32): void {
  if (M <= MC) {
    // A is the same weights for every example of a model: where all of its
    // packed blocks fit the A scratch they are packed once per model and call
    // (block pc at pc·Mp floats) instead of once per example.
    const Mp = (M + MR - 1) / MR * MR;
    const keep = Mp * L <= MC * KC;
    for (let pc = 0; pc < L; pc += kcStep) {
      const kc = min(kcStep, L - pc);
      const ap = keep ? gAp + (<usize>(pc * Mp) << 2) : gAp;
      if (!keep || gApFor != gA) packAGather(0, M, pc, kc, ap);
      for (let jr = n0; jr < n1; jr += NR) {
        const nr = min(NR, n1 - jr);
        const r0 = jr / gWg, c0 = jr - r0 * gWg;
        if (ASC_FEATURE_SIMD && nr == NR && gColStride == 1 && c0 + NR <= gWg) {
          // Eight positions in one source row: B is read where it lies (conv-micro.ts).
          const src = gSrc + (<usize>(r0 * gRowStride + c0) << 2), offs = gOffB + (<usize>pc << 2);
          for (let ir = 0; ir < M; ir += MR) microDirect(kc, ap + (<usize>(ir * kc) << 2), src, offs, ir, jr, min(MR, M - ir), pc == 0);
          continue;
        }
        packBGather(pc, kc, jr, nr);
        for (let ir = 0; ir < M; ir += MR) {
          micro(kc, ap + (<usize>(ir * kc) << 2), gBp, ir, jr, min(MR, M - ir), nr, pc == 0);
        }
      }
    }
    gApFor = keep ? gA : 0;
    return;
  }
  gApFor = 0;
  for (let jc = n0; jc < n1; jc += NC) {
    const nc = min(NC, n1 - jc);
    for (let pc = 0; pc < L; pc += kcStep) {
      const kc = min(kcStep, L - pc);
      packBGather(pc, kc, jc, nc);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        packAGather(ic, mc, pc, kc, gAp);
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
export function packBGather(pc: i32, kc: i32, jc: i32, nc: i32): void {
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

/** ap[ir/MR][k][i] = A[(ic + ir + i)·aRs + offA[pc + k]]; rows past mc repeat the last row. */
export function packAGather(ic: i32, mc: i32, pc: i32, kc: i32, ap: usize): void {
  const offs = gOffA + (<usize>pc << 2);
  for (let ir = 0; ir < mc; ir += MR) {
    const dst = ap + (<usize>(ir * kc) << 2);
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
