// Thin matmuls: one output side or the inner dimension is 1. A small MLP's
// gradient has three of them per step (a scalar output layer's forward,
// its weight gradient, the first layer's weight gradient on 1-d inputs) and
// an input layer with L = 1; through the blocked kernel of matmul.ts each
// padded 1 to a full 4×8 tile and packed both operands (~2 µs for a 20×64
// product on one thread). These loops read the operands in place:
//   N = 1 or M = 1:  dots   C[i] = α Σ_l x_i[l] y[l]      (x_i a contiguous row)
//                    axpys  C[j] = α Σ_l s[l] R[l][j]     (rows of R contiguous)
//   L = 1:           outer  C[m][n] = α a[m] b[n]
// C (=|+=) alpha · op(A) · op(B) as in matmul.ts; the epilogue stays there.
// Each output's summation order depends on L only, never on which rows or
// columns a thread was given, so every thread count gives the same bits.

// @ts-ignore: decorator
@inline function madd4(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/**
 * C[m0..m1) × [n0..n1) of one model when the product is thin; false when it
 * is not (the blocked kernel's case). A, B, C point at this model's operands.
 */
export function thinMatmul(layout: i32, M: i32, N: i32, L: i32, A: usize, B: usize, C: usize,
  alpha: f32, accum: bool, m0: i32, m1: i32, n0: i32, n1: i32): bool {
  if (L == 1) {
    // op(A) is M×1 and op(B) 1×N: both contiguous in every layout.
    outer(A, B, C, N, alpha, accum, m0, m1, n0, n1);
    return true;
  }
  if (N == 1) {
    // C[m] = Σ_l op(A)[m][l]·b[l]; B ([L,1] or [1,L]) is contiguous.
    if (layout == 2) axpys(A, M, B, L, C, alpha, accum, m0, m1); // A [L,M]: rows are l
    else dots(A, L, B, L, C, alpha, accum, m0, m1); // A [M,L]: rows are m
    return true;
  }
  if (M == 1) {
    // C[n] = Σ_l a[l]·op(B)[l][n]; A ([1,L] or [L,1]) is contiguous.
    if (layout == 1) dots(B, L, A, L, C, alpha, accum, n0, n1); // B [N,L]: rows are n
    else axpys(B, N, A, L, C, alpha, accum, n0, n1); // B [L,N]: rows are l
    return true;
  }
  return false;
}

/** C[i] (=|+=) α·Σ_l X[i·ldx + l]·y[l] for i in [i0, i1). */
function dots(X: usize, ldx: i32, y: usize, L: i32, C: usize, alpha: f32, accum: bool, i0: i32, i1: i32): void {
  for (let i = i0; i < i1; i++) {
    const x = X + (<usize>(i * ldx) << 2);
    let s: f32 = 0;
    let l = 0;
    if (ASC_FEATURE_SIMD) {
      // Two vector accumulators (eight partial sums) hide the add latency.
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
      for (; l + 8 <= L; l += 8) {
        const o = <usize>l << 2;
        a0 = madd4(v128.load(x + o), v128.load(y + o), a0);
        a1 = madd4(v128.load(x + o, 16), v128.load(y + o, 16), a1);
      }
      for (; l + 4 <= L; l += 4) {
        const o = <usize>l << 2;
        a0 = madd4(v128.load(x + o), v128.load(y + o), a0);
      }
      const a = f32x4.add(a0, a1);
      s = (f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1)) + (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3));
    }
    for (; l < L; l++) s += load<f32>(x + (<usize>l << 2)) * load<f32>(y + (<usize>l << 2));
    const p = C + (<usize>i << 2);
    let v = alpha * s;
    if (accum) v += load<f32>(p);
    store<f32>(p, v);
  }
}

