// Philox-4x32-10 in AssemblyScript: the same definition as core/ts/rng/philox.ts
// and core/shaders/rng.wgsl (draw layout documented there), so the Wasm
// backend draws the same bits as WebGPU and the TS host.

const M0: u32 = 0xd2511f53;
const M1: u32 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;

// One block's four words, kept in globals: no allocation per draw.
let x0: u32 = 0;
let x1: u32 = 0;
let x2: u32 = 0;
let x3: u32 = 0;

function block(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  x0 = c0; x1 = c1; x2 = c2; x3 = c3;
  let ka = k0, kb = k1;
  for (let r = 0; r < 10; r++) {
    // Wasm has 64-bit integers: the 32×32→64 product is exact directly.
    const p0 = <u64>M0 * <u64>x0;
    const p1 = <u64>M1 * <u64>x2;
    const hi0 = <u32>(p0 >> 32), lo0 = <u32>p0;
    const hi1 = <u32>(p1 >> 32), lo1 = <u32>p1;
    x0 = hi1 ^ x1 ^ ka;
    x1 = lo1;
    x2 = hi0 ^ x3 ^ kb;
    x3 = lo0;
    ka += W0;
    kb += W1;
  }
}

function word(lane: u32): u32 {
  return lane == 0 ? x0 : lane == 1 ? x1 : lane == 2 ? x2 : x3;
}

/**
 * The draws of one Philox word each, index0 + j for j < n: word (i & 3) of
 * counter (i >> 2, stream, 0, 0). kind 0 stores the raw bits; 1 and 2 store
 * scale · uniform [0, 1) or [-1, 1), exact before the one rounding by scale.
 * @inline with a constant kind, so each export gets a straight loop.
 */
@inline function wordDraws(kind: i32, out: usize, n: u32, index0: u32, stream: u32, k0: u32, k1: u32, scale: f32): void {
  let current: u32 = 0xffffffff;
  for (let j: u32 = 0; j < n; j++) {
    const i = index0 + j;
    const b = i >> 2;
    if (b != current || j == 0) { block(b, stream, 0, 0, k0, k1); current = b; }
    const w = word(i & 3);
    const p = out + (<usize>j << 2);
    if (kind == 0) store<u32>(p, w);
    else if (kind == 1) store<f32>(p, scale * (<f32>(w >> 8) * (<f32>1.0 / <f32>16777216.0)));
    else if (kind == 3) store<f32>(p, (w >> 31) != 0 ? -scale : scale);
    else store<f32>(p, scale * (<f32>(<i32>(w >> 8) - 8388608) * (<f32>1.0 / <f32>8388608.0)));
  }
}

/** out[j] = raw bits of uniform draw index0 + j. */
export function philoxBits(out: usize, n: u32, index0: u32, stream: u32, k0: u32, k1: u32): void {
  wordDraws(0, out, n, index0, stream, k0, k1, 1);
}

/** out[j] = scale · uniform [0, 1) draw: (x >> 8)·2^-24. */
export function philoxUniform(out: usize, n: u32, index0: u32, stream: u32, k0: u32, k1: u32, scale: f32): void {
  wordDraws(1, out, n, index0, stream, k0, k1, scale);
}

/** out[j] = ±scale, the sign from the word's top bit (Rademacher probes). */
export function philoxRademacher(out: usize, n: u32, index0: u32, stream: u32, k0: u32, k1: u32, scale: f32): void {
  wordDraws(3, out, n, index0, stream, k0, k1, scale);
}

/** out[j] = scale · uniform [-1, 1) draw: ((x >> 8) − 2^23)·2^-23. */
export function philoxSigned(out: usize, n: u32, index0: u32, stream: u32, k0: u32, k1: u32, scale: f32): void {
  wordDraws(2, out, n, index0, stream, k0, k1, scale);
}

