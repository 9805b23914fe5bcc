// Small numeric helpers shared by tests and bench: a seeded generator
// independent of the engine's Philox (so data and engine randomness cannot
// conspire), the error measure every tolerance refers to, and matrices with
// known spectra.

/** mulberry32: a uniform stream in [0, 1). */
export function rand(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** ‖a−b‖∞ / max(‖b‖∞, tiny). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-30);
}

/** A random n×n orthogonal matrix (Gram-Schmidt, twice, of uniform noise), row-major. */
export function randomOrthogonal(n: number, seed: number): Float64Array {
  const r = rand(seed);
  const Q = Float64Array.from({ length: n * n }, () => r() - 0.5);
  for (let j = 0; j < n; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += Q[i * n + j] * Q[i * n + k];
        for (let i = 0; i < n; i++) Q[i * n + j] -= d * Q[i * n + k];
      }
    }
    let nn = 0;
    for (let i = 0; i < n; i++) nn += Q[i * n + j] ** 2;
    for (let i = 0; i < n; i++) Q[i * n + j] /= Math.sqrt(nn);
  }
  return Q;
}

/** Q diag(spectrum) Qᵀ for a random orthogonal Q: a symmetric matrix with a known spectrum. */
export function withSpectrum(spectrum: number[], seed: number): { A: Float64Array; Q: Float64Array } {
  const n = spectrum.length, Q = randomOrthogonal(n, seed);
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += Q[i * n + k] * spectrum[k] * Q[j * n + k];
    A[i * n + j] = A[j * n + i] = s;
  }
  return { A, Q };
}
