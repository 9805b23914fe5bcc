// 2-d pooling (NCHW) and the standalone activation op of core/ts/backend/types.ts.
//
// Pooling is linear in its input once max's routing is fixed by x (the first
// maximum in row-major window order, −∞ padding; average counts the padding,
// divisor kh·kw):
//   mode 0 forward   dst[Ho, Wo] = pool(x)
//   mode 1 tangent   dst[Ho, Wo] = J(x) src[H, W]
//   mode 2 backward  dst[H, W]   = J(x)ᵀ src[Ho, Wo], gather form: each input
//                    sums the windows that hold it, in row-major window order
// Threads: every thread calls pool(params, tid, nthreads) and takes a
// contiguous range of the K·B·C planes; a plane is one thread's, so the result
// does not depend on the thread count.
import { act_d1, act_f } from './activations';
import { tanh4 } from './simd-math';
import { poolPlaneByRoute } from './conv-pool';

const P_KIND = 0, P_MODE = 1, P_B = 2, P_K = 3, P_C = 4, P_H = 5, P_W = 6, P_KH = 7, P_KW = 8, P_S = 9, P_PAD = 10,
  P_HO = 11, P_WO = 12, P_X = 13, P_XBS = 14, P_SRC = 15, P_SRCBS = 16, P_DST = 17, P_DSTBS = 18, P_ACCUM = 19,
  P_CS = 20, P_CSSTRIDE = 21, P_MASK = 22, P_ROUTE = 23, P_ROUTEBS = 24;

