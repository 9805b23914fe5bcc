// The Wasm core's non-matmul ops (core/wasm/ops.ts) against independent
// float64 references, on all three builds, plus "every build gives the same
// bits" (the SIMD paths keep the scalar association order).
//
// Tolerances: one f32 operation rounds to within 2^-24 ≈ 6e-8 relative, and
// these formulas chain a handful to a few dozen of them (Mathf's exp/log/tanh
// are ~1 ulp), so 1e-6 of the magnitude (max(1, |ref|): absolute near zero,
// where f32 formulas like exp(x) − 1 lose relative but not absolute accuracy)
// leaves a margin of a few over the worst case. Where the result is exact
// in f32 (vector, uniform draws) the check is bit for bit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { instantiateCore, type WasmCore } from '../core/ts/backend/wasm/module.js';
import { normals, philox4x32, seedKey, signedUniforms, uniforms } from '../core/ts/rng/philox.js';

const BUILDS = [['build/eoslab.wasm', true], ['build/eoslab-simd.wasm', false], ['build/eoslab-scalar.wasm', false]] as const;
const f32 = Math.fround;

// ---- harness

type Op = (...args: number[]) => void;
const op = (core: WasmCore, name: string) => core.exports[name] as Op;

/** Copies `data` into fresh linear memory; returns its byte address. */
function put(core: WasmCore, data: ArrayLike<number>): number {
  const p = core.alloc(4 * Math.max(1, data.length));
  core.f32(p, data.length).set(Array.from(data));
  return p;
}
const get = (core: WasmCore, p: number, n: number) => Float64Array.from(core.f32(p, n));

/** Deterministic inputs (mulberry32), rounded to f32 as they will be stored. */
function rand(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return (n: number, lo = -1, hi = 1) => Float64Array.from({ length: n }, () => f32(lo + (hi - lo) * next()));
}

/** The largest error seen per check, over all builds (printed at the end). */
const worst = new Map<string, number>();
function close(label: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number, scale?: (w: number, i: number) => number) {
  assert.is(got.length, want.length, label);
  let max = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]) / (scale ? scale(want[i], i) : Math.max(1, Math.abs(want[i])));
    if (!(e <= max)) { max = e; at = i; }
  }
  worst.set(label, Math.max(worst.get(label) ?? 0, max));
  assert.ok(max <= tol, `${label}: error ${max} > ${tol} at ${at} (got ${got[at]}, want ${want[at]})`);
}

/** Outputs per check and build: the last test asserts the builds agree bit for bit. */
const bits = new Map<string, Map<string, string>>();
function record(file: string, label: string, data: ArrayLike<number>) {
  if (!bits.has(label)) bits.set(label, new Map());
  bits.get(label)!.set(file, Buffer.from(Float32Array.from(data).buffer).toString('hex'));
}

// ---- float64 references

/** erf to ~1e-15: Maclaurin series below 2.5, the erfc continued fraction above. */
function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 2.5) {
    let term = a, sum = a;
    for (let n = 1; n < 60; n++) { term *= -a * a / n; sum += term / (2 * n + 1); }
    return Math.sign(x) * sum * 2 / Math.sqrt(Math.PI);
  }
  let f = a;
  for (let k = 120; k >= 1; k--) f = a + (k / 2) / f;
  return Math.sign(x) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f);
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);

/** [σ, σ′, σ″] of activation id (ACTIVATION_IDS) at x, the textbook derivatives. */
function act(id: number, x: number): [number, number, number] {
  switch (id) {
    case 0: return [x, 1, 0];
    case 1: { const t = Math.tanh(x); return [t, 1 - t * t, -2 * t * (1 - t * t)]; }
    case 2: return [Math.max(x, 0), x > 0 ? 1 : 0, 0];
    case 3: return x > 0 ? [x, 1, 0] : [Math.expm1(x), Math.exp(x), Math.exp(x)];
    case 4: { const s = sigmoid(x); return [Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), s, s * (1 - s)]; }
    case 5: return [Math.min(Math.max(x, -1), 1), x > -1 && x < 1 ? 1 : 0, 0];
    case 6: { const P = (1 + erf(x / Math.SQRT2)) / 2; return [x * P, P + x * phi(x), phi(x) * (2 - x * x)]; }
    default: { const s = sigmoid(x); return [x * s, s + x * s * (1 - s), s * (1 - s) * (2 + x * (1 - 2 * s))]; }
  }
}
const ACTS = ['identity', 'tanh', 'relu', 'elu', 'softplus', 'hardtanh', 'gelu', 'swish'];

