// Blocked matmul with the fused epilogue of core/shaders/matmul_common.wgsl:
//   C[z] (M×N) = epilogue( alpha · op(A[z]) (M×L) · op(B[z]) (L×N) ),  z < K
//   layout 0 ab:  A [M,L], B [L,N]   layout 1 abt: A [M,L], B [N,L]
//   layout 2 atb: A [L,M], B [L,N]
// Goto/BLIS blocking: op(B) is packed per (NC × KC) block into NR-wide
// column panels and op(A) per (MC × KC) block into MR-high row panels, so the
// micro-kernel streams both contiguously whatever the layout (transposes cost
// only in the packing, O(L·(M+N)) against the O(M·N·L) product). The
// micro-kernel keeps an MR × NR tile of C in f32x4 registers.
//
// Threads: every thread calls mm(params, tid, nthreads) on the same params;
// the K·M·N output is cut into jobs (row or column slices of one model) and
// thread tid does a contiguous range of them, packing into its own scratch.
// The caller (core/ts/backend/wasm) waits for all threads.
import { act_d1, act_f } from './activations';
import { thinMatmul } from './matmul-thin';
import { tanh4 } from './simd-math';

// Micro-tile and cache blocks (L1: a KC×NR panel of B = 8 KiB; L2: an MC×KC
// block of A = 128 KiB and a KC×NC block of B = 1 MiB).
export const MR: i32 = 4;
export const NR: i32 = 8;
export const KC: i32 = 256;
export const MC: i32 = 128;
export const NC: i32 = 1024;

/** Scratch bytes one thread needs: packed A block, packed B block, one edge tile. */
export function mmScratchBytes(): u32 {
  return <u32>((MC * KC + KC * NC + MR * NR) * 4);
}

// The params block (i32 words; alpha is f32), written by the TS backend.
const P_LAYOUT = 0, P_M = 1, P_N = 2, P_L = 3, P_K = 4, P_A = 5, P_ABS = 6, P_B = 7, P_BBS = 8,
  P_C = 9, P_CBS = 10, P_BIAS = 11, P_BIASBS = 12, P_AUX = 13, P_AUXBS = 14, P_OUT2 = 15, P_OUT2BS = 16,
  P_ALPHA = 17, P_ACCUM = 18, P_ACT = 19, P_APPLY = 20, P_SCRATCH = 21, P_SCRATCH_STRIDE = 22, P_AUXOUT = 23, P_AUXOUTBS = 24;

@inline function pi(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }

// The operands of the job in flight (per-instance globals; each worker has its own).
let gLayout: i32 = 0;
let gM: i32 = 0, gN: i32 = 0, gL: i32 = 0;
let gA: usize = 0, gB: usize = 0, gC: usize = 0;
let gAlpha: f32 = 1;
let gAccum: bool = false;
let gAp: usize = 0, gBp: usize = 0, gTile: usize = 0;

/** Runs thread tid's share of the matmul described at `params`. */
export function mm(params: usize, tid: u32, nthreads: u32): void {
  const layout = pi(params, P_LAYOUT);
  const M = pi(params, P_M), N = pi(params, P_N), L = pi(params, P_L), K = pi(params, P_K);
  if (M <= 0 || N <= 0 || K <= 0) return;
  gLayout = layout; gM = M; gN = N; gL = L;
  gAlpha = load<f32>(params + (<usize>P_ALPHA << 2));
  gAccum = pi(params, P_ACCUM) != 0;
  const scratch = <usize>pi(params, P_SCRATCH) + <usize>tid * <usize>pi(params, P_SCRATCH_STRIDE);
  gAp = scratch;
  gBp = gAp + <usize>(MC * KC * 4);
  gTile = gBp + <usize>(KC * NC * 4);

  // Slices per model: enough jobs to keep every thread busy, cut along the
  // longer output side in whole micro-tiles.
  const T = <i32>nthreads;
  const byRows = M >= N;
  const unit = byRows ? MR : NR;
  const tiles = ((byRows ? M : N) + unit - 1) / unit;
  let S = (T + K - 1) / K;
  if (S > tiles) S = tiles;
  const jobs = K * S;
  const j0 = (jobs * <i32>tid) / T, j1 = (jobs * (<i32>tid + 1)) / T;
  for (let j = j0; j < j1; j++) {
    const z = j / S, s = j % S;
    const t0 = (tiles * s) / S, t1 = (tiles * (s + 1)) / S;
    let m0 = 0, m1 = M, n0 = 0, n1 = N;
    if (byRows) { m0 = t0 * MR; m1 = min(M, t1 * MR); } else { n0 = t0 * NR; n1 = min(N, t1 * NR); }
    gA = <usize>pi(params, P_A) + (<usize>(z * pi(params, P_ABS)) << 2);
    gB = <usize>pi(params, P_B) + (<usize>(z * pi(params, P_BBS)) << 2);
    gC = <usize>pi(params, P_C) + (<usize>(z * pi(params, P_CBS)) << 2);
    if (L < 1 || !thinMatmul(layout, M, N, L, gA, gB, gC, gAlpha, gAccum, m0, m1, n0, n1)) gemm(m0, m1, n0, n1);
    epilogue(params, z, m0, m1, n0, n1);
  }
}

