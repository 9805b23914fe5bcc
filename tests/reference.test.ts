// Checks the float64 reference against itself by independent routes (finite
// differences, symmetry, exact identities), so it can later be trusted to
// check the GPU engine. Max errors are printed at the end.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rand } from './helpers/numeric.js';
import {
  type Act, type Mlp64, act64, erf64, erfc64, forward64, lossAcc64, grad64, hvp64, gnvp64,
  hvpFiniteDiff64, hessian64, paramCount64, hiddenPreacts64,
} from './reference/mlp64.js';

type Loss = 'mse' | 'ce';
const ACTS: Act[] = ['tanh', 'relu', 'elu', 'softplus', 'hardtanh', 'gelu', 'swish', 'identity'];
const SIZES = [[3, 5, 4, 2], [4, 6, 3]];
const N = 7;

const mulberry32 = rand;
const uniform = (rng: () => number, n: number, s = 1) => Float64Array.from({ length: n }, () => s * (2 * rng() - 1));

const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!)); return m; };
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d / Math.max(maxAbs(b), 1e-300);
}

const worst: Record<string, number> = {};
const record = (k: string, e: number) => { worst[k] = Math.max(worst[k] ?? 0, e); };

// Points where σ' (relu, hardtanh) or σ'' (elu) jumps. Finite differences
// across such a point measure a different function than the analytic
// derivative, so we keep every hidden pre-activation ≥ KINK_MARGIN away.
// All FD stencils below move pre-activations by ≲1e-4 (steps ≤1e-5 on θ with
// |v| ≤ 1, |x| ≤ 1, fan-in ≤ 6), and hvp checks additionally assert that no
// pre-activation crosses a kink between θ−εv and θ+εv. Inside one linear
// region relu/hardtanh/identity networks are polynomial in θ, so the
// comparisons are then exact up to FD truncation/rounding.
const KINKS: Record<Act, number[]> = {
  tanh: [], relu: [0], elu: [0], softplus: [], hardtanh: [-1, 1], gelu: [], swish: [], identity: [],
};
const KINK_MARGIN = 1e-3;
const kinkDist = (act: Act, pre: number[]) =>
  Math.min(Infinity, ...pre.flatMap((a) => KINKS[act].map((k) => Math.abs(a - k))));
const sameSide = (act: Act, p: number[], q: number[]) =>
  p.every((a, i) => KINKS[act].every((k) => Math.sign(a - k) === Math.sign(q[i]! - k)));

interface Case { m: Mlp64; loss: Loss; theta: Float64Array; X: Float64Array; Y: Float64Array; v: Float64Array; name: string }

function makeCase(sizes: number[], act: Act, bias: boolean, loss: Loss, seed: number): Case {
  const m: Mlp64 = { sizes, act, bias };
  const rng = mulberry32(seed);
  const d = sizes[0]!, c = sizes[sizes.length - 1]!, P = paramCount64(m);
  for (let attempt = 0; attempt < 1000; attempt++) {
    // Scale 1.5 so hardtanh sees both saturated and linear units.
    const theta = new Float64Array(P);
    let p = 0;
    for (let l = 1; l < sizes.length; l++) {
      const nin = sizes[l - 1]!, nout = sizes[l]!, s = 1.5 / Math.sqrt(nin);
      theta.set(uniform(rng, nout * nin, s), p); p += nout * nin;
      if (bias) { theta.set(uniform(rng, nout, 0.5), p); p += nout; }
    }
    const X = uniform(rng, N * d);
    const Y = new Float64Array(N * c);
    if (loss === 'ce') for (let i = 0; i < N; i++) Y[i * c + Math.floor(rng() * c)] = 1;
    else Y.set(uniform(rng, N * c));
    const v = uniform(rng, P);
    if (kinkDist(act, hiddenPreacts64(m, theta, X, N)) >= KINK_MARGIN) {
      return { m, loss, theta, X, Y, v, name: `${sizes.join('-')} ${act} bias=${bias} ${loss}` };
    }
  }
  throw new Error('could not sample a kink-free point');
}

function* allCases(): Generator<Case> {
  let seed = 1;
  for (const sizes of SIZES) for (const act of ACTS) for (const bias of [true, false]) for (const loss of ['mse', 'ce'] as Loss[]) {
    yield makeCase(sizes, act, bias, loss, seed++);
  }
}

// ---------------------------------------------------------------- erf, activations