@inline function pi(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
@inline function at(base: usize, i: i32): usize { return base + (<usize>i << 2); }

/** Bytes of scratch one thread needs: max pooling's backward keeps a plane's argmax table. */
export function poolScratchBytes(params: usize): u32 {
  return <u32>(((<usize>pi(params, P_HO) * <usize>pi(params, P_WO) << 2) + 15) & ~15);
}

export function pool(params: usize, tid: u32, nthreads: u32): void {
  const isMax = pi(params, P_KIND) == 0, mode = pi(params, P_MODE);
  const B = pi(params, P_B), K = pi(params, P_K), C = pi(params, P_C);
  const H = pi(params, P_H), W = pi(params, P_W), kh = pi(params, P_KH), kw = pi(params, P_KW);
  const s = pi(params, P_S), pad = pi(params, P_PAD), Ho = pi(params, P_HO), Wo = pi(params, P_WO);
  const X = <usize>pi(params, P_X), xbs = pi(params, P_XBS), SRC = <usize>pi(params, P_SRC), srcBs = pi(params, P_SRCBS);
  const DST = <usize>pi(params, P_DST), dstBs = pi(params, P_DSTBS), accum = pi(params, P_ACCUM) != 0;
  // A ReLU's derivative [x > 0] folded in (max, tangent/backward, no accumulate: checked by the host).
  const mask = pi(params, P_MASK) != 0;
  // Stored routes (conv-pool.ts) instead of x: 2×2 max pooling of a ReLU, tangent/backward (checked by the host).
  const ROUTE = <usize>pi(params, P_ROUTE), routeBs = pi(params, P_ROUTEBS);
  const args = <usize>pi(params, P_CS) + <usize>tid * <usize>pi(params, P_CSSTRIDE);
  const planes = K * B * C, BC = B * C;
  const inPlane = H * W, outPlane = Ho * Wo;
  const q0 = (planes * <i32>tid) / <i32>nthreads, q1 = (planes * (<i32>tid + 1)) / <i32>nthreads;
  const div = <f32>(kh * kw);
  const fast2 = ASC_FEATURE_SIMD && kh == 2 && kw == 2 && s == 2 && pad == 0;
  for (let q = q0; q < q1; q++) {
    const z = q / BC, bc = q - z * BC;
    const x = X + (<usize>(z * xbs) << 2) + (<usize>bc * <usize>inPlane << 2);
    const outN = mode == 2 ? inPlane : outPlane;
    const dst = DST + (<usize>(z * dstBs) << 2) + (<usize>bc * <usize>outN << 2);
    const srcN = mode == 2 ? outPlane : inPlane;
    const src = mode == 0 ? x : SRC + (<usize>(z * srcBs) << 2) + (<usize>bc * <usize>srcN << 2);
    if (ROUTE != 0) {
      poolPlaneByRoute(mode == 2, ROUTE + (<usize>(z * routeBs) << 2) + (<usize>bc * <usize>outPlane << 2), src, dst, H, W);
      continue;
    }
    if (fast2) {
      // 2×2 windows at stride 2, four windows at a time (the same operations in the same order as below).
      if (mode != 2) pool2x2Out(isMax, x, src, dst, W, Ho, Wo, accum, mask);
      else {
        pool2x2Back(isMax, x, src, dst, H, W, Ho, Wo, accum);
        if (mask) reluMaskPlane(x, dst, inPlane);
      }
      continue;
    }
    if (mode != 2) {
      for (let oh = 0; oh < Ho; oh++) {
        const i0 = oh * s - pad;
        const ia = max(0, i0), ib = min(H, i0 + kh);
        for (let ow = 0; ow < Wo; ow++) {
          const j0 = ow * s - pad;
          const ja = max(0, j0), jb = min(W, j0 + kw);
          let v: f32;
          if (isMax) {
            let best = -Infinity, arg = ia * W + ja;
            for (let i = ia; i < ib; i++) for (let j = ja; j < jb; j++) {
              const e = load<f32>(at(x, i * W + j));
              if (e > best) { best = e; arg = i * W + j; }
            }
            v = load<f32>(at(src, arg));
            if (mask) v = (load<f32>(at(x, arg)) > 0 ? <f32>1 : <f32>0) * v;
          } else {
            let sum: f32 = 0;
            for (let i = ia; i < ib; i++) for (let j = ja; j < jb; j++) sum += load<f32>(at(src, i * W + j));
            v = sum / div;
          }
          const p = at(dst, oh * Wo + ow);
          store<f32>(p, accum ? load<f32>(p) + v : v);
        }
      }
    } else {
      if (isMax) {
        // The route of every window first, then each input gathers the windows routed to it.
        for (let oh = 0; oh < Ho; oh++) {
          const i0 = oh * s - pad;
          const ia = max(0, i0), ib = min(H, i0 + kh);
          for (let ow = 0; ow < Wo; ow++) {
            const j0 = ow * s - pad;
            const ja = max(0, j0), jb = min(W, j0 + kw);
            let best = -Infinity, arg = ia * W + ja;
            for (let i = ia; i < ib; i++) for (let j = ja; j < jb; j++) {
              const e = load<f32>(at(x, i * W + j));
              if (e > best) { best = e; arg = i * W + j; }
            }
            store<i32>(at(args, oh * Wo + ow), arg);
          }
        }
      }
      for (let ih = 0; ih < H; ih++) {
        // Windows oh with oh·s − pad ≤ ih < oh·s − pad + kh.
        const th = ih + pad - kh + 1;
        const ohA = th <= 0 ? 0 : (th + s - 1) / s, ohB = min(Ho - 1, (ih + pad) / s);
        for (let iw = 0; iw < W; iw++) {
          const tw = iw + pad - kw + 1;
          const owA = tw <= 0 ? 0 : (tw + s - 1) / s, owB = min(Wo - 1, (iw + pad) / s);
          const me = ih * W + iw;
          let sum: f32 = 0;
          for (let oh = ohA; oh <= ohB; oh++) for (let ow = owA; ow <= owB; ow++) {
            const o = oh * Wo + ow;
            if (isMax) { if (load<i32>(at(args, o)) == me) sum += load<f32>(at(src, o)); }
            else sum += load<f32>(at(src, o)) / div;
          }
          const p = at(dst, me);
          store<f32>(p, accum ? load<f32>(p) + sum : sum);
        }
      }
      if (mask) reluMaskPlane(x, dst, inPlane);
    }
  }
}

/** d[i] = [x[i] > 0] · d[i] over one plane (just written, so in L1): the activation 'dmul' of relu, in the same order. */
function reluMaskPlane(x: usize, d: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0), one = f32x4.splat(1);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(d + o, f32x4.mul(v128.bitselect(one, zero, f32x4.gt(v128.load(x + o), zero)), v128.load(d + o)));
    }
  }
  for (; i < n; i++) store<f32>(at(d, i), (load<f32>(at(x, i)) > 0 ? <f32>1 : <f32>0) * load<f32>(at(d, i)));
}

