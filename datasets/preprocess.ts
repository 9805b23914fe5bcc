// Image datasets → the engine's Dataset (pure: no fs, no process). Pixels are
// uint8; they are scaled to [0, 1], centred and standardised per feature with
// statistics of a chosen source (the full training set, even when a subset is
// used, as in the reference), and the labels become one-hot rows.
import { uniforms } from '../core/ts/rng/philox.js';
import type { Dataset, Split } from './synthetic.js';

export interface RawSplit {
  /** N×d uint8 pixels, row-major (CHW within a row for colour images). */
  images: Uint8Array;
  labels: Uint8Array;
  N: number;
}

export interface RawImageSet {
  /** [channels, height, width]; d = their product. */
  shape: [number, number, number];
  classes: number;
  train: RawSplit;
  test: RawSplit;
  /** Where it came from, for the run metadata. */
  source: string;
}

export interface FeatureStats {
  mean: Float64Array;
  /** Population standard deviation (ddof 0); 0 where a feature is constant. */
  std: Float64Array;
}

/** Per-feature mean and standard deviation of x/255 over all N rows, in float64. */
export function featureStats(pixels: Uint8Array, N: number, d: number): FeatureStats {
  if (pixels.length !== N * d) throw new Error(`featureStats: ${pixels.length} pixels is not ${N}×${d}`);
  const sum = new Float64Array(d), sum2 = new Float64Array(d);
  for (let i = 0; i < N; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) { const v = pixels[o + j]; sum[j] += v; sum2[j] += v * v; }
  }
  const mean = new Float64Array(d), std = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    // On integer sums (exact below 2^53), then scaled: no cancellation from rounding.
    const m = sum[j] / N;
    const varInt = Math.max(0, (sum2[j] - sum[j] * m) / N);
    mean[j] = m / 255;
    std[j] = Math.sqrt(varInt) / 255;
  }
  return { mean, std };
}

/** Scale to [0, 1] only. */
export function toUnit(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 255;
  return out;
}

/** (x/255 − mean)/std per feature; a constant feature (std 0) is only centred (→ 0). */
export function standardize(pixels: Uint8Array, N: number, d: number, stats: FeatureStats): Float32Array {
  const out = new Float32Array(N * d);
  const inv = stats.std.map((s) => (s > 0 ? 1 / s : 1));
  for (let i = 0; i < N; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) out[o + j] = (pixels[o + j] / 255 - stats.mean[j]) * inv[j];
  }
  return out;
}

export function oneHot(labels: ArrayLike<number>, c: number): Float32Array {
  const Y = new Float32Array(labels.length * c);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!(y >= 0 && y < c && Number.isInteger(y))) throw new Error(`label ${y} at row ${i} is outside 0…${c - 1}`);
    Y[i * c + y] = 1;
  }
  return Y;
}

/** The first n/c examples of each class, in their original order (n must be a multiple of c). */
export function balancedIndices(labels: ArrayLike<number>, c: number, n: number): Uint32Array {
  if (n % c !== 0) throw new Error(`a class-balanced subset of ${n} needs a multiple of ${c}`);
  const per = n / c, taken = new Array<number>(c).fill(0), out: number[] = [];
  for (let i = 0; i < labels.length && out.length < n; i++) {
    const y = labels[i];
    if (taken[y] < per) { taken[y]++; out.push(i); }
  }
  if (out.length < n) throw new Error(`a class-balanced subset of ${n} needs ${per} of each class; the data has ${taken.join('/')}`);
  return Uint32Array.from(out);
}

/** A permutation of 0…N−1: indices sorted by Philox uniforms(seed, stream, 0, N) keys (ties by index). */
export function shuffledIndices(N: number, seed: number, stream: number): Uint32Array {
  const keys = uniforms(seed, stream, 0, N);
  return Uint32Array.from(Array.from({ length: N }, (_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b));
}

/** Rows `idx` of a raw split. */
export function selectRows(s: RawSplit, d: number, idx: ArrayLike<number>): RawSplit {
  const images = new Uint8Array(idx.length * d), labels = new Uint8Array(idx.length);
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k];
    if (i >= s.N) throw new Error(`row ${i} is beyond the ${s.N} examples`);
    images.set(s.images.subarray(i * d, (i + 1) * d), k * d);
    labels[k] = s.labels[i];
  }
  return { images, labels, N: idx.length };
}

export interface PrepareOptions {
  /** Training subset: the first n examples, or the first n/c of each class. Default: all. */
  subset?: { n: number; balanced?: boolean };
  /** Shuffle the chosen training rows (after subsetting) with this seed; stream 0x7000. */
  shuffleSeed?: number;
  /** Statistics to standardise with; default: the FULL training split (not the subset). */
  stats?: FeatureStats;
  /** false: only scale to [0, 1]. */
  standardize?: boolean;
}

export function prepareImages(id: string, raw: RawImageSet, o: PrepareOptions = {}): Dataset {
  const d = raw.shape[0] * raw.shape[1] * raw.shape[2], c = raw.classes;
  // Statistics over 0 rows are NaN, and a run on them trains on nothing: refuse here, before any run is set up.
  for (const [name, s] of [['training', raw.train], ['test', raw.test]] as const) {
    if (s.N === 0) throw new Error(`dataset '${id}': the ${name} split of ${raw.source} is empty: give it at least one example`);
  }
  const stats = o.stats ?? featureStats(raw.train.images, raw.train.N, d);
  let train = raw.train;
  if (o.subset) {
    const n = o.subset.n;
    if (n > train.N) throw new Error(`dataset '${id}': asks for ${n} training examples, the data has ${train.N}`);
    train = selectRows(train, d, o.subset.balanced ? balancedIndices(train.labels, c, n) : Uint32Array.from({ length: n }, (_, i) => i));
  }
  if (o.shuffleSeed !== undefined) train = selectRows(train, d, shuffledIndices(train.N, o.shuffleSeed, 0x7000));
  const conv = (s: RawSplit): Split => ({
    X: o.standardize === false ? toUnit(s.images) : standardize(s.images, s.N, d, stats),
    Y: oneHot(s.labels, c),
    N: s.N,
    labels: Int32Array.from(s.labels),
  });
  return { id, task: 'classification', d, c, train: conv(train), test: conv(raw.test), source: raw.source };
}