/** C[j] (=|+=) α·Σ_l s[l]·R[l·ldr + j] for j in [j0, j1), summed in order of l. */
function axpys(R: usize, ldr: i32, s: usize, L: i32, C: usize, alpha: f32, accum: bool, j0: i32, j1: i32): void {
  if (!ASC_FEATURE_SIMD) {
    for (let j = j0; j < j1; j++) {
      let t: f32 = 0;
      for (let l = 0; l < L; l++) t += load<f32>(s + (<usize>l << 2)) * load<f32>(R + (<usize>(l * ldr + j) << 2));
      const p = C + (<usize>j << 2);
      let v = alpha * t;
      if (accum) v += load<f32>(p);
      store<f32>(p, v);
    }
    return;
  }
  // Every column goes through the same lane operations (madd4, then α, then C_old),
  // whether in an 8-wide block or the gathered tail: where a thread's range
  // starts cannot change a column's bits.
  const al = f32x4.splat(alpha);
  const rs = <usize>ldr << 2;
  let j = j0;
  for (; j + 8 <= j1; j += 8) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    let r = R + (<usize>j << 2);
    for (let l = 0; l < L; l++) {
      const w = v128.load32_splat(s + (<usize>l << 2));
      a0 = madd4(w, v128.load(r), a0);
      a1 = madd4(w, v128.load(r, 16), a1);
      r += rs;
    }
    const p = C + (<usize>j << 2);
    a0 = f32x4.mul(al, a0); a1 = f32x4.mul(al, a1);
    if (accum) { a0 = f32x4.add(a0, v128.load(p)); a1 = f32x4.add(a1, v128.load(p, 16)); }
    v128.store(p, a0); v128.store(p, a1, 16);
  }
  for (; j < j1; j += 4) {
    const w4 = min(4, j1 - j);
    let a0 = f32x4.splat(0);
    let r = R + (<usize>j << 2);
    for (let l = 0; l < L; l++) {
      const w = v128.load32_splat(s + (<usize>l << 2));
      a0 = madd4(w, w4 == 4 ? v128.load(r) : lanes(r, w4), a0);
      r += rs;
    }
    const p = C + (<usize>j << 2);
    a0 = f32x4.mul(al, a0);
    if (accum) a0 = f32x4.add(a0, w4 == 4 ? v128.load(p) : lanes(p, w4));
    if (w4 == 4) v128.store(p, a0);
    else {
      store<f32>(p, f32x4.extract_lane(a0, 0));
      if (w4 > 1) store<f32>(p, f32x4.extract_lane(a0, 1), 4);
      if (w4 > 2) store<f32>(p, f32x4.extract_lane(a0, 2), 8);
    }
  }
}

/** The first w < 4 floats at p in the low lanes, zeros above (nothing past them is read). */
// @ts-ignore: decorator
@inline function lanes(p: usize, w: i32): v128 {
  let v = v128.load32_zero(p);
  if (w > 1) v = v128.load32_lane(p + 4, v, 1);
  if (w > 2) v = v128.load32_lane(p + 8, v, 2);
  return v;
}

/** C[m][n] (=|+=) α·(a[m]·b[n]): the blocked kernel's bits for L = 1 (one product, then α). */
function outer(a: usize, b: usize, C: usize, N: i32, alpha: f32, accum: bool, m0: i32, m1: i32, n0: i32, n1: i32): void {
  for (let m = m0; m < m1; m++) {
    const am = load<f32>(a + (<usize>m << 2));
    const row = C + (<usize>(m * N) << 2);
    let n = n0;
    if (ASC_FEATURE_SIMD) {
      const av = f32x4.splat(am), al = f32x4.splat(alpha);
      for (; n + 4 <= n1; n += 4) {
        const p = row + (<usize>n << 2);
        let v = f32x4.mul(al, f32x4.mul(av, v128.load(b + (<usize>n << 2))));
        if (accum) v = f32x4.add(v, v128.load(p));
        v128.store(p, v);
      }
    }
    for (; n < n1; n++) {
      const p = row + (<usize>n << 2);
      let v = alpha * (am * load<f32>(b + (<usize>n << 2)));
      if (accum) v += load<f32>(p);
      store<f32>(p, v);
    }
  }
}