// ---------------------------------------------------- 2×2 stride-2 windows, f32x4

// Even and odd lanes of eight consecutive floats (a, b): the left and right
// columns of four 2×2 windows.
@inline function evens(a: v128, b: v128): v128 { return f32x4.shuffle(a, b, 0, 2, 4, 6); }
@inline function odds(a: v128, b: v128): v128 { return f32x4.shuffle(a, b, 1, 3, 5, 7); }

/**
 * Max or average of four 2×2 windows whose top-left inputs are at x0 (row
 * above) and x0 + W (row below), of the values at s0: the scalar loop's
 * operations lane-wise (first maximum by `>` from −∞, sum from 0 then ÷ 4).
 */
@inline function window4(isMax: bool, x0: usize, x1: usize, s0: usize, s1: usize, mask: bool): v128 {
  const a0 = v128.load(x0), a1 = v128.load(x0, 16), b0 = v128.load(x1), b1 = v128.load(x1, 16);
  if (!isMax) {
    const c0 = v128.load(s0), c1 = v128.load(s0, 16), d0 = v128.load(s1), d1 = v128.load(s1, 16);
    const sum = f32x4.add(f32x4.add(f32x4.add(f32x4.add(f32x4.splat(0), evens(c0, c1)), odds(c0, c1)), evens(d0, d1)), odds(d0, d1));
    return f32x4.div(sum, f32x4.splat(4));
  }
  let best = f32x4.splat(-Infinity);
  let out = evens(v128.load(s0), v128.load(s0, 16)); // the route starts at the window's first input
  const sameSrc = s0 == x0;
  let e = evens(a0, a1), m = f32x4.gt(e, best);
  best = v128.bitselect(e, best, m);
  e = odds(a0, a1); m = f32x4.gt(e, best); best = v128.bitselect(e, best, m);
  out = v128.bitselect(sameSrc ? e : odds(v128.load(s0), v128.load(s0, 16)), out, m);
  e = evens(b0, b1); m = f32x4.gt(e, best); best = v128.bitselect(e, best, m);
  out = v128.bitselect(sameSrc ? e : evens(v128.load(s1), v128.load(s1, 16)), out, m);
  e = odds(b0, b1); m = f32x4.gt(e, best); best = v128.bitselect(e, best, m);
  out = v128.bitselect(sameSrc ? e : odds(v128.load(s1), v128.load(s1, 16)), out, m);
  // best is x at the route: its ReLU derivative, times the routed value.
  if (mask) out = f32x4.mul(v128.bitselect(f32x4.splat(1), f32x4.splat(0), f32x4.gt(best, f32x4.splat(0))), out);
  return out;
}

