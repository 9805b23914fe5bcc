// Element-wise activation products of the engine: rdelta, the R-backward
// through an activation (R{δ} = σ″(a)⊙R{a}⊙G + σ′(a)⊙S, docs/architecture.md), split
// over threads in contiguous ranges (rdeltaOp) with an f32x4 path for tanh
// that keeps the scalar association order; and the test hooks for the
// activation functions themselves. Same conventions as ops.ts: byte
// addresses, per-model strides in elements, no managed allocation.
import { act_d1, act_d2, act_f } from './activations';
import { tanh4 } from './simd-math';

@inline function at(base: usize, i: usize): usize {
  return base + (i << 2);
}

// ---------------------------------------------------------------- rdelta

/** Up to 3 trailing f32 values at p + 4i as lanes 0.. of a vector (the rest 0). */
@inline function loadTail(p: usize, i: usize, rem: usize): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(at(p, i)));
  if (rem > 1) v = f32x4.replace_lane(v, 1, load<f32>(at(p, i + 1)));
  if (rem > 2) v = f32x4.replace_lane(v, 2, load<f32>(at(p, i + 2)));
  return v;
}

@inline function storeTail(p: usize, i: usize, rem: usize, v: v128): void {
  store<f32>(at(p, i), f32x4.extract_lane(v, 0));
  if (rem > 1) store<f32>(at(p, i + 1), f32x4.extract_lane(v, 1));
  if (rem > 2) store<f32>(at(p, i + 2), f32x4.extract_lane(v, 2));
}

@inline function rdeltaTanh4(t: v128, r: v128, g: v128, s: v128): v128 {
  const d1 = f32x4.sub(f32x4.splat(1), f32x4.mul(t, t));
  const d2 = f32x4.mul(f32x4.mul(f32x4.splat(-2), t), d1);
  return f32x4.add(f32x4.mul(f32x4.mul(d2, r), g), f32x4.mul(d1, s));
}

/**
 * tanh's R-backward four lanes at a time over n contiguous elements, t =
 * tanh(a) computed once: σ′ = 1 − t², σ″ = −2t·σ′. The ragged tail goes
 * through the same lanes, so every element gets the same formula wherever a
 * range starts or ends.
 */
function rdeltaTanhSimd(pa: usize, pt: usize, pr: usize, pg: usize, ps: usize, po: usize, n: usize): void {
  const n4 = n & ~3;
  // pt: the forward's stored tanh(a), the very value tanh4 would give (saves the epilogue's costliest step).
  for (let i: usize = 0; i < n4; i += 4) {
    const t = pt != 0 ? v128.load(at(pt, i)) : tanh4(v128.load(at(pa, i)));
    v128.store(at(po, i), rdeltaTanh4(t, v128.load(at(pr, i)), v128.load(at(pg, i)), v128.load(at(ps, i))));
  }
  if (n4 < n) {
    const rem = n - n4;
    const t = pt != 0 ? loadTail(pt, n4, rem) : tanh4(loadTail(pa, n4, rem));
    storeTail(po, n4, rem, rdeltaTanh4(t, loadTail(pr, n4, rem), loadTail(pg, n4, rem), loadTail(ps, n4, rem)));
  }
}

/** Scalar builds: tanh's R-backward off the stored t = tanh(a), in act_d1 / act_d2's association. */
function rdeltaTanhLoopT(pt: usize, pr: usize, pg: usize, ps: usize, po: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const t = load<f32>(at(pt, i));
    const d1 = <f32>1 - t * t, d2 = <f32>-2 * t * d1;
    store<f32>(at(po, i), d2 * load<f32>(at(pr, i)) * load<f32>(at(pg, i)) + d1 * load<f32>(at(ps, i)));
  }
}

@inline function rdeltaLoop(id: i32, pa: usize, pr: usize, pg: usize, ps: usize, po: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const x = load<f32>(at(pa, i));
    store<f32>(at(po, i), act_d2(id, x) * load<f32>(at(pr, i)) * load<f32>(at(pg, i)) + act_d1(id, x) * load<f32>(at(ps, i)));
  }
}

/** The R-backward formula over n contiguous elements of one model (element-wise: any split gives the same bits). */
function rdeltaRange(act: i32, pa: usize, pt: usize, pr: usize, pg: usize, ps: usize, po: usize, n: usize): void {
  // One loop per activation with a constant id, so act_d1/act_d2 fold to straight code.
  switch (act) {
    case 1:
      if (ASC_FEATURE_SIMD) rdeltaTanhSimd(pa, pt, pr, pg, ps, po, n);
      else if (pt != 0) rdeltaTanhLoopT(pt, pr, pg, ps, po, n);
      else rdeltaLoop(1, pa, pr, pg, ps, po, n);
      break;
    case 2: rdeltaLoop(2, pa, pr, pg, ps, po, n); break;
    case 3: rdeltaLoop(3, pa, pr, pg, ps, po, n); break;
    case 4: rdeltaLoop(4, pa, pr, pg, ps, po, n); break;
    case 5: rdeltaLoop(5, pa, pr, pg, ps, po, n); break;
    case 6: rdeltaLoop(6, pa, pr, pg, ps, po, n); break;
    case 7: rdeltaLoop(7, pa, pr, pg, ps, po, n); break;
    default: rdeltaLoop(0, pa, pr, pg, ps, po, n);
  }
}