/** A strided [K, per] operand: `off` elements of padding, model z at off + z·bs. */
interface Strided { data: Float64Array; off: number; bs: number }
function strided(r: ReturnType<typeof rand>, K: number, per: number, off: number, pad: number, lo = -1, hi = 1): Strided {
  const bs = per + pad;
  return { data: r(off + K * bs, lo, hi), off, bs };
}
const el = (s: Strided, z: number, i: number) => s.data[s.off + z * s.bs + i];

/**
 * SIMD builds compute tanh with the f32x4 polynomial of core/wasm/simd-math.ts
 * (Cephes tanhf), the scalar build with Mathf.tanh: the same to ~2e-7, not to
 * the bit, so tanh results are compared within each group.
 */
const tanhGroup = (file: string, id: number) => (id !== 1 ? '' : file.includes('scalar') ? ' [scalar tanh]' : ' [simd tanh]');

for (const [file, shared] of BUILDS) {
  let core: WasmCore;
  const T = (name: string, fn: () => void) => test(`${file}: ${name}`, async () => {
    core ??= await instantiateCore(readFileSync(file), shared);
    core.reset();
    fn();
  });

  T('activations σ, σ′, σ″ (act_f via the test hook, σ′ and σ″ through rdelta)', () => {
    const xs = [0, 1, -1, 1e-4, -1e-4, 15.5, -15.5, 40, -40, 100, -100];
    for (let k = 0; k <= 4000; k++) xs.push(-20 + k / 100);
    const x = Float64Array.from(xs, f32), n = x.length;
    const px = put(core, x), out = put(core, new Float64Array(n));
    const ones = put(core, new Float64Array(n).fill(1)), zeros = put(core, new Float64Array(n));
    for (let id = 0; id < 8; id++) {
      const want = Array.from(x, (v) => act(id, v));
      op(core, 'activation')(id, 0, px, out, n);
      close(`σ ${ACTS[id]}`, get(core, out, n), want.map((w) => w[0]), 1e-6);
      // σ″·0·1 + σ′·1 = σ′ and σ″·1·1 + σ′·0 = σ″ exactly (the other term is a signed zero).
      // Swish's σ′, σ″ (the WGSL formulas) hold 1 − s, which cancels for 12 ≲ x ≲ 20:
      // s's rounding (2^-24) times x gives up to ~1e-6 absolute there.
      const tol = id === 7 ? 2e-6 : 1e-6;
      op(core, 'rdelta')(id, n, 1, px, n, zeros, n, ones, n, ones, n, out, n);
      const d1 = get(core, out, n);
      close(`σ′ ${ACTS[id]}`, d1, want.map((w) => w[1]), tol);
      op(core, 'rdelta')(id, n, 1, px, n, ones, n, ones, n, zeros, n, out, n);
      const d2 = get(core, out, n);
      close(`σ″ ${ACTS[id]}`, d2, want.map((w) => w[2]), tol);
      // The hook's σ′, σ″ are the same inlined code.
      op(core, 'activation')(id, 1, px, out, n);
      assert.equal(get(core, out, n), d1);
      op(core, 'activation')(id, 2, px, out, n);
      assert.equal(get(core, out, n), d2);
      record(file, `act ${id}${tanhGroup(file, id)}`, [...d1, ...d2]);
    }
  });

  if (!file.includes('scalar')) T('the SIMD tanh (simd-math.ts) against Math.tanh: 2.5e-7 relative', () => {
    // u/(u + 2) with u = e^{2|x|} − 1 (simd-math.ts): its worst over every f32 in [1e-38, 15]
    // is 1.9e-7 (checked once, exhaustively, against a bit-exact NumPy emulation); the grid
    // here crosses every reduction step n (2|x| = n·ln 2 + r) up to |x| = 10, and the clamp.
    const xs: number[] = [0, -0, 1e-30, 1e-4, 0.17459552, 0.6249, 0.625, 0.6251, 9, 15, 16, 100, 1e30];
    for (let k = 0; k <= 20000; k++) xs.push(-10 + k / 1000);
    const x = Float64Array.from([...xs, ...xs.map((v) => -v)], f32), n = x.length;
    const px = put(core, x), out = put(core, new Float64Array(n));
    op(core, 'tanhSimd')(px, out, n);
    const got = get(core, out, n);
    let worstRel = 0;
    for (let i = 0; i < n; i++) {
      const want = Math.tanh(x[i]);
      assert.ok(Object.is(Math.sign(got[i]), Math.sign(want)) || want === 0, `tanh(${x[i]}) sign`);
      worstRel = Math.max(worstRel, Math.abs(got[i] - want) / Math.max(Math.abs(want), 1e-38));
    }
    assert.ok(worstRel < 2.5e-7, `SIMD tanh relative error ${worstRel}`);
    worst.set('tanh4 rel', Math.max(worst.get('tanh4 rel') ?? 0, worstRel));
  });

  T('rdelta: K = 2 with offsets and strides, every activation', () => {
    const r = rand(11), K = 2, per = 37;
    const a = strided(r, K, per, 3, 4, -3, 3), ra = strided(r, K, per, 0, 0), g = strided(r, K, per, 5, 13);
    const s = strided(r, K, per, 1, 3), o = strided(r, K, per, 2, 2);
    for (let id = 0; id < 8; id++) {
      const pa = put(core, a.data), pra = put(core, ra.data), pg = put(core, g.data), ps = put(core, s.data);
      const po = put(core, o.data);
      op(core, 'rdelta')(id, per, K, pa + 4 * a.off, a.bs, pra + 4 * ra.off, ra.bs, pg + 4 * g.off, g.bs,
        ps + 4 * s.off, s.bs, po + 4 * o.off, o.bs);
      const got = get(core, po, o.data.length), want = Float64Array.from(o.data);
      for (let z = 0; z < K; z++) for (let i = 0; i < per; i++) {
        const [, d1, d2] = act(id, el(a, z, i));
        want[o.off + z * o.bs + i] = d2 * el(ra, z, i) * el(g, z, i) + d1 * el(s, z, i);
      }
      close(`rdelta ${ACTS[id]}`, got, want, 1e-6); // also: the padding is untouched
      record(file, `rdelta ${id}${tanhGroup(file, id)}`, got);
    }
  });

  T('rdeltaOp (the threaded kernel): any split into 1, 2, 3 or 5 thread shares gives rdelta\'s bits', () => {
    const r = rand(12), K = 3, per = 53;
    const a = strided(r, K, per, 3, 4, -3, 3), ra = strided(r, K, per, 0, 0), g = strided(r, K, per, 5, 13);
    const s = strided(r, K, per, 1, 3), o = strided(r, K, per, 2, 2);
    const pa = put(core, a.data), pra = put(core, ra.data), pg = put(core, g.data), ps = put(core, s.data);
    for (let id = 0; id < 8; id++) {
      const ref = put(core, o.data);
      op(core, 'rdelta')(id, per, K, pa + 4 * a.off, a.bs, pra + 4 * ra.off, ra.bs, pg + 4 * g.off, g.bs,
        ps + 4 * s.off, s.bs, ref + 4 * o.off, o.bs);
      const want = get(core, ref, o.data.length);
      for (const n of [1, 2, 3, 5]) {
        const po = put(core, o.data);
        const params = core.alloc(32 * 4);
        // The last two words: no stored σ(a) (aOut), so rdeltaOp recomputes σ as rdelta does.
        new Int32Array(core.memory.buffer, params, 15).set([id, per, K, pa + 4 * a.off, a.bs, pra + 4 * ra.off, ra.bs,
          pg + 4 * g.off, g.bs, ps + 4 * s.off, s.bs, po + 4 * o.off, o.bs, 0, 0]);
        for (let tid = 0; tid < n; tid++) op(core, 'rdeltaOp')(params, tid, n);
        assert.equal(get(core, po, o.data.length), want, `rdelta ${ACTS[id]}, ${n} shares`);
      }
    }
  });

  T('loss: mse and ce, grad and hess, one-hot and soft targets, K = 2 strided', () => {
    const K = 2, B = 7, scale = f32(1 / 7);
    for (const c of [3, 10]) for (const soft of [false, true]) for (const lossId of [0, 1]) {
      const r = rand(100 * c + (soft ? 2 : 0) + lossId);
      const f = strided(r, K, B * c, 2, 5, -4, 4), rf = strided(r, K, B * c, 0, 1), d = strided(r, K, B * c, 1, 3);
      // Soft rows sum to 0.6 … 1 (s ≠ 1 exercises the general CE formulas).
      const y = new Float64Array(3 + B * c);
      for (let i = 0; i < B; i++) {
        const row = r(c, 0, 1), hot = Math.floor(r(1, 0, 1)[0] * c), total = row.reduce((p, q) => p + q, 0);
        const mass = 0.6 + 0.4 * r(1, 0, 1)[0];
        for (let j = 0; j < c; j++) y[3 + i * c + j] = soft ? f32(row[j] / total * mass) : j === hot ? 1 : 0;
      }
      // pe and acc share one buffer, as the backend requires.
      const peOff = 4, peBs = B + 2, accOff = peOff + K * peBs + 1, accBs = B + 2;
      const pec = new Float64Array(accOff + K * accBs).fill(-7);
      const pf = put(core, f.data), py = put(core, y), prf = put(core, rf.data), pd = put(core, d.data), ppe = put(core, pec);
      const label = `loss ${lossId ? 'ce' : 'mse'} c=${c}${soft ? ' soft' : ''}`;
      const wantD = Float64Array.from(d.data), wantHD = Float64Array.from(d.data), wantPE = Float64Array.from(pec);
      for (let z = 0; z < K; z++) for (let i = 0; i < B; i++) {
        const fr = Array.from({ length: c }, (_, j) => el(f, z, i * c + j));
        const yr = Array.from({ length: c }, (_, j) => y[3 + i * c + j]);
        const rr = Array.from({ length: c }, (_, j) => el(rf, z, i * c + j));
        const sy = yr.reduce((p, q) => p + q, 0), mx = Math.max(...fr);
        const lse = mx + Math.log(fr.reduce((p, q) => p + Math.exp(q - mx), 0));
        const p = fr.map((q) => Math.exp(q - lse)), pr = p.reduce((s, q, j) => s + q * rr[j], 0);
        for (let j = 0; j < c; j++) {
          const k = d.off + z * d.bs + i * c + j;
          wantD[k] = scale * (lossId ? sy * p[j] - yr[j] : fr[j] - yr[j]);
          wantHD[k] = scale * (lossId ? sy * p[j] * (rr[j] - pr) : rr[j]);
        }
        wantPE[peOff + z * peBs + i] = lossId ? sy * lse - yr.reduce((s, q, j) => s + q * fr[j], 0)
          : fr.reduce((s, q, j) => s + 0.5 * (q - yr[j]) ** 2, 0);
        wantPE[accOff + z * accBs + i] = fr.indexOf(mx) === yr.indexOf(Math.max(...yr)) ? 1 : 0;
      }
      op(core, 'loss')(lossId, 0, B, c, K, pf + 4 * f.off, f.bs, py + 12, pd + 4 * d.off, d.bs,
        ppe + 4 * peOff, peBs, ppe + 4 * accOff, accBs, 0, 0, scale);
      const gotD = get(core, pd, d.data.length), gotPE = get(core, ppe, pec.length);
      close(`${label} grad`, gotD, wantD, 1e-6);
      close(`${label} loss`, gotPE, wantPE, 1e-6);
      op(core, 'loss')(lossId, 1, B, c, K, pf + 4 * f.off, f.bs, py + 12, pd + 4 * d.off, d.bs, 0, 0, 0, 0,
        prf + 4 * rf.off, rf.bs, scale);
      const gotHD = get(core, pd, d.data.length);
      close(`${label} hess`, gotHD, wantHD, 1e-6);
      record(file, label, [...gotD, ...gotPE, ...gotHD]);
    }
  });

  T('colsum: K = 2 strided, store over NaN and accumulate', () => {
    // N = 37 covers the 16-column SIMD blocks, the 4-column scalar blocks and the tail.
    const r = rand(5), K = 2, M = 33, N = 37;
    const d = strided(r, K, M * N, 3, 2), o = strided(r, K, N, 1, 3);
    const pd = put(core, d.data);
    for (const accumulate of [0, 1]) {
      const init = Float64Array.from(o.data);
      if (!accumulate) for (let z = 0; z < K; z++) init.fill(NaN, o.off + z * o.bs, o.off + z * o.bs + N);
      const po = put(core, init);
      op(core, 'colsum')(M, N, K, pd + 4 * d.off, d.bs, po + 4 * o.off, o.bs, accumulate);
      const want = Float64Array.from(init), mag = new Float64Array(init.length).fill(1);
      for (let z = 0; z < K; z++) for (let n = 0; n < N; n++) {
        let s = 0, a = 0;
        for (let m = 0; m < M; m++) { s += el(d, z, m * N + n); a += Math.abs(el(d, z, m * N + n)); }
        const k = o.off + z * o.bs + n;
        want[k] = (accumulate ? init[k] : 0) + s;
        mag[k] = a + (accumulate ? Math.abs(init[k]) : 0);
      }
      // A sequential f32 sum of M terms errs by up to M·2^-24·Σ|d| (2e-6 for M = 33).
      const got = get(core, po, init.length);
      close(`colsum accumulate=${accumulate}`, got, want, 2e-6, (_, k) => mag[k]);
      record(file, `colsum ${accumulate}`, got);
    }
  });

  T('reduce: sum and dot, K = 2, n = 100003, accumulate and scale, in f64', () => {
    const r = rand(9), K = 2;
    for (const n of [100003, 5, 0]) {
      const x = strided(r, K, n, 1, 7), y = strided(r, K, n, 2, 5);
      const px = put(core, x.data), py = put(core, y.data);
      const scal = put(core, [9, 9, 9, 2.5, -1.25, 9, 9]), slot = 3;
      for (const [dot, accumulate, scale] of [[0, 0, 1], [1, 0, 1], [0, 1, 0.25], [1, 1, -1.5]]) {
        const before = get(core, scal, 7);
        op(core, 'reduce')(n, K, px + 4 * x.off, x.bs, dot ? py + 4 * y.off : 0, y.bs, scal + 4 * slot, accumulate, scale);
        const got = get(core, scal, 7), want = Float64Array.from(before);
        for (let z = 0; z < K; z++) {
          let s = 0;
          for (let i = 0; i < n; i++) s += el(x, z, i) * (dot ? el(y, z, i) : 1);
          want[slot + z] = (accumulate ? before[slot + z] : 0) + scale * s;
        }
        // One f32 rounding of an f64 sum: 6e-8 relative.
        close(`reduce n=${n}`, got, want, 1e-6, (w) => Math.max(Math.abs(w), 1e-30));
        record(file, `reduce ${n} ${dot}${accumulate}${scale}`, got);
      }
    }
  });

  T('vector: axpy, copy, scale, fill, general; beta = 0 overwrites NaN', () => {
    // Offsets 1 and 2 put y and x off 16-byte alignment; n = 1003 leaves a SIMD tail.
    const r = rand(3), n = 1003, yOff = 1, xOff = 2;
    const x = r(n + xOff);
    for (const [name, alpha, beta, gamma, hasX] of [['axpy', 0.3, 1, 0, 1], ['copy', 1, 0, 0, 1], ['scale', 0, -2.5, 0, 0],
      ['fill', 0, 0, 0.75, 0], ['general', -0.7, 0.9, 0.1, 1], ['beta 0', 0.5, 0, -1, 1]] as const) {
      const y = r(n + yOff + 1);
      if (beta === 0) for (let i = 0; i < n; i += 3) y[yOff + i] = i % 2 ? NaN : Infinity;
      const px = put(core, x), py = put(core, y);
      op(core, 'vector')(n, py + 4 * yOff, hasX ? px + 4 * xOff : 0, alpha, beta, gamma);
      const got = get(core, py, y.length);
      // f32 emulation of vector.wgsl's order: exact, so compare bits (NaN-safe via Object.is).
      const [a, b, g] = [f32(alpha), f32(beta), f32(gamma)];
      const want = Float64Array.from(y, (v, k) => {
        if (k < yOff || k >= yOff + n) return v;
        let w = beta === 0 ? g : f32(f32(b * v) + g);
        if (hasX) w = f32(w + f32(a * x[xOff + k - yOff]));
        return w;
      });
      for (let k = 0; k < want.length; k++) assert.ok(Object.is(got[k], want[k]), `vector ${name} at ${k}: ${got[k]} vs ${want[k]}`);
      // … and the formula itself, in f64, to 1e-6.
      close(`vector ${name}`, got.subarray(yOff, yOff + n), Float64Array.from({ length: n },
        (_, i) => (hasX ? alpha * x[xOff + i] : 0) + (beta === 0 ? 0 : beta * y[yOff + i]) + gamma), 1e-6);
      record(file, `vector ${name}`, got);
    }
  });

  T('optim: every mode against a float64 reimplementation', () => {
    const r = rand(21), n = 1001;
    const theta = r(n), grad = r(n), m = r(n, -0.1, 0.1), v = r(n, 1e-4, 0.5);
    const h = { lr: f32(0.05), beta: f32(0.9), beta2: f32(0.999), eps: f32(1e-8), c1: f32(1 - 0.9 ** 3), c2: f32(1 - 0.999 ** 3) };
    ['polyak', 'nesterov', 'adam', 'rmsprop', 'precond', 'scale'].forEach((name, mode) => {
      const pt = put(core, theta), pg = put(core, grad), pm = put(core, m), pv = put(core, v);
      op(core, 'optim')(mode, n, pt, pg, pm, pv, h.lr, h.beta, h.beta2, h.eps, h.c1, h.c2);
      const wt = Float64Array.from(theta), wm = Float64Array.from(m), wv = Float64Array.from(v);
      for (let i = 0; i < n; i++) {
        const g = grad[i];
        if (mode <= 1) {
          wv[i] = h.beta * v[i] + g;
          wt[i] -= h.lr * (mode === 0 ? wv[i] : g + h.beta * wv[i]);
        } else if (mode === 2) {
          wm[i] = h.beta * m[i] + (1 - h.beta) * g;
          wv[i] = h.beta2 * v[i] + (1 - h.beta2) * g * g;
          wt[i] -= h.lr * (wm[i] / h.c1) / (Math.sqrt(wv[i] / h.c2) + h.eps);
        } else if (mode === 3) {
          wv[i] = h.beta2 * v[i] + (1 - h.beta2) * g * g;
          wt[i] -= h.lr * g / (Math.sqrt(wv[i]) + h.eps);
        } else if (mode === 4) wt[i] = (Math.sqrt(v[i] / h.c2) + h.eps) ** -0.5;
        else wt[i] *= g;
      }
      const got = [get(core, pt, n), get(core, pm, n), get(core, pv, n)];
      close(`optim ${name}`, [...got[0], ...got[1], ...got[2]], [...wt, ...wm, ...wv], 1e-6);
      record(file, `optim ${name}`, got.flatMap((a) => [...a]));
    });
  });

  T('toy: loss, gradient and Hessian-vector products against central differences', () => {
    const models: [string, number, (t: number[]) => number, (t: number[]) => number[]][] = [
      ['xyzw', 4, ([x, y, z, w]) => 0.5 * (1 - x * y * z * w) ** 2,
        ([x, y, z, w]) => { const r = 1 - x * y * z * w; return [-r * y * z * w, -r * x * z * w, -r * x * y * w, -r * x * y * z]; }],
      ['x2y2', 2, ([x, y]) => (1 - x * x * y * y) ** 2,
        ([x, y]) => { const r = 1 - x * x * y * y; return [-4 * r * x * y * y, -4 * r * x * x * y]; }],
      ['xy', 2, ([x, y]) => (1 - x * y) ** 2, ([x, y]) => [-2 * (1 - x * y) * y, -2 * (1 - x * y) * x]],
    ];
    const r = rand(33), K = 3, slot = 2;
    models.forEach(([name, P, L, grad], model) => {
      const theta = r(K * P, -1.2, 1.2), v = r(K * P);
      const pt = put(core, theta), pv = put(core, v), po = put(core, new Float64Array(K * P));
      const scal = put(core, new Float64Array(slot + 2 * K + 1).fill(NaN));
      const wantG: number[] = [], wantH: number[] = [], wantL: number[] = [];
      for (let z = 0; z < K; z++) {
        const t = Array.from(theta.subarray(z * P, z * P + P)), dir = Array.from(v.subarray(z * P, z * P + P));
        wantL.push(L(t));
        // Central differences: O(h²) truncation, O(ε/h) rounding, ~1e-10 at these steps.
        const h = 1e-5, h2 = 1e-6;
        for (let i = 0; i < P; i++) {
          const tp = t.slice(), tm = t.slice();
          tp[i] += h; tm[i] -= h;
          wantG.push((L(tp) - L(tm)) / (2 * h));
        }
        const gp = grad(t.map((q, i) => q + h2 * dir[i])), gm = grad(t.map((q, i) => q - h2 * dir[i]));
        for (let i = 0; i < P; i++) wantH.push((gp[i] - gm[i]) / (2 * h2));
        // The f64 gradient used for the HVP agrees with the loss's differences.
        close(`toy ${name} f64 gradient`, grad(t), wantG.slice(z * P), 1e-8);
      }
      op(core, 'toy')(model, 0, K, pt, pv, po, scal + 4 * slot);
      const g = get(core, po, K * P), s = get(core, scal, slot + 2 * K + 1);
      op(core, 'toy')(model, 1, K, pt, pv, po, scal + 4 * slot);
      const hv = get(core, po, K * P);
      // Normwise per model: Hessian entries cancel terms up to ~25 in size.
      const norm = (w: number[]) => (_: number, i: number) => Math.max(1, ...w.slice(i - (i % P), i - (i % P) + P).map(Math.abs));
      close(`toy ${name} grad`, g, wantG, 1e-6, norm(wantG));
      close(`toy ${name} hvp`, hv, wantH, 1e-6, norm(wantH));
      close(`toy ${name} loss`, s.subarray(slot, slot + K), wantL, 1e-6);
      assert.equal(Array.from(s.subarray(slot + K, slot + 2 * K)), [0, 0, 0]);
      assert.ok(Number.isNaN(s[slot - 1]) && Number.isNaN(s[slot + 2 * K]), 'toy writes only its slots');
      record(file, `toy ${name}`, [...g, ...hv, ...s]);
    });
  });

  T('random: bits, uniform and signed bit-exact, normal to 1e-6 of the float64 draws', () => {
    const seed = 2 ** 37 + 99, stream = 5, index0 = 17, scale = f32(0.3);
    const [k0, k1] = seedKey(seed);
    const n = 1001, p = put(core, new Float64Array(n));
    op(core, 'random')(0, p, n, index0, stream, k0, k1, scale);
    assert.equal(Array.from(core.u32(p, n)),
      Array.from({ length: n }, (_, j) => philox4x32(Math.floor((index0 + j) / 4), stream, 0, 0, k0, k1)[(index0 + j) & 3]));
    op(core, 'random')(1, p, n, index0, stream, k0, k1, scale);
    assert.equal(Array.from(core.f32(p, n)), Array.from(Float32Array.from(uniforms(seed, stream, index0, n), (u) => scale * u)));
    op(core, 'random')(2, p, n, index0, stream, k0, k1, scale);
    assert.equal(Array.from(core.f32(p, n)), Array.from(Float32Array.from(signedUniforms(seed, stream, index0, n), (u) => scale * u)));
    // Normals: the f32 Box-Muller with polynomial log/cos against Math.log/cos in f64.
    const N = 1 << 17, q = put(core, new Float64Array(N));
    op(core, 'random')(3, q, N, index0, stream, k0, k1, 1);
    const got = get(core, q, N);
    close('random normal', got, normals(seed, stream, index0, N), 1e-6, () => 1);
    op(core, 'random')(3, q, N, index0, stream, k0, k1, 0.5);
    assert.equal(get(core, q, N), got.map((g) => g / 2), 'scale multiplies the draw');
    record(file, 'random normal', got);
  });
}

test('every build gives the same bits for every op (tanh: every SIMD build)', () => {
  for (const [label, byFile] of bits) {
    assert.is(byFile.size, label.endsWith(' [simd tanh]') ? BUILDS.length - 1 : label.endsWith(' [scalar tanh]') ? 1 : BUILDS.length, label);
    assert.is(new Set(byFile.values()).size, 1, `${label}: builds disagree`);
  }
  console.log('max error (scaled as checked):', Object.fromEntries([...worst].map(([k, e]) => [k, Number(e.toPrecision(2))])));
});

test.run();