/** Which input of each of four windows is the route: lane = 0, 1, 2, 3 in row-major order. */
@inline function route4(x0: usize, x1: usize): v128 {
  const a0 = v128.load(x0), a1 = v128.load(x0, 16), b0 = v128.load(x1), b1 = v128.load(x1, 16);
  let best = f32x4.splat(-Infinity), arg = i32x4.splat(0);
  let e = evens(a0, a1), m = f32x4.gt(e, best);
  best = v128.bitselect(e, best, m);
  e = odds(a0, a1); m = f32x4.gt(e, best); best = v128.bitselect(e, best, m); arg = v128.bitselect(i32x4.splat(1), arg, m);
  e = evens(b0, b1); m = f32x4.gt(e, best); best = v128.bitselect(e, best, m); arg = v128.bitselect(i32x4.splat(2), arg, m);
  e = odds(b0, b1); m = f32x4.gt(e, best); arg = v128.bitselect(i32x4.splat(3), arg, m);
  return arg;
}

/** One window of the scalar path (for the columns past the last group of four). */
@inline function window1(isMax: bool, x: usize, src: usize, W: i32, i0: i32, j0: i32, mask: bool): f32 {
  if (isMax) {
    let best = -Infinity, arg = i0 * W + j0;
    for (let i = i0; i < i0 + 2; i++) for (let j = j0; j < j0 + 2; j++) {
      const e = load<f32>(at(x, i * W + j));
      if (e > best) { best = e; arg = i * W + j; }
    }
    const v = load<f32>(at(src, arg));
    return mask ? (load<f32>(at(x, arg)) > 0 ? <f32>1 : <f32>0) * v : v;
  }
  let sum: f32 = 0;
  for (let i = i0; i < i0 + 2; i++) for (let j = j0; j < j0 + 2; j++) sum += load<f32>(at(src, i * W + j));
  return sum / <f32>4;
}

function pool2x2Out(isMax: bool, x: usize, src: usize, dst: usize, W: i32, Ho: i32, Wo: i32, accum: bool, mask: bool): void {
  for (let oh = 0; oh < Ho; oh++) {
    const x0 = at(x, 2 * oh * W), s0 = at(src, 2 * oh * W), d = at(dst, oh * Wo);
    let ow = 0;
    for (; ow + 4 <= Wo; ow += 4) {
      const o = <usize>ow << 3;
      let v = window4(isMax, x0 + o, x0 + (<usize>W << 2) + o, s0 + o, s0 + (<usize>W << 2) + o, mask);
      const p = d + (<usize>ow << 2);
      if (accum) v = f32x4.add(v128.load(p), v);
      v128.store(p, v);
    }
    for (; ow < Wo; ow++) {
      const v = window1(isMax, x, src, W, 2 * oh, 2 * ow, mask);
      const p = at(d, ow);
      store<f32>(p, accum ? load<f32>(p) + v : v);
    }
  }
}

/** Interleaves a (even columns) and b (odd columns) into eight consecutive floats at p (+= with accum). */
@inline function storePairs(p: usize, a: v128, b: v128, accum: bool): void {
  let lo = f32x4.shuffle(a, b, 0, 4, 1, 5), hi = f32x4.shuffle(a, b, 2, 6, 3, 7);
  if (accum) { lo = f32x4.add(v128.load(p), lo); hi = f32x4.add(v128.load(p, 16), hi); }
  v128.store(p, lo); v128.store(p, hi, 16);
}