test('erf64 known values (mpmath, 40 digits)', () => {
  // NB: erf(-0.3) = -0.32862675945912743 (mpmath); -0.3286267594591911 is a typo'd value.
  const known: [number, number][] = [
    [0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527],
    [-0.3, -0.3286267594591274], [0.1, 0.1124629160182849], [1.5, 0.9661051464753107],
    [2.5, 0.999593047982555], [3, 0.9999779095030014], [0.01, 0.011283415555849617],
    [1e-10, 1.1283791670955126e-10], [4, 0.9999999845827421], [-2.2, -0.9981371537020181],
  ];
  for (const [x, y] of known) {
    const e = Math.abs(erf64(x) - y) / Math.abs(y);
    record('erf64 rel (known values)', e);
    assert.ok(e <= 1e-14, `erf(${x}) = ${erf64(x)}, want ${y}`);
  }
  const knownC: [number, number][] = [[3, 2.2090496998585441e-5], [5.5, 7.357847917974398e-15], [1, 0.15729920705028513]];
  for (const [x, y] of knownC) {
    const e = Math.abs(erfc64(x) - y) / y;
    record('erfc64 rel (known values)', e);
    assert.ok(e <= 1e-14, `erfc(${x}) = ${erfc64(x)}, want ${y}`);
  }
  assert.is(erf64(0), 0);
  assert.is(erf64(7), 1);
  assert.is(erf64(-7), -1);
  assert.ok(Number.isNaN(erf64(NaN)));
  for (let x = 0.013; x < 6; x += 0.1) assert.is(erf64(-x), -erf64(x));
  // Continuity across the internal switch points (series ↔ continued fraction).
  // The true change over [lo, hi] is erf'(s)·(hi − lo); anything beyond is a jump.
  for (const s of [0.5, 2]) {
    const lo = s * (1 - 1e-15), hi = s * (1 + 1e-15), slope = (2 / Math.sqrt(Math.PI)) * Math.exp(-s * s) * (hi - lo);
    const ej = Math.abs(erf64(hi) - erf64(lo) - slope) / erf64(s), ecj = Math.abs(erfc64(hi) - erfc64(lo) + slope) / erfc64(s);
    record('erf/erfc relative jump at switch points', Math.max(ej, ecj));
    assert.ok(ej < 1e-14 && ecj < 1e-14, `jump at ${s}: erf ${ej}, erfc ${ecj}`);
  }
});

test('act64 derivatives vs central differences', () => {
  const h = 1e-6;
  for (const a of ACTS) {
    for (let x = -6.001; x < 6; x += 0.0371) {
      if (KINKS[a].some((k) => Math.abs(x - k) < 1e-3)) continue;
      const [, d1, d2] = act64(a, x);
      const fd1 = (act64(a, x + h)[0] - act64(a, x - h)[0]) / (2 * h);
      const fd2 = (act64(a, x + h)[1] - act64(a, x - h)[1]) / (2 * h);
      const e1 = Math.abs(fd1 - d1) / Math.max(1, Math.abs(d1)), e2 = Math.abs(fd2 - d2) / Math.max(1, Math.abs(d2));
      record('act64 derivative vs FD', Math.max(e1, e2));
      assert.ok(e1 < 1e-7 && e2 < 1e-7, `${a} at ${x}: σ' ${d1} vs ${fd1}, σ'' ${d2} vs ${fd2}`);
    }
  }
});

test('act64 pinned conventions and special values', () => {
  assert.equal(act64('relu', 0), [0, 0, 0]);
  assert.equal(act64('hardtanh', 1), [1, 0, 0]);
  assert.equal(act64('hardtanh', -1), [-1, 0, 0]);
  assert.equal(act64('elu', 0), [0, 1, 1]);
  assert.equal(act64('swish', 0), [0, 0.5, 0.5]);
  assert.equal(act64('identity', 3), [3, 1, 0]);
  assert.equal(act64('softplus', 800), [800, 1, 0]);
  const [spv, spd] = act64('softplus', -800);
  assert.ok(spv >= 0 && spv < 1e-300 && spd >= 0 && spd < 1e-300);
  assert.ok(Math.abs(act64('softplus', -40)[0] - 4.248354255291589e-18) < 1e-31);
  const near = (a: number, b: number) => Math.abs(a - b) <= 1e-14 * Math.abs(b);
  assert.ok(near(act64('gelu', 1)[0], 0.8413447460685429)); // Φ(1)
  assert.ok(near(act64('gelu', 0.7)[0], 0.5306254434438489));
  assert.ok(near(act64('gelu', -3)[0], -0.004049694094890284));
  assert.ok(near(act64('gelu', 0)[2], 0.7978845608028654)); // 2φ(0)
  assert.ok(Math.abs(act64('gelu', -10)[0]) > 0); // tail from erfc, not 1 − erf
});

// ---------------------------------------------------------------- loss, gradient

