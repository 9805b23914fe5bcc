import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { balancedIndices, featureStats, oneHot, prepareImages, shuffledIndices, standardize, type RawImageSet } from '../datasets/preprocess.js';
import { decodeImageCache, encodeImageCache } from '../datasets/image-cache.js';

/** Deterministic pseudo-random uint8 pixels (an LCG, independent of the code under test). */
function pixels(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; out[i] = (s >>> 24) & (i % 7 === 0 ? 0x0f : 0xff); }
  return out;
}

function rawSet(nTrain: number, nTest: number, d: number, c: number): RawImageSet {
  const labels = (n: number, k: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + k + (i >> 3)) % c);
  return {
    shape: [1, 1, d], classes: c, source: 'test',
    train: { images: pixels(nTrain * d, 1), labels: labels(nTrain, 0), N: nTrain },
    test: { images: pixels(nTest * d, 2), labels: labels(nTest, 3), N: nTest },
  };
}

/** Two-pass float64 mean and population std of column j of x/255. */
function refStats(px: Uint8Array, N: number, d: number, j: number): [number, number] {
  let m = 0;
  for (let i = 0; i < N; i++) m += px[i * d + j] / 255;
  m /= N;
  let v = 0;
  for (let i = 0; i < N; i++) v += (px[i * d + j] / 255 - m) ** 2;
  return [m, Math.sqrt(v / N)];
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

test('featureStats: per-feature mean and std match a two-pass float64 reference to 1e-6', () => {
  const N = 500, d = 37, px = pixels(N * d, 9);
  px.fill(7, 0, 0); for (let i = 0; i < N; i++) px[i * d + 5] = 200; // a constant feature
  const s = featureStats(px, N, d);
  for (let j = 0; j < d; j++) {
    const [m, sd] = refStats(px, N, d, j);
    assert.ok(rel(s.mean[j], m) < 1e-6, `mean ${j}`);
    if (sd < 1e-12) assert.is(s.std[j], 0); else assert.ok(rel(s.std[j], sd) < 1e-6, `std ${j}`);
  }
  const X = standardize(px, N, d, s);
  for (let i = 0; i < N; i++) assert.is(X[i * d + 5], 0); // constant feature: centred, not divided by 0
});

test('prepareImages: statistics from the full training set, even for a subset; test split standardised with them', () => {
  const raw = rawSet(400, 100, 12, 4);
  const full = prepareImages('x', raw), sub = prepareImages('x-sub', raw, { subset: { n: 40 } });
  assert.is(sub.train.N, 40);
  assert.equal(Array.from(sub.train.X), Array.from(full.train.X.subarray(0, 40 * 12)));
  assert.equal(Array.from(sub.test.X), Array.from(full.test.X));
  for (let j = 0; j < 12; j++) {
    const [m, sd] = refStats(raw.train.images, 400, 12, j);
    let mean = 0, sq = 0;
    for (let i = 0; i < 400; i++) { const x = full.train.X[i * 12 + j]; mean += x; sq += x * x; }
    assert.ok(Math.abs(mean / 400) < 1e-5 && Math.abs(sq / 400 - 1) < 1e-5, `feature ${j} standardised`);
    const t = (raw.test.images[j] / 255 - m) / sd;
    assert.ok(Math.abs(full.test.X[j] - t) < 1e-5);
  }
  assert.is(full.task, 'classification');
  assert.is(full.d, 12);
  const unit = prepareImages('u', raw, { standardize: false });
  assert.is(unit.train.X[3], Math.fround(raw.train.images[3] / 255));
});

test('oneHot: one 1 per row at the label', () => {
  const Y = oneHot([2, 0, 1], 3);
  assert.equal(Array.from(Y), [0, 0, 1, 1, 0, 0, 0, 1, 0]);
  assert.throws(() => oneHot([3], 3), /outside 0…2/);
});

test('balanced subsets: n/c of each class, the first ones in order', () => {
  const raw = rawSet(400, 10, 3, 4);
  const idx = balancedIndices(raw.train.labels, 4, 80);
  const counts = [0, 0, 0, 0];
  for (const i of idx) counts[raw.train.labels[i]]++;
  assert.equal(counts, [20, 20, 20, 20]);
  for (let k = 1; k < idx.length; k++) assert.ok(idx[k] > idx[k - 1]);
  // the first 20 of class 0 are exactly the first 20 indices with label 0
  const first0 = Array.from(raw.train.labels.entries()).filter(([, y]) => y === 0).slice(0, 20).map(([i]) => i);
  assert.equal(Array.from(idx).filter((i) => raw.train.labels[i] === 0), first0);
  const ds = prepareImages('b', raw, { subset: { n: 80, balanced: true } });
  const cc = [0, 0, 0, 0];
  for (let i = 0; i < 80; i++) cc[ds.train.Y.subarray(i * 4, i * 4 + 4).indexOf(1)]++;
  assert.equal(cc, [20, 20, 20, 20]);
  assert.throws(() => balancedIndices(raw.train.labels, 4, 81), /multiple of 4/);
  assert.throws(() => balancedIndices(raw.train.labels, 4, 800), /needs 200 of each class/);
});

test('seeded shuffling: a permutation, deterministic in the seed', () => {
  const a = shuffledIndices(1000, 3, 0x7000), b = shuffledIndices(1000, 3, 0x7000), c = shuffledIndices(1000, 4, 0x7000);
  assert.equal(Array.from(a), Array.from(b));
  assert.not.equal(Array.from(a), Array.from(c));
  assert.equal(Array.from(a).sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  const raw = rawSet(100, 10, 5, 4);
  const s1 = prepareImages('s', raw, { shuffleSeed: 1 }), s2 = prepareImages('s', raw, { shuffleSeed: 1 }), plain = prepareImages('s', raw);
  assert.equal(Array.from(s1.train.X), Array.from(s2.train.X));
  assert.not.equal(Array.from(s1.train.X), Array.from(plain.train.X));
});

test('image cache: encode → decode round-trips; a truncated file is refused', () => {
  const raw = rawSet(30, 7, 6, 3);
  const bytes = encodeImageCache(raw);
  const back = decodeImageCache(bytes, 'mem');
  assert.equal(back.shape, raw.shape);
  assert.equal(Array.from(back.train.images), Array.from(raw.train.images));
  assert.equal(Array.from(back.test.labels), Array.from(raw.test.labels));
  assert.throws(() => decodeImageCache(bytes.subarray(0, bytes.length - 1), 'mem'), /does not match its header/);
});

test.run();