function gemm(m0: i32, m1: i32, n0: i32, n1: i32): void {
  const L = gL;
  if (L <= 0) { // empty sum: C = 0 (+ C_old)
    for (let m = m0; m < m1; m++) for (let n = n0; n < n1; n++) {
      const p = gC + (<usize>(m * gN + n) << 2);
      store<f32>(p, gAccum ? load<f32>(p) : 0);
    }
    return;
  }
  for (let jc = n0; jc < n1; jc += NC) {
    const nc = min(NC, n1 - jc);
    for (let pc = 0; pc < L; pc += KC) {
      const kc = min(KC, L - pc);
      packB(pc, kc, jc, nc);
      for (let ic = m0; ic < m1; ic += MC) {
        const mc = min(MC, m1 - ic);
        packA(ic, mc, pc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const bp = gBp + (<usize>(jr * kc) << 2);
          const nr = min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const ap = gAp + (<usize>(ir * kc) << 2);
            const mr = min(MR, mc - ir);
            micro(kc, ap, bp, ic + ir, jc + jr, mr, nr, pc == 0);
          }
        }
      }
    }
  }
}

/** Bp[jr/NR][k][j] = op(B)[pc + k][jc + jr + j], zero past nc. */
function packB(pc: i32, kc: i32, jc: i32, nc: i32): void {
  const N = gN, L = gL;
  for (let jr = 0; jr < nc; jr += NR) {
    const dst = gBp + (<usize>(jr * kc) << 2);
    const nr = min(NR, nc - jr);
    if (gLayout == 1) {
      // B is [N, L]: each of the nr rows is contiguous in k. Full panels go four
      // k at a time through two 4×4 transposes (a third of the scalar moves' cost).
      let k0 = 0;
      if (ASC_FEATURE_SIMD && nr == NR) {
        const src = gB + (<usize>((jc + jr) * L + pc) << 2);
        const ld = <usize>L << 2;
        for (; k0 + 4 <= kc; k0 += 4) {
          const s = src + (<usize>k0 << 2), d = dst + (<usize>(k0 * NR) << 2);
          transpose4(s, ld, d, <usize>NR << 2);
          transpose4(s + 4 * ld, ld, d + 16, <usize>NR << 2);
        }
      }
      for (let j = 0; j < NR; j++) {
        if (j < nr) {
          const src = gB + (<usize>((jc + jr + j) * L + pc) << 2);
          for (let k = k0; k < kc; k++) store<f32>(dst + (<usize>(k * NR + j) << 2), load<f32>(src + (<usize>k << 2)));
        } else {
          for (let k = k0; k < kc; k++) store<f32>(dst + (<usize>(k * NR + j) << 2), 0);
        }
      }
    } else {
      // B is [L, N]: NR consecutive columns of a row are contiguous.
      for (let k = 0; k < kc; k++) {
        const src = gB + (<usize>((pc + k) * N + jc + jr) << 2);
        const d = dst + (<usize>(k * NR) << 2);
        if (nr == NR) {
          if (ASC_FEATURE_SIMD) {
            v128.store(d, v128.load(src));
            v128.store(d + 16, v128.load(src + 16));
          } else {
            for (let j = 0; j < NR; j++) store<f32>(d + (<usize>j << 2), load<f32>(src + (<usize>j << 2)));
          }
        } else {
          for (let j = 0; j < NR; j++) store<f32>(d + (<usize>j << 2), j < nr ? load<f32>(src + (<usize>j << 2)) : 0);
        }
      }
    }
  }
}