/**
 * R-backward through an activation, [K, perModel] operands:
 * out[z][i] = σ″(a)·R{a}·G + σ′(a)·S  (rdelta.wgsl). One thread; the backend
 * runs rdeltaOp, the same formula split over the worker threads.
 */
export function rdelta(act: i32, perModel: u32, K: u32, a: usize, aBs: u32, ra: usize, raBs: u32,
  g: usize, gBs: u32, s: usize, sBs: u32, out: usize, outBs: u32): void {
  for (let z: u32 = 0; z < K; z++) {
    rdeltaRange(act, at(a, <usize>z * aBs), 0, at(ra, <usize>z * raBs), at(g, <usize>z * gBs), at(s, <usize>z * sBs),
      at(out, <usize>z * outBs), <usize>perModel);
  }
}

// Word offsets of rdeltaOp's params block (written by core/ts/backend/wasm/backend.ts).
const R_ACT = 0, R_N = 1, R_K = 2, R_A = 3, R_ABS = 4, R_RA = 5, R_RABS = 6, R_G = 7, R_GBS = 8, R_S = 9, R_SBS = 10,
  R_OUT = 11, R_OUTBS = 12, R_AOUT = 13, R_AOUTBS = 14;

@inline function pw(p: usize, i: i32): u32 { return load<u32>(p + (<usize>i << 2)); }

/**
 * rdelta as a parallel kernel: every thread calls rdeltaOp(params, tid,
 * nthreads) and takes a contiguous share of the K·perModel elements, cut at
 * multiples of 4 (as actOp in pool.ts). Element-wise, so the result does not
 * depend on the thread count.
 */
export function rdeltaOp(params: usize, tid: u32, nthreads: u32): void {
  const id = <i32>pw(params, R_ACT), n = <u64>pw(params, R_N), K = <u64>pw(params, R_K);
  const A = <usize>pw(params, R_A), aBs = <u64>pw(params, R_ABS), RA = <usize>pw(params, R_RA), raBs = <u64>pw(params, R_RABS);
  const G = <usize>pw(params, R_G), gBs = <u64>pw(params, R_GBS), S = <usize>pw(params, R_S), sBs = <u64>pw(params, R_SBS);
  const OUT = <usize>pw(params, R_OUT), outBs = <u64>pw(params, R_OUTBS);
  const AOUT = <usize>pw(params, R_AOUT), aOutBs = <u64>pw(params, R_AOUTBS);
  const total = K * n, T = <u64>nthreads;
  const e0 = ((total * <u64>tid / T) >> 2) << 2;
  const e1 = tid + 1 == nthreads ? total : ((total * <u64>(tid + 1) / T) >> 2) << 2;
  let e = e0;
  while (e < e1) {
    const z = e / n, i = e - z * n;
    const len = min<u64>(n - i, e1 - e);
    rdeltaRange(id, at(A, <usize>(z * aBs + i)), AOUT != 0 ? at(AOUT, <usize>(z * aOutBs + i)) : 0, at(RA, <usize>(z * raBs + i)), at(G, <usize>(z * gBs + i)),
      at(S, <usize>(z * sBs + i)), at(OUT, <usize>(z * outBs + i)), <usize>len);
    e += len;
  }
}

/** Test hook: out[i] = tanh4(x[i]) (the SIMD tanh of simd-math.ts), i < n; SIMD builds only. */
export function tanhSimd(x: usize, out: usize, n: u32): void {
  if (!ASC_FEATURE_SIMD) return;
  const m = <usize>n, n4 = m & ~3;
  for (let i: usize = 0; i < n4; i += 4) v128.store(at(out, i), tanh4(v128.load(at(x, i))));
  if (n4 < m) storeTail(out, n4, m - n4, tanh4(loadTail(x, n4, m - n4)));
}

/**
 * Test hook for the one function no op here uses (act_f lives in the matmul
 * epilogue): out[i] = σ(x[i]), σ′(x[i]) or σ″(x[i]) for order 0, 1, 2; i < n.
 */
export function activation(act: i32, order: i32, x: usize, out: usize, n: u32): void {
  for (let i: usize = 0; i < n; i++) {
    const v = load<f32>(at(x, i));
    store<f32>(at(out, i), order == 0 ? act_f(act, v) : order == 1 ? act_d1(act, v) : act_d2(act, v));
  }
}
