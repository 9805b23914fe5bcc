// Conv2d → ReLU → MaxPool2d(2) fused around its routes (ModelPlan.poolFused
// in core/ts/nn/model.ts; ConvOp.pool / ConvOp.unpool / PoolOp.route in
// core/ts/backend/types.ts). A route code per pooled element,
//   code = j + 4·m,  j ∈ {0,1,2,3} the window's first maximum (row-major),
//                    m = [x at j > 0] the ReLU's derivative there,
// is all the backward needs of the full-size activation, so that activation
// never leaves the cache: the forward pools each example's conv output from
// a per-thread scratch, and the weight gradient rebuilds each example's
// cotangent there (unpoolExample). The values are the unfused walk's, bit for
// bit: the route is the same first maximum (poolRoutes finds it from the
// pre-activations where no NaN is in the way), and the cotangent at it is
// m·(0 + g) as the pool's backward then the ReLU's dmul compute it; every
// other input gets +0.
//
// Geometry: 2×2 windows at stride 2 without padding over an H×W plane, pooled
// ⌊H/2⌋×⌊W/2⌋ (a last odd row or column is in no window).

@inline function at(base: usize, i: i32): usize { return base + (<usize>i << 2); }
@inline function evens(a: v128, b: v128): v128 { return f32x4.shuffle(a, b, 0, 2, 4, 6); }
@inline function odds(a: v128, b: v128): v128 { return f32x4.shuffle(a, b, 1, 3, 5, 7); }

/** relu(v + b) as the conv epilogue computes it (addBias, then actRange's f32.max). */
@inline function act1(v: f32, b: f32, hasBias: bool): f32 { return Mathf.max(hasBias ? v + b : v, 0); }

/** Route code of the 2×2 window at x0 (top row) and x1 (bottom row) of relu(y + b); the pooled value into *out. */
@inline function route1(x0: usize, x1: usize, out: usize, b: f32, hasBias: bool): f32 {
  let best: f32 = -Infinity, arg = 0;
  const e0 = act1(load<f32>(x0), b, hasBias), e1 = act1(load<f32>(x0, 4), b, hasBias);
  const e2 = act1(load<f32>(x1), b, hasBias), e3 = act1(load<f32>(x1, 4), b, hasBias);
  if (e0 > best) { best = e0; arg = 0; }
  if (e1 > best) { best = e1; arg = 1; }
  if (e2 > best) { best = e2; arg = 2; }
  if (e3 > best) { best = e3; arg = 3; }
  const v = arg == 0 ? e0 : arg == 1 ? e1 : arg == 2 ? e2 : e3;
  store<f32>(out, v);
  return <f32>(arg + (v > 0 ? 4 : 0));
}

/**
 * Max-pools planes c0..c1 of relu(y + bias) (y one example's conv output
 * [C, H, W], bias [C] or 0 for none) into dst [C, Ho, Wo] and their route
 * codes into route, Ho = ⌊H/2⌋, Wo = ⌊W/2⌋: bias and ReLU on the way in, so
 * the example is read once (the values of addBias, actRange, then pooling).
 */
