// Synthetic datasets the tests and demos need, generated deterministically
// (no files): the reference's Chebyshev regression sets and a seeded
// Gaussian-mixture classification set.
import { normals, uniforms } from '../core/ts/rng/philox.js';

export interface Split {
  /** N×d inputs, row-major. */
  X: Float32Array;
  /** N×c targets: real values (regression) or one-hot rows (classification). */
  Y: Float32Array;
  N: number;
  /**
   * Integer class labels (classification only), for tools that want them. The
   * engine's cross-entropy reads the one-hot rows Y, which gives the same loss.
   */
  labels?: Int32Array;
}

export interface Dataset {
  id: string;
  task: 'regression' | 'classification';
  d: number;
  c: number;
  train: Split;
  test: Split;
  source: string;
  /** Per-example input shape: [C, H, W] for images, [d] for feature vectors; [d] when absent. */
  shape?: number[];
  /** The file an npz: dataset was read from. */
  file?: DatasetFile;
}

export interface DatasetFile {
  /** As the FileSource names it (the absolute path on Node). */
  path: string;
  bytes: number;
  /** SHA-256 of the file, lower-case hex. */
  sha256: string;
}

/** T_k(x) by the three-term recurrence T_{k+1} = 2x T_k − T_{k−1}. */
export function chebyshevT(k: number, x: number): number {
  let a = 1, b = x;
  if (k === 0) return a;
  for (let i = 1; i < k; i++) [a, b] = [b, 2 * x * b - a];
  return b;
}

/** chebyshev-k-n: n points evenly spaced in [−1, 1], y = T_k(x); train = test, as in the reference. */
export function chebyshev(k: number, n: number): Dataset {
  const X = new Float32Array(n), Y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = n === 1 ? 0 : -1 + (2 * i) / (n - 1);
    X[i] = x;
    Y[i] = chebyshevT(k, x);
  }
  const split = { X, Y, N: n };
  return { id: `chebyshev-${k}-${n}`, task: 'regression', d: 1, c: 1, train: split, test: split, source: 'generated' };
}

/**
 * gmm-<n>-<d>-<c>: c Gaussian clusters in d dimensions, class means drawn
 * N(0, 1) per coordinate, unit-variance noise scaled by `spread`; n training
 * and n test points, classes assigned round-robin; seed-controlled.
 */
export function gaussianMixture(n: number, d: number, c: number, seed: number, spread = 1): Dataset {
  const means = normals(seed, 0, 0, c * d);
  const make = (stream: number): Split => {
    const noise = normals(seed, stream, 0, n * d);
    const perm = uniforms(seed, stream + 10, 0, n);
    const X = new Float32Array(n * d), Y = new Float32Array(n * c);
    // Shuffle the round-robin labels with the seed so classes interleave.
    const labels = Array.from({ length: n }, (_, i) => i % c);
    const order = labels.map((_, i) => i).sort((a, b) => perm[a] - perm[b]);
    order.forEach((src, i) => {
      const y = labels[src];
      for (let j = 0; j < d; j++) X[i * d + j] = means[y * d + j] + spread * noise[i * d + j];
      Y[i * c + y] = 1;
    });
    return { X, Y, N: n, labels: Int32Array.from(order, (src) => labels[src]) };
  };
  return { id: `gmm-${n}-${d}-${c}`, task: 'classification', d, c, train: make(1), test: make(2), source: `generated (seed ${seed})` };
}

/**
 * linear-<n>-<d>: a noiseless linear teacher y = w*ᵀx, n points x ~ N(0, I_d),
 * w* ~ N(0, I/d) (so y has unit variance), one output, train = test,
 * seed-controlled. `linear-50-50` is the interpolation-threshold case n = d.
 */
export function linearTeacher(n: number, d: number, seed: number): Dataset {
  const w = normals(seed, 20, 0, d);
  const X = Float32Array.from(normals(seed, 21, 0, n * d));
  const Y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let y = 0;
    for (let j = 0; j < d; j++) y += X[i * d + j] * w[j];
    Y[i] = y / Math.sqrt(d);
  }
  const split = { X, Y, N: n };
  return { id: `linear-${n}-${d}`, task: 'regression', d, c: 1, train: split, test: split, source: `generated (seed ${seed})` };
}