function pool2x2Back(isMax: bool, x: usize, src: usize, dst: usize, H: i32, W: i32, Ho: i32, Wo: i32, accum: bool): void {
  const zero = f32x4.splat(0), four = f32x4.splat(4);
  for (let oh = 0; oh < Ho; oh++) {
    const x0 = at(x, 2 * oh * W), x1 = at(x, (2 * oh + 1) * W);
    const d0 = at(dst, 2 * oh * W), d1 = at(dst, (2 * oh + 1) * W);
    let ow = 0;
    for (; ow + 4 <= Wo; ow += 4) {
      const o = <usize>ow << 3;
      const g = v128.load(at(src, oh * Wo + ow));
      // Each input sums the one window that holds it, from 0 (as the gather below).
      if (isMax) {
        const arg = route4(x0 + o, x1 + o);
        storePairs(d0 + o, f32x4.add(zero, v128.and(g, i32x4.eq(arg, i32x4.splat(0)))),
          f32x4.add(zero, v128.and(g, i32x4.eq(arg, i32x4.splat(1)))), accum);
        storePairs(d1 + o, f32x4.add(zero, v128.and(g, i32x4.eq(arg, i32x4.splat(2)))),
          f32x4.add(zero, v128.and(g, i32x4.eq(arg, i32x4.splat(3)))), accum);
      } else {
        const v = f32x4.add(zero, f32x4.div(g, four));
        storePairs(d0 + o, v, v, accum);
        storePairs(d1 + o, v, v, accum);
      }
    }
    // The remaining columns of these two rows, an input at a time.
    for (let iw = 2 * ow; iw < W; iw++) {
      for (let r = 0; r < 2; r++) {
        const ih = 2 * oh + r;
        let sum: f32 = 0;
        const wo = iw >> 1;
        if (wo < Wo) {
          const g = load<f32>(at(src, oh * Wo + wo));
          if (isMax) {
            let best = -Infinity, arg = 2 * oh * W + 2 * wo;
            for (let i = 2 * oh; i < 2 * oh + 2; i++) for (let j = 2 * wo; j < 2 * wo + 2; j++) {
              const e = load<f32>(at(x, i * W + j));
              if (e > best) { best = e; arg = i * W + j; }
            }
            if (arg == ih * W + iw) sum += g;
          } else sum += g / <f32>4;
        }
        const p = at(dst, ih * W + iw);
        store<f32>(p, accum ? load<f32>(p) + sum : sum);
      }
    }
  }
  // A last odd row is in no window.
  for (let ih = 2 * Ho; ih < H; ih++) for (let iw = 0; iw < W; iw++) {
    const p = at(dst, ih * W + iw);
    store<f32>(p, accum ? load<f32>(p) + <f32>0 : <f32>0);
  }
}

// ----------------------------------------------------------------- activation

const A_ACT = 0, A_MODE = 1, A_N = 2, A_K = 3, A_X = 4, A_XBS = 5, A_A = 6, A_ABS = 7, A_OUT = 8, A_OUTBS = 9, A_AOUT = 10, A_AOUTBS = 11;