export function poolRoutes(y: usize, bias: usize, dst: usize, route: usize, c0: i32, c1: i32, H: i32, W: i32): void {
  const Ho = H >> 1, Wo = W >> 1, hasBias = bias != 0;
  for (let c = c0; c < c1; c++) {
    const bs: f32 = hasBias ? load<f32>(at(bias, c)) : 0;
    for (let oh = 0; oh < Ho; oh++) {
      const x0 = at(y, (c * H + 2 * oh) * W), x1 = x0 + (<usize>W << 2);
      const d = at(dst, (c * Ho + oh) * Wo), r = at(route, (c * Ho + oh) * Wo);
      let ow = 0;
      if (ASC_FEATURE_SIMD) {
        const zero = f32x4.splat(0), b4 = f32x4.splat(bs), seven = i32x4.splat(7);
        for (; ow + 4 <= Wo; ow += 4) {
          const o = <usize>ow << 3;
          let a0 = v128.load(x0 + o), a1 = v128.load(x0 + o, 16), b0 = v128.load(x1 + o), b1 = v128.load(x1 + o, 16);
          if (hasBias) { a0 = f32x4.add(a0, b4); a1 = f32x4.add(a1, b4); b0 = f32x4.add(b0, b4); b1 = f32x4.add(b1, b4); }
          // Without NaNs the route over relu(t) is decided by t alone: a window
          // with a positive maximum routes to its first maximum (relu(t) = t
          // there), any other routes to its first input with value +0 and
          // m = 0. That takes three maxps and three compares where ReLU-ing
          // sixteen inputs (wasm's NaN-propagating f32x4.max is a long
          // sequence on x86) and a running first-maximum cost several times
          // more. A NaN in the group falls back to the lane-at-a-time route.
          const nan = v128.or(v128.or(f32x4.ne(a0, a0), f32x4.ne(a1, a1)), v128.or(f32x4.ne(b0, b0), f32x4.ne(b1, b1)));
          if (v128.any_true(nan)) {
            for (let k = 0; k < 4; k++) {
              const q = o + (<usize>k << 3);
              store<f32>(r + (<usize>(ow + k) << 2), route1(x0 + q, x1 + q, d + (<usize>(ow + k) << 2), bs, hasBias));
            }
            continue;
          }
          const e0 = evens(a0, a1), e1 = odds(a0, a1), e2 = evens(b0, b1), e3 = odds(b0, b1);
          // pmax is the maximum here (no NaNs; which of ±0 it keeps does not matter: only best > 0 is used).
          const best = f32x4.pmax(f32x4.pmax(e0, e1), f32x4.pmax(e2, e3));
          const pos = f32x4.gt(best, zero);
          // The first j with e_j = best (equal positive floats have equal bits):
          // j = 3 − [e0, e1 or e2 is it] − [e0 or e1 is it] − [e0 is it], the
          // compares' all-ones lanes being −1; code = pos ? j + 4 : 0.
          const o1 = f32x4.eq(e0, best), o2 = v128.or(o1, f32x4.eq(e1, best)), o3 = v128.or(o2, f32x4.eq(e2, best));
          v128.store(d + (<usize>ow << 2), v128.and(best, pos));
          const code = v128.and(i32x4.add(i32x4.add(i32x4.add(seven, o3), o2), o1), pos);
          v128.store(r + (<usize>ow << 2), f32x4.convert_i32x4_s(code));
        }
      }
      for (; ow < Wo; ow++) {
        const o = <usize>ow << 3;
        store<f32>(r + (<usize>ow << 2), route1(x0 + o, x1 + o, d + (<usize>ow << 2), bs, hasBias));
      }
    }
  }
}

/**
 * One example's cotangent at the conv output, planes c0..c1 of dy [C, H, W]:
 * m·(0 + g) at each window's route, +0 elsewhere, from the pooled cotangent
 * g [C, Ho, Wo] and the route codes (the max pool's backward, then the ReLU's).
 */
export function unpoolExample(g: usize, route: usize, dy: usize, c0: i32, c1: i32, H: i32, W: i32): void {
  unpoolInto(g, route, dy, 1, <usize>(H * W) << 2, 16, c0, c1, H, W);
}

/**
 * unpoolExample into conv-dot.ts's layout: channels in triples, each
 * triple's rows interleaved by f32x4, [C/3][H·W/4][3][4] (W a multiple of 4).
 */
export function unpoolTriples(g: usize, route: usize, dy: usize, c0: i32, c1: i32, H: i32, W: i32): void {
  unpoolInto(g, route, dy, 3, <usize>(H * W) * 12, 48, c0, c1, H, W);
}

/**
 * The unpooling with plane c at dy + (c / per)·groupBytes + (c % per)·16 and
 * position p of a plane at (p >> 2)·cs + (p & 3)·4 bytes from it: four
 * consecutive positions from a multiple of 4 are one f32x4 (cs = 16: planes
 * as they lie; per = 3, cs = 48: triples interleaved).
 */