test('lossAcc64 on a hand-computed case', () => {
  const m: Mlp64 = { sizes: [2, 2], act: 'tanh', bias: true };
  const theta = Float64Array.from([1, 0, 0, 1, 0, 0]); // W = I, b = 0, so f = x
  const X = Float64Array.from([1, 2, 3, 3]), Y = Float64Array.from([0, 1, 1, 0]);
  assert.equal(Array.from(forward64(m, theta, X, 2)), [1, 2, 3, 3]);
  const mse = lossAcc64(m, theta, X, Y, 2, 'mse');
  assert.is(mse.loss, 3.75);
  assert.is(mse.acc, 1); // second row ties at 3,3 → index 0 (first max) == argmax y
  const ce = lossAcc64(m, theta, X, Y, 2, 'ce');
  assert.ok(Math.abs(ce.loss - (Math.log(Math.E + Math.E ** 2) - 2 + Math.LN2) / 2) < 1e-15);
  const big = lossAcc64(m, Float64Array.from([1000, 0, 0, 1, 0, 0]), Float64Array.from([1, 0]), Float64Array.from([0, 1]), 1, 'ce');
  assert.is(big.loss, 1000); // stable logsumexp
  assert.is(big.acc, 0);
});

test('grad64 vs central differences of lossAcc64', () => {
  const h = 1e-5;
  for (const cs of allCases()) {
    const { m, loss, theta, X, Y } = cs;
    const g = grad64(m, theta, X, Y, N, loss);
    const fd = new Float64Array(g.length);
    for (let k = 0; k < g.length; k++) {
      const tp = theta.slice(), tm = theta.slice();
      tp[k]! += h; tm[k]! -= h;
      fd[k] = (lossAcc64(m, tp, X, Y, N, loss).loss - lossAcc64(m, tm, X, Y, N, loss).loss) / (2 * h);
    }
    const e = relErr(g, fd);
    record('grad64 vs FD', e);
    assert.ok(e <= 1e-6, `${cs.name}: rel err ${e}`);
  }
});

// ---------------------------------------------------------------- Hessian

test('hvp64 vs central differences of grad64', () => {
  const eps = 1e-5;
  for (const cs of allCases()) {
    const { m, loss, theta, X, Y, v } = cs;
    const shift = (s: number) => theta.map((t, k) => t + s * eps * v[k]!);
    assert.ok(sameSide(m.act, hiddenPreacts64(m, shift(1), X, N), hiddenPreacts64(m, shift(-1), X, N)), `${cs.name}: stencil crosses a kink`);
    const e = relErr(hvp64(m, theta, X, Y, N, loss, v), hvpFiniteDiff64(m, theta, X, Y, N, loss, v, eps));
    record('hvp64 vs FD', e);
    assert.ok(e <= 1e-6, `${cs.name}: rel err ${e}`);
  }
});

test('hessian64 is symmetric and consistent with hvp64', () => {
  for (const cs of allCases()) {
    const { m, loss, theta, X, Y, v } = cs;
    const P = paramCount64(m), H = hessian64(m, theta, X, Y, N, loss);
    const Ht = new Float64Array(P * P);
    for (let r = 0; r < P; r++) for (let c = 0; c < P; c++) Ht[c * P + r] = H[r * P + c]!;
    const es = relErr(H, Ht);
    record('hessian64 asymmetry', es);
    assert.ok(es <= 1e-12, `${cs.name}: asymmetry ${es}`);
    // H v from the dense matrix vs a direct hvp (linearity of the R-pass).
    const Hv = new Float64Array(P);
    for (let r = 0; r < P; r++) for (let c = 0; c < P; c++) Hv[r]! += H[r * P + c]! * v[c]!;
    const el = relErr(Hv, hvp64(m, theta, X, Y, N, loss, v));
    record('hessian64·v vs hvp64', el);
    assert.ok(el <= 1e-12, `${cs.name}: ${el}`);
  }
});

// ---------------------------------------------------------------- Gauss-Newton

test('gnvp64 equals hvp64 for a linear (1-layer) model', () => {
  let seed = 1000;
  for (const sizes of [[4, 3], [3, 2], [5, 1]]) for (const bias of [true, false]) for (const loss of ['mse', 'ce'] as Loss[]) {
    const cs = makeCase(sizes, 'tanh', bias, loss, seed++);
    const e = relErr(gnvp64(cs.m, cs.theta, cs.X, cs.Y, N, loss, cs.v), hvp64(cs.m, cs.theta, cs.X, cs.Y, N, loss, cs.v));
    record(`gnvp64 vs hvp64, linear model`, e);
    assert.ok(e <= 1e-13, `${cs.name}: ${e}`);
  }
});