// Box-Muller's log and cos from +, ×, ÷ only, transcribed from rng.wgsl (the
// same f32 operations in the same order), so Wasm directions match WebGPU's
// to f32 rounding rather than to whatever Mathf's log/cos would give.
const SQRT2: f32 = 1.4142135623730951;
const LN2: f32 = 0.69314718055994531;
const HALF_PI: f32 = 1.5707963267948966;
const INV_SQRT2: f32 = 0.70710678118654752;

@inline function logUnit(x: f32): f32 { // x in (0, 1]
  const bits = reinterpret<u32>(x);
  let e = <f32>(<i32>(bits >> 23) - 127);
  let m = reinterpret<f32>((bits & 0x7fffff) | 0x3f800000); // [1, 2)
  // m in [√½, √2) so log x near 0 (x near 1) has no e·ln2 − log m cancellation.
  if (m > SQRT2) { m = <f32>0.5 * m; e += 1; }
  const s: f32 = (m - <f32>1) / (m + <f32>1);                 // |s| < 0.172
  const s2 = s * s;
  // 2·atanh(s) series to s^15: truncation < 1e-13.
  const p: f32 = <f32>1 + s2 * (<f32>(1.0 / 3.0) + s2 * (<f32>(1.0 / 5.0) + s2 * (<f32>(1.0 / 7.0) + s2 * (<f32>(1.0 / 9.0) +
    s2 * (<f32>(1.0 / 11.0) + s2 * (<f32>(1.0 / 13.0) + s2 * <f32>(1.0 / 15.0)))))));
  return e * LN2 + <f32>2 * s * p;
}

@inline function cosTurn(t: f32): f32 { // cos(2π t), t in [0, 1)
  const q4: f32 = <f32>4 * t; // exact: t has 24 bits
  const q = <u32>q4;          // floor: q4 ≥ 0
  const b: f32 = (q4 - <f32>q - <f32>0.5) * HALF_PI; // [-π/4, π/4)
  const b2 = b * b;
  // Taylor to degree 11/12 on |b| ≤ π/4: truncation < 1e-9.
  const sn: f32 = b * (<f32>1 - b2 / <f32>6 * (<f32>1 - b2 / <f32>20 * (<f32>1 - b2 / <f32>42 * (<f32>1 - b2 / <f32>72 * (<f32>1 - b2 / <f32>110)))));
  const cs: f32 = <f32>1 - b2 / <f32>2 * (<f32>1 - b2 / <f32>12 * (<f32>1 - b2 / <f32>30 * (<f32>1 - b2 / <f32>56 * (<f32>1 - b2 / <f32>90 * (<f32>1 - b2 / <f32>132)))));
  // a = b + π/4 in [0, π/2): cos a = (cs − sn)/√2, sin a = (cs + sn)/√2.
  const ca: f32 = (cs - sn) * INV_SQRT2;
  const sa: f32 = (cs + sn) * INV_SQRT2;
  return q == 0 ? ca : q == 1 ? -sa : q == 2 ? -ca : sa;
}

/**
 * out[j] = scale · standard normal draw index0 + j: Box-Muller cos on counter
 * (i >> 1, stream, 1, 0), lanes 2(i&1) and 2(i&1)+1, u1 in (0, 1] so log is finite.
 */
export function philoxNormal(out: usize, n: u32, index0: u32, stream: u32, k0: u32, k1: u32, scale: f32): void {
  let current: u32 = 0xffffffff;
  for (let j: u32 = 0; j < n; j++) {
    const i = index0 + j;
    const b = i >> 1;
    if (b != current || j == 0) { block(b, stream, 1, 0, k0, k1); current = b; }
    const lane = (i & 1) << 1;
    const u1 = <f32>((word(lane) >> 8) + 1) * (<f32>1.0 / <f32>16777216.0);
    const u2 = <f32>(word(lane + 1) >> 8) * (<f32>1.0 / <f32>16777216.0);
    store<f32>(out + (<usize>j << 2), scale * (Mathf.sqrt(<f32>-2 * logUnit(u1)) * cosTurn(u2)));
  }
}
