// tanh on f32x4 lanes, for the hot tanh loops (the matmul epilogue, the
// activation op and the R-backward): Mathf.tanh costs ~13 ns a value, and a
// 3072→200→200 MLP takes ~2·10⁶ of them per full-batch HVP at N = 5000.
//
// One formula for every |x|: tanh|x| = u / (u + 2) with u = e^{2|x|} − 1,
// and u from a reduction by ln 2 that keeps its relative accuracy near 0:
//   2|x| = n·ln 2 + r, |r| ≤ ln 2 / 2   (Cody–Waite, ln 2 in two parts)
//   e^r − 1 = r + r²·(1/2 + r/6 + … + r⁵/5040)   (Taylor to r⁷: < 2e-8 relative)
//   u = 2^n·(e^r − 1) + (2^n − 1)       (2^n − 1 exact; the two terms do not cancel)
// Relative error ≤ ~1.7e-7 over all f32 (tests/wasm-ops.test.ts checks it
// against Math.tanh). Cephes' tanhf, used before, evaluated a polynomial for
// |x| < 0.625 and 1 − 2/(e^{2|x|} + 1) above, both for every lane, with a
// select: ~1.5× the instructions for the same accuracy.

// V8 builds a v128 constant inside the loop each time it is used (three
// instructions: a 64-bit immediate, a move, an unpack); a load from this table
// is one.
const K_LOG2E = 0, K_LN2_HI = 1, K_LN2_LO = 2, K_C7 = 3, K_C6 = 4, K_C5 = 5, K_C4 = 6, K_C3 = 7, K_C2 = 8,
  K_ONE = 9, K_TWO = 10, K_FIFTEEN = 11, K_MAGIC = 12, K_MAGIC_BIAS = 13, K_SIGN = 14;
const TABLE: usize = memory.data<u32>([
  0x3fb8aa3b, 0x3fb8aa3b, 0x3fb8aa3b, 0x3fb8aa3b, // 1.44269504088896341 (log2 e)
  0x3f318000, 0x3f318000, 0x3f318000, 0x3f318000, // 0.693359375 (ln 2, high part: n·it is exact)
  0xb95e8083, 0xb95e8083, 0xb95e8083, 0xb95e8083, // -2.12194440e-4 (ln 2 − the high part)
  0x39500d01, 0x39500d01, 0x39500d01, 0x39500d01, // 1/5040
  0x3ab60b61, 0x3ab60b61, 0x3ab60b61, 0x3ab60b61, // 1/720
  0x3c088889, 0x3c088889, 0x3c088889, 0x3c088889, // 1/120
  0x3d2aaaab, 0x3d2aaaab, 0x3d2aaaab, 0x3d2aaaab, // 1/24
  0x3e2aaaab, 0x3e2aaaab, 0x3e2aaaab, 0x3e2aaaab, // 1/6
  0x3f000000, 0x3f000000, 0x3f000000, 0x3f000000, // 1/2
  0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, // 1
  0x40000000, 0x40000000, 0x40000000, 0x40000000, // 2
  0x41700000, 0x41700000, 0x41700000, 0x41700000, // 15
  0x4b400000, 0x4b400000, 0x4b400000, 0x4b400000, // 1.5·2^23
  0x4b3fff81, 0x4b3fff81, 0x4b3fff81, 0x4b3fff81, // bits(1.5·2^23) − 127
  0x80000000, 0x80000000, 0x80000000, 0x80000000, // the sign bit
], 16);

// @ts-ignore: decorator
@inline function k(i: i32): v128 { return v128.load(TABLE + (<usize>i << 4)); }

/** tanh of four lanes (|x| clamped to 15, as the scalar tanh_f; tanh(15) is 1 in f32). */
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const sign = v128.and(x, k(K_SIGN));
  // pmin is one instruction (min is ~6, for NaN rules that cannot arise: a NaN stays NaN either way).
  const a = f32x4.pmin(f32x4.abs(x), k(K_FIFTEEN));
  const y = f32x4.add(a, a); // 2|x| in [0, 30]
  const n = f32x4.nearest(f32x4.mul(y, k(K_LOG2E))); // an integer in [0, 43]
  let r = f32x4.sub(y, f32x4.mul(n, k(K_LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, k(K_LN2_LO)));
  let q = k(K_C7);
  q = f32x4.add(f32x4.mul(q, r), k(K_C6));
  q = f32x4.add(f32x4.mul(q, r), k(K_C5));
  q = f32x4.add(f32x4.mul(q, r), k(K_C4));
  q = f32x4.add(f32x4.mul(q, r), k(K_C3));
  q = f32x4.add(f32x4.mul(q, r), k(K_C2));
  const em = f32x4.add(f32x4.mul(f32x4.mul(r, r), q), r); // e^r − 1
  // 2^n from the bits: n + 1.5·2^23 holds n in the low mantissa bits, and subtracting
  // bits(1.5·2^23) − 127 leaves n + 127 exactly (trunc_sat is ~8 instructions on x64).
  const scale = i32x4.shl(i32x4.sub(f32x4.add(n, k(K_MAGIC)), k(K_MAGIC_BIAS)), 23);
  const u = f32x4.add(f32x4.mul(scale, em), f32x4.sub(scale, k(K_ONE))); // e^{2|x|} − 1
  return v128.or(f32x4.div(u, f32x4.add(u, k(K_TWO))), sign);
}
