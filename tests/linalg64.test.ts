// Host float64 eigen-solvers against matrices built with known spectra.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generalizedSymEig, symEig, tridiagEig } from '../core/ts/measure/linalg64.js';
import { withSpectrum as known } from './helpers/numeric.js';

const withSpectrum = (lams: number[], seed: number) => known(lams, seed).A;

test('symEig recovers a known spectrum and orthonormal eigenvectors', () => {
  const lams = [10, 7.5, 3, 1, 0.5, -0.25, -2, 1e-3, 4, 4.0001];
  const n = lams.length;
  const A = withSpectrum(lams, 1);
  const { values, vectors } = symEig(A, n);
  const want = [...lams].sort((a, b) => b - a);
  values.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-12 * 10, `λ${i} ${v} vs ${want[i]}`));
  for (let j = 0; j < n; j++) {
    // ‖A v − λ v‖ small.
    let res = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += A[i * n + k] * vectors[k * n + j];
      res = Math.max(res, Math.abs(s - values[j] * vectors[i * n + j]));
    }
    assert.ok(res < 1e-11, `residual ${res}`);
  }
});

test('tridiagEig: the n-point discrete Laplacian has λ_k = 2 − 2cos(kπ/(n+1))', () => {
  const n = 30;
  const { values } = tridiagEig(new Array(n).fill(2), new Array(n - 1).fill(-1));
  for (let k = 1; k <= n; k++) {
    const want = 2 - 2 * Math.cos(((n + 1 - k) * Math.PI) / (n + 1));
    assert.ok(Math.abs(values[k - 1] - want) < 1e-12, `λ${k}`);
  }
});

test('generalizedSymEig: A c = λ B c with B-orthonormal c', () => {
  const n = 6;
  const A = withSpectrum([5, 3, 2, 1, -1, 0.5], 2);
  const B = withSpectrum([2, 1.5, 1, 0.8, 0.6, 3], 3);
  const { values, vectors } = generalizedSymEig(A, B, n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      let ac = 0, bc = 0;
      for (let k = 0; k < n; k++) { ac += A[i * n + k] * vectors[k * n + j]; bc += B[i * n + k] * vectors[k * n + j]; }
      assert.ok(Math.abs(ac - values[j] * bc) < 1e-10);
    }
    for (let l = 0; l < n; l++) {
      let cbc = 0;
      for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) cbc += vectors[i * n + j] * B[i * n + k] * vectors[k * n + l];
      assert.ok(Math.abs(cbc - (j === l ? 1 : 0)) < 1e-10, 'B-orthonormal');
    }
  }
  assert.throws(() => generalizedSymEig(A, withSpectrum([1, 1, 1, 1, 1, -1], 4), n), /not positive definite/);
});

test.run();