/** Ap[ir/MR][k][i] = op(A)[ic + ir + i][pc + k], zero past mc. */
function packA(ic: i32, mc: i32, pc: i32, kc: i32): void {
  const M = gM, L = gL;
  for (let ir = 0; ir < mc; ir += MR) {
    const dst = gAp + (<usize>(ir * kc) << 2);
    const mr = min(MR, mc - ir);
    if (gLayout == 2) {
      // A is [L, M]: MR consecutive rows of op(A) are contiguous at each k.
      for (let k = 0; k < kc; k++) {
        const src = gA + (<usize>((pc + k) * M + ic + ir) << 2);
        const d = dst + (<usize>(k * MR) << 2);
        if (mr == MR) {
          if (ASC_FEATURE_SIMD) v128.store(d, v128.load(src));
          else for (let i = 0; i < MR; i++) store<f32>(d + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
        } else {
          for (let i = 0; i < MR; i++) store<f32>(d + (<usize>i << 2), i < mr ? load<f32>(src + (<usize>i << 2)) : 0);
        }
      }
    } else {
      // A is [M, L]: each of the mr rows is contiguous in k (full panels: 4×4 transposes).
      let k0 = 0;
      if (ASC_FEATURE_SIMD && mr == MR) {
        const src = gA + (<usize>((ic + ir) * L + pc) << 2);
        for (; k0 + 4 <= kc; k0 += 4) transpose4(src + (<usize>k0 << 2), <usize>L << 2, dst + (<usize>(k0 * MR) << 2), <usize>MR << 2);
      }
      for (let i = 0; i < MR; i++) {
        if (i < mr) {
          const src = gA + (<usize>((ic + ir + i) * L + pc) << 2);
          for (let k = k0; k < kc; k++) store<f32>(dst + (<usize>(k * MR + i) << 2), load<f32>(src + (<usize>k << 2)));
        } else {
          for (let k = k0; k < kc; k++) store<f32>(dst + (<usize>(k * MR + i) << 2), 0);
        }
      }
    }
  }
}

/**
 * Four rows of four floats (row r at src + r·lds) stored as four columns
 * (column c at dst + c·ldd): dst[c][r] = src[r][c]. Moves only, so the packed
 * panel holds the same bits as the scalar loop's.
 */
// @ts-ignore: decorator
@inline function transpose4(src: usize, lds: usize, dst: usize, ldd: usize): void {
  const r0 = v128.load(src), r1 = v128.load(src + lds), r2 = v128.load(src + 2 * lds), r3 = v128.load(src + 3 * lds);
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5), t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, i64x2.shuffle(t0, t2, 0, 2));
  v128.store(dst + ldd, i64x2.shuffle(t0, t2, 1, 3));
  v128.store(dst + 2 * ldd, i64x2.shuffle(t1, t3, 0, 2));
  v128.store(dst + 3 * ldd, i64x2.shuffle(t1, t3, 1, 3));
}

/**
 * Points the micro-kernel at another output (core/wasm/conv.ts reuses it):
 * C with row stride ldc, alpha 1, `accum` adds into C_old on the first block.
 */
export function setMicroOut(c: usize, ldc: i32, accum: bool, tile: usize): void {
  gC = c; gN = ldc; gAlpha = 1; gAccum = accum; gTile = tile;
}

/**
 * C[m..m+mr, n..n+nr] (=|+=) alpha · Ap(MR×kc) · Bp(kc×NR). On the first K
 * block the tile is overwritten (plus C_old when accumulating).
 */
export function micro(kc: i32, ap: usize, bp: usize, m: i32, n: i32, mr: i32, nr: i32, first: bool): void {
  if (ASC_FEATURE_SIMD) microSimd(kc, ap, bp, m, n, mr, nr, first);
  else microScalar(kc, ap, bp, m, n, mr, nr, first);
}

