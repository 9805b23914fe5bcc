// Philox-4x32-10 (Salmon et al., SC'11): a counter-based generator, so any
// draw is a pure function of (seed, stream, index). core/shaders/rng.wgsl is
// the same definition bit for bit; tests/rng.test.ts holds them together.
//
// Draw layout (shared with the WGSL kernel):
//   uniform i : counter (i >> 2, stream, 0, 0), lane i & 3
//   normal  i : counter (i >> 1, stream, 1, 0), lanes 2(i&1), 2(i&1)+1 → Box-Muller cos
//   key       : (seed low 32 bits, seed high 32 bits)

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two u32 (exact, via 16-bit halves). */
export function mulhi32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16;
  const b0 = b & 0xffff, b1 = b >>> 16;
  const lo = a0 * b0;
  const mid1 = a1 * b0 + (lo >>> 16);
  const mid2 = a0 * b1 + (mid1 & 0xffff);
  return (a1 * b1 + (mid1 >>> 16) + (mid2 >>> 16)) >>> 0;
}

/** One Philox-4x32-10 block into out[0..3] (no allocation: the host draws of a large θ₀ call it per 4 values). */
export function philoxInto(out: Uint32Array, c0: number, c1: number, c2: number, c3: number, k0: number, k1: number): void {
  let x0 = c0 >>> 0, x1 = c1 >>> 0, x2 = c2 >>> 0, x3 = c3 >>> 0;
  let ka = k0 >>> 0, kb = k1 >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi32(M0, x0), lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi32(M1, x2), lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ ka) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ kb) >>> 0;
    x3 = lo0;
    ka = (ka + W0) >>> 0;
    kb = (kb + W1) >>> 0;
  }
  out[0] = x0; out[1] = x1; out[2] = x2; out[3] = x3;
}

/** One Philox-4x32-10 block: four u32 words. */
export function philox4x32(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number): Uint32Array {
  const out = new Uint32Array(4);
  philoxInto(out, c0, c1, c2, c3, k0, k1);
  return out;
}

export function seedKey(seed: number): [number, number] {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
  return [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0];
}

/** u32 → float in [0, 1): 24 random bits, exact in f32. */
export function bitsToUnit(x: number): number {
  return (x >>> 8) * 2 ** -24;
}

/** u32 → float in [-1, 1): exact in f32, so `bound * u` rounds once on every backend. */
export function bitsToSigned(x: number): number {
  return ((x >>> 8) - 2 ** 23) * 2 ** -23;
}

const enum WordMap { Sign, Signed, Unit }

/**
 * One value per 32-bit word of the (seed, stream) sequence, for indices index0 … index0+n−1.
 * Block by block, the map a switch rather than a callback: θ₀ of a 10⁷-parameter net is drawn
 * here, and a closure call and a block allocation per value cost 4× the draws themselves.
 */
function wordDraws(seed: number, stream: number, index0: number, n: number, map: WordMap): Float64Array {
  const [k0, k1] = seedKey(seed);
  const out = new Float64Array(n);
  const w = new Uint32Array(4);
  for (let j = 0; j < n;) {
    const i = index0 + j;
    philoxInto(w, Math.floor(i / 4), stream, 0, 0, k0, k1);
    for (let lane = i & 3; lane < 4 && j < n; lane++, j++) {
      const x = w[lane];
      out[j] = map === WordMap.Sign ? (x >>> 31 ? -1 : 1) : map === WordMap.Signed ? bitsToSigned(x) : bitsToUnit(x);
    }
  }
  return out;
}

/** ±1 draws (Rademacher): the sign from each word's top bit. */
export function rademachers(seed: number, stream: number, index0: number, n: number): Float64Array {
  return wordDraws(seed, stream, index0, n, WordMap.Sign);
}

/** Uniform draws on [-1, 1). */
export function signedUniforms(seed: number, stream: number, index0: number, n: number): Float64Array {
  return wordDraws(seed, stream, index0, n, WordMap.Signed);
}

/** Uniform draws on [0, 1). */
export function uniforms(seed: number, stream: number, index0: number, n: number): Float64Array {
  return wordDraws(seed, stream, index0, n, WordMap.Unit);
}

/**
 * Standard normal draws by Box-Muller in float64, rounded to f32 by the
 * caller. The WGSL kernel computes the same formula in f32 with its own
 * polynomial log and cos (not the drivers' builtins), so device draws agree
 * with these to ~1e-6 on every driver, not bit for bit: initial weights
 * therefore come from this host function (identical on every JS host), and
 * device draws serve random directions.
 */
export function normals(seed: number, stream: number, index0: number, n: number): Float64Array {
  const [k0, k1] = seedKey(seed);
  const out = new Float64Array(n);
  const w = new Uint32Array(4);
  // One block serves draws 2b and 2b + 1.
  for (let j = 0; j < n;) {
    const i = index0 + j;
    philoxInto(w, Math.floor(i / 2), stream, 1, 0, k0, k1);
    for (let lane = 2 * (i & 1); lane < 4 && j < n; lane += 2, j++) out[j] = boxMuller(w[lane], w[lane + 1]);
  }
  return out;
}

export function boxMuller(b1: number, b2: number): number {
  const u1 = ((b1 >>> 8) + 1) * 2 ** -24; // (0, 1]: log stays finite
  const u2 = (b2 >>> 8) * 2 ** -24;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