function unpoolInto(g: usize, route: usize, dy: usize, per: i32, groupBytes: usize, cs: usize, c0: i32, c1: i32, H: i32, W: i32): void {
  const Ho = H >> 1, Wo = W >> 1;
  for (let c = c0; c < c1; c++) {
    const q = c / per;
    const plane = dy + <usize>q * groupBytes + (<usize>(c - q * per) << 4);
    for (let oh = 0; oh < Ho; oh++) {
      const p0 = 2 * oh * W, p1 = p0 + W;
      const gp = at(g, (c * Ho + oh) * Wo), rp = at(route, (c * Ho + oh) * Wo);
      let ow = 0;
      if (ASC_FEATURE_SIMD) {
        const zero = f32x4.splat(0), three = i32x4.splat(3);
        for (; ow + 4 <= Wo; ow += 4) {
          const code = i32x4.trunc_sat_f32x4_s(v128.load(rp + (<usize>ow << 2)));
          const j = v128.and(code, three), m = f32x4.convert_i32x4_s(i32x4.shr_s(code, 2));
          const v = f32x4.mul(m, f32x4.add(zero, v128.load(gp + (<usize>ow << 2))));
          // Lanes not routed hold +0 (and-ing v's bits away).
          pairs(pos(plane, p0 + 2 * ow, cs), cs, v128.and(v, i32x4.eq(j, i32x4.splat(0))), v128.and(v, i32x4.eq(j, i32x4.splat(1))));
          pairs(pos(plane, p1 + 2 * ow, cs), cs, v128.and(v, i32x4.eq(j, i32x4.splat(2))), v128.and(v, i32x4.eq(j, i32x4.splat(3))));
        }
      }
      for (; ow < Wo; ow++) {
        const code = <i32>load<f32>(rp + (<usize>ow << 2)), j = code & 3;
        const v = <f32>(code >> 2) * (<f32>0 + load<f32>(gp + (<usize>ow << 2)));
        const a = p0 + 2 * ow, b = p1 + 2 * ow;
        store<f32>(pos(plane, a, cs), j == 0 ? v : 0); store<f32>(pos(plane, a + 1, cs), j == 1 ? v : 0);
        store<f32>(pos(plane, b, cs), j == 2 ? v : 0); store<f32>(pos(plane, b + 1, cs), j == 3 ? v : 0);
      }
      // An odd last column is in no window.
      if (W & 1) { store<f32>(pos(plane, p1 - 1, cs), 0); store<f32>(pos(plane, p1 + W - 1, cs), 0); }
    }
    // An odd last row is in no window.
    for (let p = 2 * Ho * W; p < H * W; p++) store<f32>(pos(plane, p, cs), 0);
  }
}

@inline function pos(plane: usize, p: i32, cs: usize): usize { return plane + <usize>(p >> 2) * cs + (<usize>(p & 3) << 2); }

/** Interleaves a (even columns) and b (odd columns) into eight consecutive positions: four at p, four at p + cs. */
@inline function pairs(p: usize, cs: usize, a: v128, b: v128): void {
  v128.store(p, f32x4.shuffle(a, b, 0, 4, 1, 5));
  v128.store(p + cs, f32x4.shuffle(a, b, 2, 6, 3, 7));
}

/**
 * PoolOp with routes over one plane: tangent dst[Ho, Wo] = m·src at the route
 * (the ReLU's dmul, then the max pool's tangent), backward dst[H, W] =
 * unpoolExample of src[Ho, Wo].
 */
export function poolPlaneByRoute(backward: bool, route: usize, src: usize, dst: usize, H: i32, W: i32): void {
  if (backward) { unpoolExample(src, route, dst, 0, 1, H, W); return; }
  const Ho = H >> 1, Wo = W >> 1;
  for (let oh = 0; oh < Ho; oh++) {
    const x0 = at(src, 2 * oh * W), x1 = x0 + (<usize>W << 2);
    const rp = at(route, oh * Wo), d = at(dst, oh * Wo);
    let ow = 0;
    if (ASC_FEATURE_SIMD) {
      // Four windows at a time: the input at each route picked from the window's four, times m (the same product per lane).
      const three = i32x4.splat(3);
      for (; ow + 4 <= Wo; ow += 4) {
        const code = i32x4.trunc_sat_f32x4_s(v128.load(rp + (<usize>ow << 2)));
        const j = v128.and(code, three), m = f32x4.convert_i32x4_s(i32x4.shr_s(code, 2));
        const o = <usize>ow << 3;
        const a0 = v128.load(x0 + o), a1 = v128.load(x0 + o, 16), b0 = v128.load(x1 + o), b1 = v128.load(x1 + o, 16);
        let v = v128.bitselect(odds(a0, a1), evens(a0, a1), i32x4.eq(j, i32x4.splat(1)));
        v = v128.bitselect(evens(b0, b1), v, i32x4.eq(j, i32x4.splat(2)));
        v = v128.bitselect(odds(b0, b1), v, i32x4.eq(j, three));
        v128.store(d + (<usize>ow << 2), f32x4.mul(m, v));
      }
    }
    for (; ow < Wo; ow++) {
      const code = <i32>load<f32>(rp + (<usize>ow << 2)), j = code & 3;
      const v = load<f32>((j >> 1 ? x1 : x0) + (<usize>(2 * ow + (j & 1)) << 2));
      store<f32>(d + (<usize>ow << 2), <f32>(code >> 2) * v);
    }
  }
}