// Independent GN route: per-example Jacobian by finite differences of forward64,
// then (1/N) Σ J_iᵀ H_ℓ J_i v with the loss Hessian written out again here.
test('gnvp64 vs finite-difference Jacobian route', () => {
  const h = 1e-6;
  for (const cs of allCases()) {
    const { m, loss, theta, X, Y, v } = cs;
    const P = paramCount64(m), c = m.sizes[m.sizes.length - 1]!;
    const F = forward64(m, theta, X, N);
    const J = Array.from({ length: P }, (_, k) => { // J[k] = ∂F/∂θ_k, N×c
      const tp = theta.slice(), tm = theta.slice();
      tp[k]! += h; tm[k]! -= h;
      const fp = forward64(m, tp, X, N), fm = forward64(m, tm, X, N);
      return fp.map((x, j) => (x - fm[j]!) / (2 * h));
    });
    const Gv = new Float64Array(P);
    for (let i = 0; i < N; i++) {
      const Jv = new Float64Array(c);
      for (let k = 0; k < P; k++) for (let j = 0; j < c; j++) Jv[j]! += J[k]![i * c + j]! * v[k]!;
      let u = Jv;
      if (loss === 'ce') {
        const f = F.subarray(i * c, (i + 1) * c), mx = Math.max(...f);
        const ex = f.map((z) => Math.exp(z - mx)), Z = ex.reduce((s, z) => s + z, 0), p = ex.map((z) => z / Z);
        const pJv = p.reduce((s, pj, j) => s + pj * Jv[j]!, 0);
        u = p.map((pj, j) => pj * Jv[j]! - pj * pJv);
      }
      for (let k = 0; k < P; k++) for (let j = 0; j < c; j++) Gv[k]! += J[k]![i * c + j]! * u[j]! / N;
    }
    const e = relErr(gnvp64(m, theta, X, Y, N, loss, v), Gv);
    record('gnvp64 vs FD-Jacobian GN', e);
    assert.ok(e <= 1e-6, `${cs.name}: ${e}`);
  }
});

// Cyclic Jacobi eigenvalues of a small symmetric matrix (row-major, copied).
function symEigenvalues(A0: Float64Array, n: number): number[] {
  const A = A0.slice();
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q]! ** 2;
    if (off < 1e-300) break;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) {
      const apq = A[p * n + q]!;
      if (apq === 0) continue;
      const theta = (A[q * n + q]! - A[p * n + p]!) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const cs = 1 / Math.sqrt(t * t + 1), sn = t * cs;
      for (let k = 0; k < n; k++) { // rotate columns p, q
        const akp = A[k * n + p]!, akq = A[k * n + q]!;
        A[k * n + p] = cs * akp - sn * akq; A[k * n + q] = sn * akp + cs * akq;
      }
      for (let k = 0; k < n; k++) { // rotate rows p, q
        const apk = A[p * n + k]!, aqk = A[q * n + k]!;
        A[p * n + k] = cs * apk - sn * aqk; A[q * n + k] = sn * apk + cs * aqk;
      }
    }
  }
  return Array.from({ length: n }, (_, i) => A[i * n + i]!);
}

test('Gauss-Newton matrix is symmetric PSD (ce and mse); Hessian need not be', () => {
  let hessianIndefinite = 0;
  for (const cs of allCases()) {
    const { m, loss, theta, X, Y } = cs;
    const P = paramCount64(m), G = new Float64Array(P * P), e = new Float64Array(P);
    for (let k = 0; k < P; k++) {
      e.fill(0); e[k] = 1;
      const col = gnvp64(m, theta, X, Y, N, loss, e);
      for (let r = 0; r < P; r++) G[r * P + k] = col[r]!;
    }
    const ev = symEigenvalues(G, P), lmax = Math.max(...ev.map(Math.abs)), lmin = Math.min(...ev);
    record(`GN min eigenvalue / max |eigenvalue| (${loss}), most negative`, Math.max(0, -lmin / lmax));
    assert.ok(lmin >= -1e-12 * lmax, `${cs.name}: GN min eig ${lmin} (max ${lmax})`);
    const rng = mulberry32(7);
    for (let t = 0; t < 20; t++) {
      const v = uniform(rng, P), Gv = gnvp64(m, theta, X, Y, N, loss, v);
      const vGv = v.reduce((s, x, k) => s + x * Gv[k]!, 0);
      assert.ok(vGv >= -1e-12 * lmax * v.reduce((s, x) => s + x * x, 0), `${cs.name}: vᵀGv = ${vGv}`);
    }
    if (Math.min(...symEigenvalues(hessian64(m, theta, X, Y, N, loss), P)) < -1e-8) hessianIndefinite++;
  }
  // Sanity that the PSD check has teeth: true Hessians of these nets are often indefinite.
  assert.ok(hessianIndefinite > 0);
});

test.after(() => {
  console.log('\nmax errors:');
  for (const [k, e] of Object.entries(worst)) console.log(`  ${k.padEnd(58)} ${e.toExponential(2)}`);
});

test.run();
