// tanh on f32x4 lanes, for the two hot tanh loops (the matmul epilogue and
// the R-backward): Mathf.tanh costs ~13 ns a value, and a 3072→200→200 MLP
// takes ~2·10⁶ of them per full-batch HVP at N = 5000.
// Cephes' tanhf: an odd minimax polynomial for |x| < 0.625, else
// 1 − 2/(e^{2|x|} + 1) with Cephes' expf (Cody–Waite reduction by ln 2, a
// degree-6 polynomial, 2^n through the exponent bits). Relative error
// ≤ ~2e-7 (tests/wasm-ops.test.ts measures it against Math.tanh).

// V8 builds a v128 constant inside the loop each time it is used (three
// instructions: a 64-bit immediate, a move, an unpack), which made the ~20
// constants cost more than the arithmetic. A load from this table is one
// instruction: tanh4 runs ~2× faster with the same bits.
const K_LOG2E = 0, K_LN2_HI = 1, K_LN2_LO = 2, K_E5 = 3, K_E4 = 4, K_E3 = 5, K_E2 = 6, K_E1 = 7, K_E0 = 8,
  K_HALF = 9, K_ONE = 10, K_TWO = 11, K_FIFTEEN = 12, K_T4 = 13, K_T3 = 14, K_T2 = 15, K_T1 = 16, K_T0 = 17,
  K_SMALL = 18, K_MAGIC = 19, K_MAGIC_BIAS = 20, K_SIGN = 21;
const TABLE: usize = memory.data<u32>([
  0x3fb8aa3b, 0x3fb8aa3b, 0x3fb8aa3b, 0x3fb8aa3b, // 1.44269504088896341 (log2 e)
  0x3f318000, 0x3f318000, 0x3f318000, 0x3f318000, // 0.693359375
  0xb95e8083, 0xb95e8083, 0xb95e8083, 0xb95e8083, // -2.12194440e-4
  0x39506967, 0x39506967, 0x39506967, 0x39506967, // 1.9875691500e-4
  0x3ab743ce, 0x3ab743ce, 0x3ab743ce, 0x3ab743ce, // 1.3981999507e-3
  0x3c088908, 0x3c088908, 0x3c088908, 0x3c088908, // 8.3334519073e-3
  0x3d2aa9c1, 0x3d2aa9c1, 0x3d2aa9c1, 0x3d2aa9c1, // 4.1665795894e-2
  0x3e2aaaaa, 0x3e2aaaaa, 0x3e2aaaaa, 0x3e2aaaaa, // 1.6666665459e-1
  0x3f000000, 0x3f000000, 0x3f000000, 0x3f000000, // 5.0000001201e-1 (rounds to 0.5 in f32)
  0x3f000000, 0x3f000000, 0x3f000000, 0x3f000000, // 0.5
  0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, // 1
  0x40000000, 0x40000000, 0x40000000, 0x40000000, // 2
  0x41700000, 0x41700000, 0x41700000, 0x41700000, // 15
  0xbbbaf0ea, 0xbbbaf0ea, 0xbbbaf0ea, 0xbbbaf0ea, // -5.70498872745e-3
  0x3ca9134e, 0x3ca9134e, 0x3ca9134e, 0x3ca9134e, // 2.06390887954e-2
  0xbd5c1e2d, 0xbd5c1e2d, 0xbd5c1e2d, 0xbd5c1e2d, // -5.37397155531e-2
  0x3e088393, 0x3e088393, 0x3e088393, 0x3e088393, // 1.33314422036e-1
  0xbeaaaa99, 0xbeaaaa99, 0xbeaaaa99, 0xbeaaaa99, // -3.33332819422e-1
  0x3f200000, 0x3f200000, 0x3f200000, 0x3f200000, // 0.625
  0x4b400000, 0x4b400000, 0x4b400000, 0x4b400000, // 1.5·2^23
  0x4b3fff81, 0x4b3fff81, 0x4b3fff81, 0x4b3fff81, // bits(1.5·2^23) − 127
  0x80000000, 0x80000000, 0x80000000, 0x80000000, // the sign bit
], 16);

// @ts-ignore: decorator
@inline function k(i: i32): v128 { return v128.load(TABLE + (<usize>i << 4)); }

// @ts-ignore: decorator
@inline function exp4(x: v128): v128 {
  // x in [0, 30] here: no overflow or underflow handling needed.
  const n = f32x4.floor(f32x4.add(f32x4.mul(x, k(K_LOG2E)), k(K_HALF)));
  let r = f32x4.sub(x, f32x4.mul(n, k(K_LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, k(K_LN2_LO)));
  let p = k(K_E5);
  p = f32x4.add(f32x4.mul(p, r), k(K_E4));
  p = f32x4.add(f32x4.mul(p, r), k(K_E3));
  p = f32x4.add(f32x4.mul(p, r), k(K_E2));
  p = f32x4.add(f32x4.mul(p, r), k(K_E1));
  p = f32x4.add(f32x4.mul(p, r), k(K_E0));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), k(K_ONE));
  // 2^n from the bits: n is an integer in [0, 44], so n + 1.5·2^23 holds it in the
  // low mantissa bits and subtracting bits(1.5·2^23) − 127 leaves n + 127 exactly
  // (trunc_sat is ~8 instructions on x64).
  const scale = i32x4.shl(i32x4.sub(f32x4.add(n, k(K_MAGIC)), k(K_MAGIC_BIAS)), 23);
  return f32x4.mul(p, scale);
}

/** tanh of four lanes (|x| clamped to 15, as the scalar tanh_f). */
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const sign = v128.and(x, k(K_SIGN));
  // pmin is one instruction (min is ~6, for NaN rules that cannot arise: a NaN stays NaN either way).
  const a = f32x4.pmin(f32x4.abs(x), k(K_FIFTEEN));
  // |x| < 0.625: x + x³·P(x²)
  const z = f32x4.mul(a, a);
  let p = k(K_T4);
  p = f32x4.add(f32x4.mul(p, z), k(K_T3));
  p = f32x4.add(f32x4.mul(p, z), k(K_T2));
  p = f32x4.add(f32x4.mul(p, z), k(K_T1));
  p = f32x4.add(f32x4.mul(p, z), k(K_T0));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), a), a);
  // else 1 − 2/(e^{2|x|} + 1)
  const e = exp4(f32x4.add(a, a));
  const large = f32x4.sub(k(K_ONE), f32x4.div(k(K_TWO), f32x4.add(e, k(K_ONE))));
  const t = v128.bitselect(small, large, f32x4.lt(a, k(K_SMALL)));
  return v128.or(t, sign);
}
