// Philox-4x32-10: known-answer vectors (Random123's kat_vectors), and each
// backend's kernel (WGSL, AssemblyScript) against the TS definition: raw bits
// and uniforms exactly, normals to f32 transcendental accuracy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { boxMuller, normals, philox4x32, rademachers, signedUniforms, uniforms } from '../core/ts/rng/philox.js';
import { forEachBackend } from './helpers/backends.js';

test('Random123 known-answer vectors', () => {
  const hex = (a: Uint32Array) => Array.from(a, (x) => x.toString(16).padStart(8, '0'));
  assert.equal(hex(philox4x32(0, 0, 0, 0, 0, 0)), ['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
  const f = 0xffffffff;
  assert.equal(hex(philox4x32(f, f, f, f, f, f)), ['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
  assert.equal(hex(philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0)),
    ['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
});

test('different streams and seeds give different draws', () => {
  const a = uniforms(1, 0, 0, 8), b = uniforms(1, 1, 0, 8), c = uniforms(2, 0, 0, 8);
  assert.not.equal(Array.from(a), Array.from(b));
  assert.not.equal(Array.from(a), Array.from(c));
});

test('block-wise draws equal the per-draw definition at any offset and length', () => {
  // The draws fill whole Philox blocks at a time; each value must still be its own index's word.
  const seed = 2 ** 33 + 5, stream = 3, [k0, k1] = [seed >>> 0, Math.floor(seed / 2 ** 32)];
  for (const [index0, n] of [[0, 1], [1, 2], [3, 6], [6, 3], [333, 17], [1000, 0]]) {
    const word = (i: number) => philox4x32(Math.floor(i / 4), stream, 0, 0, k0, k1)[i & 3];
    const idx = Array.from({ length: n }, (_, j) => index0 + j);
    assert.equal(Array.from(uniforms(seed, stream, index0, n)), idx.map((i) => (word(i) >>> 8) * 2 ** -24), `uniforms ${index0}+${n}`);
    assert.equal(Array.from(signedUniforms(seed, stream, index0, n)), idx.map((i) => ((word(i) >>> 8) - 2 ** 23) * 2 ** -23), `signed ${index0}+${n}`);
    assert.equal(Array.from(rademachers(seed, stream, index0, n)), idx.map((i) => (word(i) >>> 31 ? -1 : 1)), `rademachers ${index0}+${n}`);
    const pair = (i: number) => { const w = philox4x32(Math.floor(i / 2), stream, 1, 0, k0, k1), l = 2 * (i & 1); return boxMuller(w[l], w[l + 1]); };
    assert.equal(Array.from(normals(seed, stream, index0, n)), idx.map(pair), `normals ${index0}+${n}`);
  }
});

test.run();

forEachBackend('philox rng', (T) => {
  T('bits and uniforms equal the TS definition exactly', async ({ be }) => {
    const n = 1000, seed = 2 ** 40 + 12345, stream = 7, index0 = 333;
    const b = be.alloc(n, 'draws');
    be.random({ out: b, n, seed, stream, index0, dist: 'bits' });
    const bits = new Uint32Array((await be.read(b)).buffer);
    const [k0, k1] = [seed >>> 0, Math.floor(seed / 2 ** 32)];
    for (let j = 0; j < n; j++) {
      const i = index0 + j;
      assert.is(bits[j], philox4x32(Math.floor(i / 4), stream, 0, 0, k0, k1)[i & 3], `draw ${i}`);
    }
    be.random({ out: b, n, seed, stream, index0, dist: 'uniform' });
    assert.equal(Array.from(await be.read(b)), Array.from(Float32Array.from(uniforms(seed, stream, index0, n))));
    be.random({ out: b, n, seed, stream, index0, dist: 'signed', scale: 0.25 });
    assert.equal(Array.from(await be.read(b)), Array.from(Float32Array.from(signedUniforms(seed, stream, index0, n), (x) => 0.25 * x)));
    // Rademacher probes (Hutchinson): ±scale from each word's top bit, about half of each sign.
    be.random({ out: b, n, seed, stream, index0, dist: 'rademacher', scale: 2 });
    const r = Array.from(await be.read(b));
    assert.equal(r, Array.from(rademachers(seed, stream, index0, n), (x) => 2 * x));
    const plus = r.filter((x) => x === 2).length;
    assert.ok(plus + r.filter((x) => x === -2).length === n && Math.abs(plus - n / 2) < 4 * Math.sqrt(n / 4), `${plus} of ${n} positive`);
    be.release(b);
  });

  T('normals match the float64 definition and are standard normal', async ({ be }) => {
    const n = 20000;
    const b = be.alloc(n, 'normals');
    be.random({ out: b, n, seed: 3, stream: 1, dist: 'normal' });
    const z = await be.read(b);
    const ref = normals(3, 1, 0, n);
    let maxErr = 0, mean = 0, sq = 0;
    for (let i = 0; i < n; i++) {
      // Own f32 log/cos polynomials in either backend's kernel: a few ulp of |z| ≤ 6, so ≤ 2e-6 absolute.
      maxErr = Math.max(maxErr, Math.abs(z[i] - ref[i]));
      mean += z[i] / n;
      sq += (z[i] * z[i]) / n;
    }
    assert.ok(maxErr < 2e-6, `device vs host normal: ${maxErr}`);
    // 20000 draws: mean ~ N(0, 1/n) → |mean| < 4/√n; variance within 5%.
    assert.ok(Math.abs(mean) < 4 / Math.sqrt(n), `mean ${mean}`);
    assert.ok(Math.abs(sq - 1) < 0.05, `second moment ${sq}`);
    be.release(b);
  });
});
