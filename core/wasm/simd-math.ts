// tanh on f32x4 lanes, for the two hot tanh loops (the matmul epilogue and
// the R-backward): Mathf.tanh costs ~13 ns a value, and a 3072→200→200 MLP
// takes ~2·10⁶ of them per full-batch HVP at N = 5000.
// Cephes' tanhf: an odd minimax polynomial for |x| < 0.625, else
// 1 − 2/(e^{2|x|} + 1) with Cephes' expf (Cody–Waite reduction by ln 2, a
// degree-6 polynomial, 2^n through the exponent bits). Relative error
// ≤ ~2e-7 (tests/wasm-ops.test.ts measures it against Math.tanh).

// @ts-ignore: decorator
@inline function exp4(x: v128): v128 {
  // x in [0, 30] here: no overflow or underflow handling needed.
  const n = f32x4.floor(f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(0.5)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

/** tanh of four lanes (|x| clamped to 15, as the scalar tanh_f). */
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const sign = v128.and(x, i32x4.splat(0x80000000));
  const a = f32x4.min(f32x4.abs(x), f32x4.splat(15));
  // |x| < 0.625: x + x³·P(x²)
  const z = f32x4.mul(a, a);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), a), a);
  // else 1 − 2/(e^{2|x|} + 1)
  const e = exp4(f32x4.add(a, a));
  const large = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
  const t = v128.bitselect(small, large, f32x4.lt(a, f32x4.splat(0.625)));
  return v128.or(t, sign);
}