/** Up to 3 trailing values as lanes 0.. (the rest 0). */
@inline function loadTail(p: usize, rem: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (rem > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (rem > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

@inline function storeTail(p: usize, rem: i32, v: v128): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (rem > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (rem > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/**
 * σ (apply) or σ′(a)·x (dmul) of tanh, four lanes at a time: the same bits as act_f/act_d1 on SIMD
 * builds. `stored`: a is already σ(a) as the forward wrote it (the very value tanh4 would give).
 */
@inline function tanhVec(dmul: bool, stored: bool, x: v128, a: v128): v128 {
  if (!dmul) return tanh4(x);
  const t = stored ? a : tanh4(a);
  return f32x4.mul(f32x4.sub(f32x4.splat(1), f32x4.mul(t, t)), x);
}

function tanhRange(dmul: bool, stored: bool, x: usize, a: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, tanhVec(dmul, stored, v128.load(x + o), dmul ? v128.load(a + o) : f32x4.splat(0)));
  }
  if (i < n) {
    const o = <usize>i << 2, rem = n - i;
    storeTail(out + o, rem, tanhVec(dmul, stored, loadTail(x + o, rem), dmul ? loadTail(a + o, rem) : f32x4.splat(0)));
  }
}

@inline function actLoop(id: i32, dmul: bool, x: usize, a: usize, out: usize, n: i32): void {
  if (dmul) for (let i = 0; i < n; i++) store<f32>(at(out, i), act_d1(id, load<f32>(at(a, i))) * load<f32>(at(x, i)));
  else for (let i = 0; i < n; i++) store<f32>(at(out, i), act_f(id, load<f32>(at(x, i))));
}

/** relu (id 2) and identity (id 0) four lanes at a time: f32.max and the 0/1 factor, as act_f/act_d1. */
function linearRange(relu: bool, dmul: bool, x: usize, a: usize, out: usize, n: i32): void {
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2, v = v128.load(x + o);
    let r: v128;
    if (dmul) r = f32x4.mul(relu ? v128.bitselect(one, zero, f32x4.gt(v128.load(a + o), zero)) : one, v);
    else r = relu ? f32x4.max(v, zero) : v;
    v128.store(out + o, r);
  }
  if (relu) actLoop(2, dmul, x + (<usize>i << 2), a + (<usize>i << 2), out + (<usize>i << 2), n - i);
  else actLoop(0, dmul, x + (<usize>i << 2), a + (<usize>i << 2), out + (<usize>i << 2), n - i);
}

/** aOut (dmul, tanh only; 0: none): σ(a) as the forward wrote it, read in place of recomputing tanh(a). */
export function actRange(id: i32, dmul: bool, x: usize, a: usize, out: usize, n: i32, aOut: usize = 0): void {
  // One loop per activation with a constant id, so act_f/act_d1 fold to straight code.
  switch (id) {
    case 1:
      if (ASC_FEATURE_SIMD) tanhRange(dmul, aOut != 0, x, aOut != 0 ? aOut : a, out, n);
      else if (aOut != 0) for (let i = 0; i < n; i++) { const t = load<f32>(at(aOut, i)); store<f32>(at(out, i), (<f32>1 - t * t) * load<f32>(at(x, i))); }
      else actLoop(1, dmul, x, a, out, n);
      break;
    case 2:
      if (ASC_FEATURE_SIMD) linearRange(true, dmul, x, a, out, n);
      else actLoop(2, dmul, x, a, out, n);
      break;
    case 3: actLoop(3, dmul, x, a, out, n); break;
    case 4: actLoop(4, dmul, x, a, out, n); break;
    case 5: actLoop(5, dmul, x, a, out, n); break;
    case 6: actLoop(6, dmul, x, a, out, n); break;
    case 7: actLoop(7, dmul, x, a, out, n); break;
    default:
      if (ASC_FEATURE_SIMD) linearRange(false, dmul, x, a, out, n);
      else actLoop(0, dmul, x, a, out, n);
  }
}

/**
 * The standalone activation over K blocks of n: mode 0 out = σ(x), mode 1
 * out = σ′(a)·x. Thread tid takes a contiguous share of the K·n elements cut
 * at multiples of 4; element-wise, so any split gives the same bits.
 */
export function actOp(params: usize, tid: u32, nthreads: u32): void {
  const id = pi(params, A_ACT), dmul = pi(params, A_MODE) == 1, n = pi(params, A_N), K = pi(params, A_K);
  const X = <usize>pi(params, A_X), xbs = pi(params, A_XBS), A = <usize>pi(params, A_A), abs = pi(params, A_ABS);
  const OUT = <usize>pi(params, A_OUT), outBs = pi(params, A_OUTBS);
  const AOUT = dmul && id == 1 ? <usize>pi(params, A_AOUT) : 0, aOutBs = pi(params, A_AOUTBS);
  const total = <i64>K * <i64>n, T = <i64>nthreads;
  const e0 = ((total * <i64>tid / T) >> 2) << 2;
  const e1 = tid + 1 == nthreads ? total : ((total * <i64>(tid + 1) / T) >> 2) << 2;
  let e = e0;
  while (e < e1) {
    const z = <i32>(e / <i64>n), i = <i32>(e - <i64>z * <i64>n);
    const len = <i32>min<i64>(<i64>(n - i), e1 - e);
    actRange(id, dmul, at(X, z * xbs + i), dmul ? at(A, z * abs + i) : 0, at(OUT, z * outBs + i), len, AOUT != 0 ? at(AOUT, z * aOutBs + i) : 0);
    e += <i64>len;
  }
}
