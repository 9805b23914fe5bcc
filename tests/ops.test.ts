// The non-matmul ops against float64: deterministic reductions (sum, dot,
// squared norm) across many chunks and K models, column sums, vector ops,
// and the loss heads (value, accuracy, gradient, loss-Hessian product).
import * as assert from 'uvu/assert';
import { forEachBackend } from './helpers/backends.js';
import { randArray, relErr } from './helpers/gpu.js';
import { upload } from './helpers/problem.js';

forEachBackend('ops', (T) => {
  T('reduce: sums and dots of K segments, identical bits on repeat', async ({ be }) => {
    const n = 100_003, K = 2; // > 4096 per chunk: exercises the two-stage tree
    const x = randArray(K * n + 7, 1), y = randArray(K * n + 7, 2);
    const xb = upload(be, x, 'x'), yb = upload(be, y, 'y');
    be.reduce({ n, K, x: { buf: xb, off: 7, bs: n }, slot: 10 });
    be.reduce({ n, K, x: { buf: xb, off: 7, bs: n }, y: { buf: yb, off: 7, bs: n }, slot: 12, scale: 0.5 });
    be.reduce({ n, K, x: { buf: xb, off: 7, bs: n }, y: { buf: xb, off: 7, bs: n }, slot: 14 });
    be.reduce({ n, K, x: { buf: xb, off: 7, bs: n }, y: { buf: xb, off: 7, bs: n }, slot: 14, accumulate: true });
    const s1 = await be.readScalars(10, 6);
    be.reduce({ n, K, x: { buf: xb, off: 7, bs: n }, slot: 10 });
    const again = await be.readScalars(10, 2);
    assert.equal(Array.from(again), Array.from(s1.subarray(0, 2)), 'same bits on repeat');
    for (let z = 0; z < K; z++) {
      let sum = 0, dot = 0, sq = 0, abs = 0;
      for (let i = 0; i < n; i++) {
        const a = x[7 + z * n + i], b = y[7 + z * n + i];
        sum += a; dot += a * b; sq += a * a; abs += Math.abs(a * b) + Math.abs(a);
      }
      // Pairwise-ish f32 summation: error ≲ log2(n)·6e-8 of Σ|terms|.
      assert.ok(Math.abs(s1[z] - sum) < 2e-6 * abs, `sum ${s1[z]} vs ${sum}`);
      assert.ok(Math.abs(s1[2 + z] - 0.5 * dot) < 2e-6 * abs, 'dot');
      assert.ok(Math.abs(s1[4 + z] - 2 * sq) < 2e-6 * 2 * sq, 'accumulated squared norm');
    }
    be.release(xb); be.release(yb);
  });

  T('colsum with accumulation', async ({ be }) => {
    const M = 33, N = 17, K = 3;
    const d = randArray(K * M * N, 3), o0 = randArray(K * N, 4);
    const db = upload(be, d, 'd'), ob = upload(be, o0, 'o');
    be.colsum({ M, N, K, d: { buf: db, off: 0, bs: M * N }, out: { buf: ob, off: 0, bs: N }, accumulate: true });
    const want = Float64Array.from(o0);
    for (let z = 0; z < K; z++) for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) want[z * N + n] += d[z * M * N + m * N + n];
    assert.ok(relErr(await be.read(ob), want) < 1e-6);
    be.release(db); be.release(ob);
  });

  T('vector ops: axpy, scale, fill, copy; NaN garbage is overwritten when beta = 0', async ({ be }) => {
    const x = randArray(1000, 5), y = randArray(1000, 6);
    const xb = upload(be, x, 'x'), yb = upload(be, y, 'y');
    be.vector({ n: 1000, y: yb, x: xb, alpha: 2, beta: -1, gamma: 0.5 });
    assert.ok(relErr(await be.read(yb), Float64Array.from(y, (v, i) => 2 * x[i] - v + 0.5)) < 1e-6);
    be.write(yb, new Float32Array(1000).fill(NaN));
    be.vector({ n: 1000, y: yb, x: xb, alpha: 1, beta: 0 });
    assert.equal(Array.from(await be.read(yb)), Array.from(x), 'copy');
    be.vector({ n: 10, y: yb, yOff: 990, beta: 0, gamma: 3 });
    assert.equal(Array.from((await be.read(yb)).subarray(985)), [...Array.from(x.subarray(985, 990)), ...Array(10).fill(3)], 'fill a range');
    assert.throws(() => be.vector({ n: 10, y: yb, x: yb }), /different buffers/);
    be.release(xb); be.release(yb);
  });

  T('loss heads: CE is stable for huge logits; MSE and CE values, gradients, Hessian products', async ({ be }) => {
    const B = 5, c = 4;
    const f = Float32Array.from([1000, -1000, 3, 2, 0.1, 0.2, 0.3, 0.4, -5, 5, 0, 1, 2, 2, 2, 2, -80, 0, 80, 1]);
    const y = new Float32Array(B * c);
    [0, 3, 1, 2, 2].forEach((k, i) => { y[i * c + k] = 1; });
    const rf = randArray(B * c, 9);
    const fb = upload(be, f, 'f'), yb = upload(be, y, 'y'), rb = upload(be, rf, 'rf');
    const d = be.alloc(B * c, 'd'), pe = be.alloc(2 * B, 'pe'), hd = be.alloc(B * c, 'Hd');
    const v = (buf: typeof fb) => ({ buf, off: 0, bs: 0 });
    for (const loss of ['mse', 'ce'] as const) {
      be.loss({ loss, mode: 'grad', B, c, K: 1, f: v(fb), y: v(yb), d: v(d), pe: v(pe), acc: { buf: pe, off: B, bs: 0 }, scale: 0.5 });
      be.loss({ loss, mode: 'hess', B, c, K: 1, f: v(fb), y: v(yb), d: v(hd), rf: v(rb), scale: 0.5 });
      const D = await be.read(d), PE = await be.read(pe), HD = await be.read(hd);
      for (let i = 0; i < B; i++) {
        const row = Array.from(f.subarray(i * c, i * c + c)), t = Array.from(y.subarray(i * c, i * c + c));
        const mx = Math.max(...row), lse = mx + Math.log(row.reduce((s, a) => s + Math.exp(a - mx), 0));
        const p = row.map((a) => Math.exp(a - lse));
        const want = loss === 'mse' ? row.reduce((s, a, j) => s + 0.5 * (a - t[j]) ** 2, 0) : lse - row.reduce((s, a, j) => s + a * t[j], 0);
        assert.ok(Number.isFinite(PE[i]) && Math.abs(PE[i] - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${loss} row ${i}: ${PE[i]} vs ${want}`);
        assert.is(PE[B + i], row.indexOf(mx) === t.indexOf(1) ? 1 : 0, `${loss} row ${i} accuracy`);
        const r = Array.from(rf.subarray(i * c, i * c + c));
        const pr = p.reduce((s, pj, j) => s + pj * r[j], 0);
        for (let j = 0; j < c; j++) {
          const g = loss === 'mse' ? row[j] - t[j] : p[j] - t[j];
          const h = loss === 'mse' ? r[j] : p[j] * (r[j] - pr);
          assert.ok(Math.abs(D[i * c + j] - 0.5 * g) < 1e-5 * Math.max(1, Math.abs(g)), `${loss} grad`);
          assert.ok(Math.abs(HD[i * c + j] - 0.5 * h) < 1e-5, `${loss} Hessian product`);
        }
      }
    }
    for (const b of [fb, yb, rb, d, pe, hd]) be.release(b);
  });
});
