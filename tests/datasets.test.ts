import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadDataset } from '../datasets/registry.js';
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
  assert.equal(Array.from(loadDataset('gmm-90-5-3', { seed: 1 }).train.X), Array.from(a.train.X));
  assert.not.equal(Array.from(loadDataset('gmm-90-5-3', { seed: 2 }).train.X), Array.from(a.train.X));
});

test('unknown dataset id names the available ones', () => {
  assert.throws(() => loadDataset('nope-5k'), /unknown dataset 'nope-5k': available are chebyshev/);
});

test.run();
