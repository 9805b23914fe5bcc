import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadDataset, loadDatasetFrom, parseImageId } from '../datasets/registry.js';
import { memoryFiles } from '../datasets/sources.js';
import { idxFile } from './helpers/idx.js';
import { chebyshevT } from '../datasets/synthetic.js';

test('chebyshev-k-20: 20 points evenly spaced in [−1, 1], y = T_k(x), train = test', () => {
  for (const k of [3, 4, 5]) {
    const ds = loadDataset(`chebyshev-${k}-20`);
    assert.is(ds.train.N, 20);
    assert.is(ds.train.X[0], -1);
    assert.is(ds.train.X[19], 1);
    for (let i = 0; i < 20; i++) {
      const x = -1 + (2 * i) / 19;
      // Closed form T_k(cos t) = cos(k t) as the independent check.
      assert.ok(Math.abs(ds.train.Y[i] - Math.cos(k * Math.acos(x))) < 1e-6);
    }
    assert.is(ds.test, ds.train);
  }
  assert.is(chebyshevT(3, 0.5), 4 * 0.125 - 3 * 0.5);
});

test('gmm-n-d-c: shapes, one-hot targets, balanced classes, seed determinism', () => {
  const a = loadDataset('gmm-90-5-3', { seed: 1 });
  assert.is(a.train.X.length, 90 * 5);
  const counts = [0, 0, 0];
  for (let i = 0; i < 90; i++) {
    const row = Array.from(a.train.Y.subarray(i * 3, i * 3 + 3));
    assert.is(row.reduce((s, x) => s + x, 0), 1);
    counts[row.indexOf(1)]++;
  }
  assert.equal(counts, [30, 30, 30]);
  // Integer labels agree with the one-hot rows.
  assert.equal(Array.from(a.train.labels!), Array.from({ length: 90 }, (_, i) => Array.from(a.train.Y.subarray(i * 3, i * 3 + 3)).indexOf(1)));
  assert.equal(Array.from(loadDataset('gmm-90-5-3', { seed: 1 }).train.X), Array.from(a.train.X));
  assert.not.equal(Array.from(loadDataset('gmm-90-5-3', { seed: 2 }).train.X), Array.from(a.train.X));
});

test('linear-50-50: a noiseless linear teacher, unit-variance targets, seeded', () => {
  const ds = loadDataset('linear-50-50', { seed: 3 });
  assert.is(ds.d, 50);
  assert.is(ds.c, 1);
  assert.is(ds.train.N, 50);
  assert.is(ds.test, ds.train);
  const Y = ds.train.Y;
  let var_ = 0;
  for (let i = 0; i < 50; i++) var_ += Y[i] * Y[i] / 50;
  assert.ok(var_ > 0.3 && var_ < 3, `target variance ${var_}`);
  assert.equal(Array.from(loadDataset('linear-50-50', { seed: 3 }).train.Y), Array.from(Y));
  assert.not.equal(Array.from(loadDataset('linear-50-50', { seed: 4 }).train.Y), Array.from(Y));
  // Noiseless and linear: least squares on an overdetermined set fits exactly.
  const { X: Xs, Y: Ys } = loadDataset('linear-40-5').train;
  const d = 5, A = new Float64Array(d * d), b = new Float64Array(d);
  for (let i = 0; i < 40; i++) for (let j = 0; j < d; j++) {
    b[j] += Xs[i * d + j] * Ys[i];
    for (let k = 0; k < d; k++) A[j * d + k] += Xs[i * d + j] * Xs[i * d + k];
  }
  // Gaussian elimination on the 5×5 normal equations.
  for (let p = 0; p < d; p++) for (let r = p + 1; r < d; r++) {
    const f = A[r * d + p] / A[p * d + p];
    for (let k = p; k < d; k++) A[r * d + k] -= f * A[p * d + k];
    b[r] -= f * b[p];
  }
  const w = new Float64Array(d);
  for (let p = d - 1; p >= 0; p--) {
    let s = b[p];
    for (let k = p + 1; k < d; k++) s -= A[p * d + k] * w[k];
    w[p] = s / A[p * d + p];
  }
  for (let i = 0; i < 40; i++) {
    let f = 0;
    for (let j = 0; j < d; j++) f += Xs[i * d + j] * w[j];
    assert.ok(Math.abs(f - Ys[i]) < 1e-5, `residual at ${i}`);
  }
});

test('unknown dataset id names the available ones', () => {
  assert.throws(() => loadDataset('nope-5k'), /unknown dataset 'nope-5k': available are chebyshev/);
});

test('-balanced subsets take n/c of each class; plain subsets take the first n', async () => {
  const N = 2000, T = 10;
  const idx = idxFile;
  // Skewed order: the first 1500 examples hold classes 0-4 only.
  const labels = Uint8Array.from({ length: N }, (_, i) => (i < 1500 ? i % 5 : 5 + (i % 5)));
  const images = (n: number) => Uint8Array.from({ length: n * 784 }, (_, i) => (i * 31) % 256);
  const files = memoryFiles({
    'mnist/train-images-idx3-ubyte': idx(0x803, [N, 28, 28], images(N)), 'mnist/train-labels-idx1-ubyte': idx(0x801, [N], labels),
    'mnist/t10k-images-idx3-ubyte': idx(0x803, [T, 28, 28], images(T)), 'mnist/t10k-labels-idx1-ubyte': idx(0x801, [T], labels.subarray(0, T)),
  });
  const counts = (ds: Awaited<ReturnType<typeof loadDatasetFrom>>) => {
    const k = new Array(10).fill(0);
    for (let i = 0; i < ds.train.N; i++) k[Array.from(ds.train.Y.subarray(i * 10, i * 10 + 10)).indexOf(1)]++;
    return k;
  };
  assert.equal(counts(await loadDatasetFrom('mnist-1k', { files })), [200, 200, 200, 200, 200, 0, 0, 0, 0, 0]);
  const bal = await loadDatasetFrom('mnist-1k-balanced', { files });
  assert.equal(counts(bal), Array(10).fill(100));
  assert.equal(Array.from(bal.train.labels!.subarray(0, 5)), [0, 1, 2, 3, 4].map((k) => Array.from(bal.train.Y.subarray(k * 10, k * 10 + 10)).indexOf(1)));
  assert.throws(() => parseImageId('mnist-balanced'), /-balanced applies to a subset/);
});

test.run();