function microSimd(kc: i32, ap: usize, bp: usize, m: i32, n: i32, mr: i32, nr: i32, first: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    if (ASC_FEATURE_RELAXED_SIMD) {
      // The relaxed build: one fused multiply-add per product where the CPU has FMA.
      let a = v128.load32_splat(ap);
      c00 = f32x4.relaxed_madd(a, b0, c00); c01 = f32x4.relaxed_madd(a, b1, c01);
      a = v128.load32_splat(ap, 4);
      c10 = f32x4.relaxed_madd(a, b0, c10); c11 = f32x4.relaxed_madd(a, b1, c11);
      a = v128.load32_splat(ap, 8);
      c20 = f32x4.relaxed_madd(a, b0, c20); c21 = f32x4.relaxed_madd(a, b1, c21);
      a = v128.load32_splat(ap, 12);
      c30 = f32x4.relaxed_madd(a, b0, c30); c31 = f32x4.relaxed_madd(a, b1, c31);
    } else {
      let a = v128.load32_splat(ap);
      c00 = f32x4.add(c00, f32x4.mul(a, b0)); c01 = f32x4.add(c01, f32x4.mul(a, b1));
      a = v128.load32_splat(ap, 4);
      c10 = f32x4.add(c10, f32x4.mul(a, b0)); c11 = f32x4.add(c11, f32x4.mul(a, b1));
      a = v128.load32_splat(ap, 8);
      c20 = f32x4.add(c20, f32x4.mul(a, b0)); c21 = f32x4.add(c21, f32x4.mul(a, b1));
      a = v128.load32_splat(ap, 12);
      c30 = f32x4.add(c30, f32x4.mul(a, b0)); c31 = f32x4.add(c31, f32x4.mul(a, b1));
    }
    ap += 16; bp += 32;
  }
  const al = f32x4.splat(gAlpha);
  if (nr == NR) {
    // Full-width tiles go straight to C, their rows past mr skipped (a conv
    // into 3 input channels is all such tiles).
    const ldc: usize = <usize>gN << 2;
    let dst: usize = gC + (<usize>(m * gN + n) << 2);
    const load_old = !first || gAccum;
    storeRow(dst, c00, c01, al, load_old);
    if (mr > 1) { dst += ldc; storeRow(dst, c10, c11, al, load_old); }
    if (mr > 2) { dst += ldc; storeRow(dst, c20, c21, al, load_old); }
    if (mr > 3) { dst += ldc; storeRow(dst, c30, c31, al, load_old); }
    return;
  }
  // Narrow edge tiles through the scratch tile.
  const ldc: usize = <usize>NR << 2;
  let dst: usize = gTile;
  copyTile(m, n, mr, nr, true, first && !gAccum);
  storeRow(dst, c00, c01, al, true); dst += ldc;
  storeRow(dst, c10, c11, al, true); dst += ldc;
  storeRow(dst, c20, c21, al, true); dst += ldc;
  storeRow(dst, c30, c31, al, true);
  copyTile(m, n, mr, nr, false, false);
}

@inline function storeRow(p: usize, x0: v128, x1: v128, al: v128, addOld: bool): void {
  let y0 = f32x4.mul(al, x0), y1 = f32x4.mul(al, x1);
  if (addOld) { y0 = f32x4.add(y0, v128.load(p)); y1 = f32x4.add(y1, v128.load(p, 16)); }
  v128.store(p, y0); v128.store(p, y1, 16);
}

/** Moves an edge tile between C and the scratch tile (toTile: C → tile, zero-filled when `zero`). */
function copyTile(m: i32, n: i32, mr: i32, nr: i32, toTile: bool, zero: bool): void {
  for (let i = 0; i < MR; i++) for (let j = 0; j < NR; j++) {
    const t = gTile + (<usize>(i * NR + j) << 2);
    const inside = i < mr && j < nr;
    const c = gC + (<usize>((m + i) * gN + n + j) << 2);
    if (toTile) store<f32>(t, inside && !zero ? load<f32>(c) : 0);
    else if (inside) store<f32>(c, load<f32>(t));
  }
}

function microScalar(kc: i32, ap: usize, bp: usize, m: i32, n: i32, mr: i32, nr: i32, first: bool): void {
  // Two 4×4 halves keep the accumulators in locals.
  for (let h = 0; h < 2; h++) {
    let c00: f32 = 0, c01: f32 = 0, c02: f32 = 0, c03: f32 = 0;
    let c10: f32 = 0, c11: f32 = 0, c12: f32 = 0, c13: f32 = 0;
    let c20: f32 = 0, c21: f32 = 0, c22: f32 = 0, c23: f32 = 0;
    let c30: f32 = 0, c31: f32 = 0, c32: f32 = 0, c33: f32 = 0;
    let a = ap, b = bp + <usize>(h * 16);
    for (let k = 0; k < kc; k++) {
      const b0 = load<f32>(b), b1 = load<f32>(b, 4), b2 = load<f32>(b, 8), b3 = load<f32>(b, 12);
      let x = load<f32>(a);
      c00 += x * b0; c01 += x * b1; c02 += x * b2; c03 += x * b3;
      x = load<f32>(a, 4);
      c10 += x * b0; c11 += x * b1; c12 += x * b2; c13 += x * b3;
      x = load<f32>(a, 8);
      c20 += x * b0; c21 += x * b1; c22 += x * b2; c23 += x * b3;
      x = load<f32>(a, 12);
      c30 += x * b0; c31 += x * b1; c32 += x * b2; c33 += x * b3;
      a += 16; b += 32;
    }
    const t = gTile + <usize>(h * 16);
    const r = <usize>NR << 2;
    store<f32>(t, c00); store<f32>(t, c01, 4); store<f32>(t, c02, 8); store<f32>(t, c03, 12);
    store<f32>(t + r, c10); store<f32>(t + r, c11, 4); store<f32>(t + r, c12, 8); store<f32>(t + r, c13, 12);
    store<f32>(t + 2 * r, c20); store<f32>(t + 2 * r, c21, 4); store<f32>(t + 2 * r, c22, 8); store<f32>(t + 2 * r, c23, 12);
    store<f32>(t + 3 * r, c30); store<f32>(t + 3 * r, c31, 4); store<f32>(t + 3 * r, c32, 8); store<f32>(t + 3 * r, c33, 12);
  }
  const addOld = !first || gAccum;
  for (let i = 0; i < mr; i++) for (let j = 0; j < nr; j++) {
    const c = gC + (<usize>((m + i) * gN + n + j) << 2);
    const v = gAlpha * load<f32>(gTile + (<usize>(i * NR + j) << 2));
    store<f32>(c, addOld ? v + load<f32>(c) : v);
  }
}

/** bias, out2, activation and act′(aux), in matmul_epilogue.wgsl's order, over the job's block. */
function epilogue(params: usize, z: i32, m0: i32, m1: i32, n0: i32, n1: i32): void {
  const bias = <usize>pi(params, P_BIAS), aux = <usize>pi(params, P_AUX), out2 = <usize>pi(params, P_OUT2);
  const apply = pi(params, P_APPLY) != 0;
  if (bias == 0 && aux == 0 && out2 == 0 && !apply) return;
  const act = pi(params, P_ACT);
  const N = gN;
  const biasZ = bias + (<usize>(z * pi(params, P_BIASBS)) << 2);
  const auxZ = aux + (<usize>(z * pi(params, P_AUXBS)) << 2);
  const out2Z = out2 + (<usize>(z * pi(params, P_OUT2BS)) << 2);
  // tanh′ = 1 − σ² off the forward's stored σ(aux) (the same bits as recomputing σ: the forward
  // wrote tanh4 / tanh_f of this aux), which skips the epilogue's costliest step.
  const auxOut = aux != 0 && act == 1 ? <usize>pi(params, P_AUXOUT) : 0;
  const auxOutZ = auxOut + (<usize>(z * pi(params, P_AUXOUTBS)) << 2);
  // Four columns at a time where every step has a vector form (tanh, or no activation
  // step at all); the SIMD and lane-at-a-time tanh give the same bits (activations.ts).
  const vector = ASC_FEATURE_SIMD && (act == 1 || (!apply && aux == 0));
  for (let m = m0; m < m1; m++) {
    let n = n0;
    if (vector) {
      for (; n + 4 <= n1; n += 4) {
        const e = <usize>(m * N + n) << 2;
        let v = v128.load(gC + e);
        if (bias != 0) v = f32x4.add(v, v128.load(biasZ + (<usize>n << 2)));
        if (out2 != 0) v128.store(out2Z + e, v);
        if (apply) v = tanh4(v);
        if (aux != 0) {
          const t = auxOut != 0 ? v128.load(auxOutZ + e) : tanh4(v128.load(auxZ + e));
          v = f32x4.mul(v, f32x4.sub(f32x4.splat(1), f32x4.mul(t, t)));
        }
        v128.store(gC + e, v);
      }
    }
    for (; n < n1; n++) {
      const e = <usize>(m * N + n) << 2;
      let v = load<f32>(gC + e);
      if (bias != 0) v += load<f32>(biasZ + (<usize>n << 2));
      if (out2 != 0) store<f32>(out2Z + e, v);
      if (apply) v = act_f(act, v);
      if (aux != 0) {
        if (auxOut != 0) { const t = load<f32>(auxOutZ + e); v *= <f32>1 - t * t; } // act_d1's tanh case
        else v *= act_d1(act, load<f32>(auxZ + e));
      }
      store<f32>(gC + e, v);
    }
  }
}
