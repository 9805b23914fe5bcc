// Checks the float64 layer-list reference (tests/reference/layers64.ts)
// against itself by independent routes — central finite differences, adjoint
// and symmetry identities, exact special cases (pure-dense models against
// mlp64.ts, a full-size convolution against a dense layer, models linear in θ)
// — so it can be trusted as ground truth for the engine's CNN passes.
// Max errors are printed at the end.
//
// Error measure: ‖a−b‖∞ / ‖b‖∞ unless stated. Finite-difference tolerances:
// a central difference with step h in float64 errs by ~h²·|f‴|/6 (truncation)
// plus ~1e-16·|f|/h (rounding); with h = 1e-5 and O(1) losses and gradients
// both are ~1e-11 absolute, i.e. ≲1e-8 relative to gradients/HVPs of size
// ≳1e-3. The FD tolerance 1e-6 leaves two orders of margin, and a real bug
// (a dropped term, a wrong index) shows as O(1e-2..1) relative error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { convShape, poolShape } from '../core/ts/backend/checks.js';
import { rand, withSpectrum } from './helpers/numeric.js';
import * as mlp from './reference/mlp64.js';
import type { Act, Loss } from './reference/mlp64.js';
import {
  type Layer64, type Model64, type Dual64, paramCount64, layerShapes64, paramLayout64, forward64, lossAcc64,
  grad64, hvp64, gnvp64, hvpFiniteDiff64, hessian64, gaussNewton64, jvp64, vjp64, layerForward64, layerVjp64,
  layerJvp64, layerForwardDual64, layerVjpDual64, symEig64, kinks64,
} from './reference/layers64.js';

const ACTS: Act[] = ['tanh', 'relu', 'elu', 'softplus', 'hardtanh', 'gelu', 'swish', 'identity'];
const LOSSES: Loss[] = ['mse', 'ce'];
const N = 3;

const uniform = (rng: () => number, n: number, s = 1) => Float64Array.from({ length: n }, () => s * (2 * rng() - 1));
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!; return s; };
const norm = (a: ArrayLike<number>) => Math.sqrt(dot(a, a));
const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!)); return m; };
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d / Math.max(maxAbs(b), 1e-300);
}
const samePattern = (a: Int32Array, b: Int32Array) => a.length === b.length && a.every((x, i) => x === b[i]);

const worst: Record<string, number> = {};
const record = (k: string, e: number) => { worst[k] = Math.max(worst[k] ?? 0, e); };

// ---------------------------------------------------------------- models

interface Arch { name: string; inShape: number[]; c: number; layers: (act: Act, bias: boolean) => Layer64[] }

const ARCHS: Arch[] = [
  {
    name: 'A 2×5×5 conv3 s1 p1 → maxpool2 → dense', inShape: [2, 5, 5], c: 3,
    layers: (act, bias) => [
      { kind: 'conv', shape: convShape({ Cin: 2, H: 5, W: 5, Cout: 3, kh: 3, stride: 1, pad: 1 }), bias },
      { kind: 'act', act },
      { kind: 'maxpool', shape: poolShape({ C: 3, H: 5, W: 5, kh: 2, stride: 2 }) },
      { kind: 'flatten' },
      { kind: 'dense', in: 12, out: 3, bias },
    ],
  },
  {
    name: 'B 2×5×5 conv3 s2 p1 → avgpool2 s1 → dense', inShape: [2, 5, 5], c: 3,
    layers: (act, bias) => [
      { kind: 'conv', shape: convShape({ Cin: 2, H: 5, W: 5, Cout: 2, kh: 3, stride: 2, pad: 1 }), bias },
      { kind: 'act', act },
      { kind: 'avgpool', shape: poolShape({ C: 2, H: 3, W: 3, kh: 2, stride: 1 }) },
      { kind: 'flatten' },
      { kind: 'dense', in: 8, out: 3, bias: !bias },
    ],
  },
  {
    name: 'C 3×8×8 conv3 s2 p1 → maxpool2 → dense → act → dense', inShape: [3, 8, 8], c: 3,
    layers: (act, bias) => [
      { kind: 'conv', shape: convShape({ Cin: 3, H: 8, W: 8, Cout: 4, kh: 3, stride: 2, pad: 1 }), bias },
      { kind: 'act', act },
      { kind: 'maxpool', shape: poolShape({ C: 4, H: 4, W: 4, kh: 2, stride: 2 }) },
      { kind: 'flatten' },
      { kind: 'dense', in: 16, out: 5, bias },
      { kind: 'act', act },
      { kind: 'dense', in: 5, out: 3, bias },
    ],
  },
  {
    name: 'D 3×8×8 conv3 s1 p1 → act → conv3 s2 p0 → avgpool2 p1 → dense', inShape: [3, 8, 8], c: 3,
    layers: (act, bias) => [
      { kind: 'conv', shape: convShape({ Cin: 3, H: 8, W: 8, Cout: 3, kh: 3, stride: 1, pad: 1 }), bias: !bias },
      { kind: 'act', act },
      { kind: 'conv', shape: convShape({ Cin: 3, H: 8, W: 8, Cout: 2, kh: 3, stride: 2, pad: 0 }), bias },
      { kind: 'act', act },
      { kind: 'avgpool', shape: poolShape({ C: 2, H: 3, W: 3, kh: 2, stride: 1, pad: 1 }) },
      { kind: 'flatten' },
      { kind: 'dense', in: 32, out: 3, bias },
    ],
  },
  {
    name: 'E 2×5×5 conv 2×3 s1 p1 → maxpool 3×2 s2 p1 → dense', inShape: [2, 5, 5], c: 3,
    layers: (act, bias) => [
      { kind: 'conv', shape: convShape({ Cin: 2, H: 5, W: 5, Cout: 2, kh: 2, kw: 3, stride: 1, pad: 1 }), bias },
      { kind: 'act', act },
      { kind: 'maxpool', shape: poolShape({ C: 2, H: 6, W: 5, kh: 3, kw: 2, stride: 2, pad: 1 }) },
      { kind: 'flatten' },
      { kind: 'dense', in: 18, out: 3, bias },
    ],
  },
];

interface Case { m: Model64; loss: Loss; theta: Float64Array; X: Float64Array; Y: Float64Array; v: Float64Array; u: Float64Array; name: string; small?: boolean; act?: Act; bias?: boolean }

// Activation inputs are kept ≥ MARGIN from their kinks and max-pool maxima
// ≥ MARGIN above their runners-up (kinks64). FD steps (≤ 1e-5 on θ with
// |v| ≤ 1, |x| ≤ 1) move those quantities by ≲ 1e-4. The HVP test also
// asserts that its stencil points lie on one smooth piece (kinks64 pattern),
// and the per-parameter gradient test names the straddling stencil if it
// fails (crossing a kink can only cause a false failure, never a false pass).
// Inside one piece relu/hardtanh/identity networks are polynomial in θ.
const MARGIN = 1e-3;

/** Weights ±1.5/√fan-in (hardtanh sees saturated and linear units), biases ±0.5, inputs ±1. */
function initTheta(m: Model64, rng: () => number): Float64Array {
  const lay = paramLayout64(m), theta = new Float64Array(lay.P);
  m.layers.forEach((l, i) => {
    if (l.kind !== 'dense' && l.kind !== 'conv') return;
    const fanIn = l.kind === 'dense' ? l.in : l.shape.Cin * l.shape.kh * l.shape.kw;
    theta.set(uniform(rng, lay.nW[i]!, 1.5 / Math.sqrt(fanIn)), lay.off[i]!);
    theta.set(uniform(rng, lay.nB[i]!, 0.5), lay.off[i]! + lay.nW[i]!);
  });
  return theta;
}

function sampleCase(m: Model64, c: number, loss: Loss, seed: number, name: string, n = N): Case {
  const rng = rand(seed), d = m.inShape.reduce((a, b) => a * b, 1), P = paramCount64(m);
  for (let attempt = 0; attempt < 2000; attempt++) {
    const theta = initTheta(m, rng), X = uniform(rng, n * d);
    const Y = new Float64Array(n * c);
    if (loss === 'ce') for (let i = 0; i < n; i++) Y[i * c + Math.floor(rng() * c)] = 1;
    else Y.set(uniform(rng, n * c));
    const v = uniform(rng, P), u = uniform(rng, P);
    if (kinks64(m, theta, X, n).margin >= MARGIN) return { m, loss, theta, X, Y, v, u, name };
  }
  throw new Error(`${name}: could not sample a point away from kinks`);
}

// Every architecture with every activation; loss and bias alternate so each
// activation meets both losses and each architecture both bias settings.
function* cnnCases(): Generator<Case> {
  let seed = 1;
  for (const [ai, arch] of ARCHS.entries()) for (const [ki, act] of ACTS.entries()) {
    const loss = LOSSES[(ai + ki) % 2]!, bias = ((ai + (ki >> 1)) % 2) === 0;
    const m: Model64 = { inShape: arch.inShape, layers: arch.layers(act, bias) };
    // About half of architectures A, B, E (P ≤ 96) get explicit P×P matrices:
    // this pattern gives them every activation, both losses and both bias settings.
    const small = paramCount64(m) <= 100 && (ki + (ki >> 2) + ai) % 2 === 0;
    yield { ...sampleCase(m, arch.c, loss, seed++, `${arch.name} | ${act} bias=${bias} ${loss}`), small, act, bias };
  }
}
const CASES = [...cnnCases()];

// ---------------------------------------------------------------- structure

test('shapes, θ layout and argument checks', () => {
  const m: Model64 = { inShape: [3, 8, 8], layers: ARCHS[2]!.layers('tanh', true) };
  assert.equal(layerShapes64(m), [[3, 8, 8], [4, 4, 4], [4, 4, 4], [4, 2, 2], [16], [5], [5], [3]]);
  const lay = paramLayout64(m);
  assert.equal(lay.off, [0, 112, 112, 112, 112, 197, 197]); // conv 4·3·3·3 + 4 = 112, dense 16·5 + 5 = 85
  assert.equal(lay.nW, [108, 0, 0, 0, 80, 0, 15]);
  assert.equal(lay.nB, [4, 0, 0, 0, 5, 0, 3]);
  assert.is(paramCount64(m), 215);
  assert.throws(() => layerShapes64({ inShape: [2, 5, 5], layers: [{ kind: 'dense', in: 50, out: 2, bias: true }] }), /expects input \[50\]/);
  assert.throws(() => layerShapes64({ inShape: [2, 5, 5], layers: [{ kind: 'conv', shape: convShape({ Cin: 3, H: 5, W: 5, Cout: 1, kh: 3 }), bias: true }] }), /conv/);
  const th = new Float64Array(215), X = new Float64Array(N * 192);
  assert.throws(() => forward64(m, th.subarray(1), X, N), /theta/);
  assert.throws(() => forward64(m, th, X.subarray(1), N), /X has/);
  assert.throws(() => grad64(m, th, X, new Float64Array(N * 2), N, 'mse'), /Y has/);
  assert.throws(() => hvp64(m, th, X, new Float64Array(N * 3), N, 'mse', new Float64Array(3)), /v has/);
  assert.throws(() => forward64({ inShape: [2, 5, 5], layers: [] }, new Float64Array(0), new Float64Array(50), 1), /flat output/);
});

test('hand-computed conv → maxpool → dense, and max-pool tie routing', () => {
  // x = 1..9 on a 3×3 image; 2×2 all-ones kernel, bias 0.5: [12.5 16.5; 24.5 28.5];
  // maxpool 2×2 → 28.5; dense W = [1, −1]ᵀ, b = [0, 1] → [28.5, −27.5].
  const m: Model64 = {
    inShape: [1, 3, 3], layers: [
      { kind: 'conv', shape: convShape({ Cin: 1, H: 3, W: 3, Cout: 1, kh: 2 }), bias: true },
      { kind: 'maxpool', shape: poolShape({ C: 1, H: 2, W: 2, kh: 2 }) },
      { kind: 'flatten' },
      { kind: 'dense', in: 1, out: 2, bias: true },
    ],
  };
  const theta = Float64Array.from([1, 1, 1, 1, 0.5, 1, -1, 0, 1]);
  const X = Float64Array.from({ length: 9 }, (_, i) => i + 1);
  assert.equal(Array.from(forward64(m, theta, X, 1)), [28.5, -27.5]);
  const r = lossAcc64(m, theta, X, Float64Array.from([28, -27]), 1, 'mse');
  assert.is(r.loss, 0.25);
  assert.is(r.acc, 1);
  // dL/d(output) = [0.5, −0.5], so dL/dW = [0.5·28.5, −0.5·28.5]; dL/d(pooled) = 0.5·1 + (−0.5)(−1) = 1, routed to
  // the bottom-right conv output, which read x[4], x[5], x[7], x[8].
  assert.equal(Array.from(grad64(m, theta, X, Float64Array.from([28, -27]), 1, 'mse')), [5, 6, 8, 9, 1, 14.25, -14.25, 0.5, -0.5]);
  // Ties: the first maximum in row-major window order takes the whole cotangent and tangent.
  const pool: Layer64 = { kind: 'maxpool', shape: poolShape({ C: 1, H: 2, W: 2, kh: 2 }) };
  const none = new Float64Array(0), x = Float64Array.from([1, 3, 3, 3]);
  assert.equal(Array.from(layerVjp64(pool, none, x, Float64Array.from([1]), 1).dx), [0, 1, 0, 0]);
  assert.equal(Array.from(layerJvp64(pool, none, x, Float64Array.from([10, 20, 30, 40]), none, 1)), [20]);
  const dual = layerVjpDual64(pool, { v: none, t: none }, { v: x, t: Float64Array.from([0, -5, 9, 9]) }, { v: Float64Array.from([1]), t: Float64Array.from([2]) }, 1);
  assert.equal(Array.from(dual.dx.t), [0, 2, 0, 0]); // the route does not move with x's tangent
});

// ---------------------------------------------------------------- per-layer identities

interface LayerCase { name: string; l: Layer64; nIn: number; nOut: number; nP: number }
const LAYER_CASES: LayerCase[] = (() => {
  const out: LayerCase[] = [];
  const add = (name: string, l: Layer64, inShape: number[]) => {
    const m: Model64 = { inShape, layers: [l] }, sh = layerShapes64(m);
    out.push({ name, l, nIn: sh[0]!.reduce((a, b) => a * b, 1), nOut: sh[1]!.reduce((a, b) => a * b, 1), nP: paramCount64(m) });
  };
  for (const bias of [true, false]) {
    add(`dense bias=${bias}`, { kind: 'dense', in: 5, out: 3, bias }, [5]);
    add(`conv 3×3 s1 p1 bias=${bias}`, { kind: 'conv', shape: convShape({ Cin: 2, H: 5, W: 5, Cout: 3, kh: 3, pad: 1 }), bias }, [2, 5, 5]);
    add(`conv 3×3 s2 p0 bias=${bias}`, { kind: 'conv', shape: convShape({ Cin: 3, H: 8, W: 8, Cout: 2, kh: 3, stride: 2 }), bias }, [3, 8, 8]);
    add(`conv 2×3 s2 p1 bias=${bias}`, { kind: 'conv', shape: convShape({ Cin: 2, H: 5, W: 6, Cout: 2, kh: 2, kw: 3, stride: 2, pad: 1 }), bias }, [2, 5, 6]);
  }
  for (const kind of ['maxpool', 'avgpool'] as const) {
    add(`${kind} 2 s2`, { kind, shape: poolShape({ C: 2, H: 5, W: 5, kh: 2 }) }, [2, 5, 5]);
    add(`${kind} 3 s2 p1`, { kind, shape: poolShape({ C: 2, H: 6, W: 5, kh: 3, kw: 2, stride: 2, pad: 1 }) }, [2, 6, 5]);
  }
  for (const act of ACTS) add(`act ${act}`, { kind: 'act', act }, [2, 3, 3]);
  add('flatten', { kind: 'flatten' }, [2, 3, 3]);
  return out;
})();

function layerShapeIn(l: Layer64): number[] {
  if (l.kind === 'conv') return [l.shape.Cin, l.shape.H, l.shape.W];
  if (l.kind === 'maxpool' || l.kind === 'avgpool') return [l.shape.C, l.shape.H, l.shape.W];
  if (l.kind === 'dense') return [l.in];
  return [2, 3, 3];
}

/** Inputs for a single-layer check, away from activation kinks and max-pool near-ties (inputs ±1.5). */
function layerPoint(lc: LayerCase, seed: number) {
  const rng = rand(seed), inShape = layerShapeIn(lc.l);
  const probe: Model64 = { inShape, layers: lc.l.kind === 'dense' || lc.l.kind === 'flatten' ? [lc.l] : [lc.l, { kind: 'flatten' }] };
  for (let attempt = 0; attempt < 1000; attempt++) {
    const x = uniform(rng, N * lc.nIn, 1.5), p = uniform(rng, lc.nP);
    const tx = uniform(rng, N * lc.nIn), tp = uniform(rng, lc.nP), dy = uniform(rng, N * lc.nOut), tdy = uniform(rng, N * lc.nOut);
    if (kinks64(probe, p, x, N).margin >= MARGIN) return { x, p, tx, tp, dy, tdy };
  }
  throw new Error(`${lc.name}: no kink-free point`);
}

test('per-layer jvp vs FD of forward; ⟨dy, jvp⟩ = ⟨vjp, (tx, tp)⟩; dual vjp tangent vs FD of vjp', () => {
  const h = 1e-5;
  let seed = 500;
  for (const lc of LAYER_CASES) {
    const { l } = lc, { x, p, tx, tp, dy, tdy } = layerPoint(lc, seed++);
    const at = (s: number) => ({ x: x.map((z, i) => z + s * h * tx[i]!), p: p.map((z, i) => z + s * h * tp[i]!) });
    const ap = at(1), am = at(-1);
    // jvp vs central difference of the forward (FD tolerance: see the header).
    const ty = layerJvp64(l, p, x, tx, tp, N);
    const yp = layerForward64(l, ap.p, ap.x, N), ym = layerForward64(l, am.p, am.x, N);
    const e1 = relErr(ty, yp.map((z, i) => (z - ym[i]!) / (2 * h)));
    record('layer jvp vs FD of forward', e1);
    assert.ok(e1 <= 1e-6, `${lc.name}: jvp ${e1}`);
    // Adjoint identity: both sides are the same finite sum of products in a
    // different order, so they agree to rounding: tolerance 1e-13 of Σ|terms|.
    const { dx, dp } = layerVjp64(l, p, x, dy, N);
    const lhs = dot(dy, ty), rhs = dot(dx, tx) + dot(dp, tp);
    const scale = norm(dy) * norm(ty) + norm(dx) * norm(tx) + norm(dp) * norm(tp);
    const e2 = Math.abs(lhs - rhs) / scale;
    record('layer adjoint identity ⟨dy,Jt⟩ − ⟨Jᵀdy,t⟩ (rel)', e2);
    assert.ok(e2 <= 1e-13, `${lc.name}: adjoint ${e2}`);
    // Dual forward = (forward, jvp) and dual vjp tangent = d/ds vjp(p + s tp, x + s tx, dy + s tdy).
    const pd: Dual64 = { v: p, t: tp }, xd: Dual64 = { v: x, t: tx }, dyd: Dual64 = { v: dy, t: tdy };
    const fd = layerForwardDual64(l, pd, xd, N);
    assert.equal(Array.from(fd.v), Array.from(layerForward64(l, p, x, N)));
    assert.equal(Array.from(fd.t), Array.from(ty));
    const vd = layerVjpDual64(l, pd, xd, dyd, N);
    assert.equal(Array.from(vd.dx.v), Array.from(dx));
    assert.equal(Array.from(vd.dp.v), Array.from(dp));
    const gp = layerVjp64(l, ap.p, ap.x, dy.map((z, i) => z + h * tdy[i]!), N), gm = layerVjp64(l, am.p, am.x, dy.map((z, i) => z - h * tdy[i]!), N);
    const e3 = relErr(vd.dx.t, gp.dx.map((z, i) => (z - gm.dx[i]!) / (2 * h)));
    const e4 = lc.nP ? relErr(vd.dp.t, gp.dp.map((z, i) => (z - gm.dp[i]!) / (2 * h))) : 0;
    record('layer dual vjp tangent vs FD of vjp', Math.max(e3, e4));
    assert.ok(e3 <= 1e-6 && e4 <= 1e-6, `${lc.name}: dual vjp ${e3} ${e4}`);
  }
});

// ---------------------------------------------------------------- loss, gradient, output jvp/vjp

test('grad64 vs central differences of lossAcc64, per parameter', () => {
  const h = 1e-5;
  for (const cs of CASES) {
    const { m, loss, theta, X, Y } = cs;
    const g = grad64(m, theta, X, Y, N, loss);
    const step = (k: number, s: number) => { const t = theta.slice(); t[k]! += s * h; return t; };
    const fd = g.map((_, k) => (lossAcc64(m, step(k, 1), X, Y, N, loss).loss - lossAcc64(m, step(k, -1), X, Y, N, loss).loss) / (2 * h));
    const e = relErr(g, fd);
    record('grad64 vs FD of loss', e);
    if (e > 1e-6) { // Name a stencil that straddles a kink, if any (crossing one can only cause a false failure).
      const base = kinks64(m, theta, X, N).pattern;
      const k = g.findIndex((_, k) => !samePattern(kinks64(m, step(k, 1), X, N).pattern, base) || !samePattern(kinks64(m, step(k, -1), X, N).pattern, base));
      assert.unreachable(`${cs.name}: rel err ${e}${k >= 0 ? ` (the stencil of θ${k} crosses a kink)` : ''}`);
    }
  }
});

test('jvp64 vs FD of forward64; vjp64 is its adjoint', () => {
  const h = 1e-5;
  for (const cs of CASES) {
    const { m, theta, X, v } = cs;
    const Jv = jvp64(m, theta, X, N, v);
    const fp = forward64(m, theta.map((t, k) => t + h * v[k]!), X, N), fm = forward64(m, theta.map((t, k) => t - h * v[k]!), X, N);
    const e = relErr(Jv, fp.map((z, i) => (z - fm[i]!) / (2 * h)));
    record('jvp64 vs FD of forward64', e);
    assert.ok(e <= 1e-6, `${cs.name}: ${e}`);
    const w = uniform(rand(9), Jv.length), JTw = vjp64(m, theta, X, N, w);
    const ea = Math.abs(dot(w, Jv) - dot(JTw, v)) / (norm(w) * norm(Jv) + norm(JTw) * norm(v));
    record('⟨w, Jv⟩ − ⟨Jᵀw, v⟩ (rel)', ea);
    assert.ok(ea <= 1e-13, `${cs.name}: adjoint ${ea}`);
  }
});

// ---------------------------------------------------------------- Hessian

test('hvp64 vs central differences of grad64 (hvpFiniteDiff64)', () => {
  const eps = 1e-5;
  for (const cs of CASES) {
    const { m, loss, theta, X, Y, v } = cs;
    const pat = (s: number) => kinks64(m, theta.map((t, k) => t + s * eps * v[k]!), X, N).pattern;
    assert.ok(samePattern(pat(1), pat(-1)) && samePattern(pat(1), pat(0)), `${cs.name}: stencil crosses a kink`);
    const e = relErr(hvp64(m, theta, X, Y, N, loss, v), hvpFiniteDiff64(m, theta, X, Y, N, loss, v, eps));
    record('hvp64 vs FD of grad64', e);
    assert.ok(e <= 1e-6, `${cs.name}: rel err ${e}`);
  }
});

// Exact identity up to rounding: uᵀHv and vᵀHu are two different sums of the
// same O(P·N·layer-size) products, so they agree to ~1e-16·√terms relative to
// ‖u‖‖Hv‖. Tolerance 1e-12.
test('uᵀ(Hv) = vᵀ(Hu)', () => {
  for (const cs of CASES) {
    const { m, loss, theta, X, Y, u, v } = cs;
    const Hv = hvp64(m, theta, X, Y, N, loss, v), Hu = hvp64(m, theta, X, Y, N, loss, u);
    const e = Math.abs(dot(u, Hv) - dot(v, Hu)) / Math.max(norm(u) * norm(Hv), norm(v) * norm(Hu));
    record('|uᵀHv − vᵀHu| / (‖u‖‖Hv‖)', e);
    assert.ok(e <= 1e-12, `${cs.name}: ${e}`);
  }
});

const SMALL = CASES.filter((cs) => cs.small);
const hessians = new Map<Case, Float64Array>();
const hessianOf = (cs: Case) => {
  if (!hessians.has(cs)) hessians.set(cs, hessian64(cs.m, cs.theta, cs.X, cs.Y, N, cs.loss));
  return hessians.get(cs)!;
};

test('hessian64: columns are HVPs, raw matrix symmetric, H·v = hvp64(v)', () => {
  assert.is(new Set(SMALL.map((cs) => cs.act)).size, ACTS.length);
  assert.is(new Set(SMALL.map((cs) => cs.loss)).size, 2);
  assert.is(new Set(SMALL.map((cs) => cs.bias)).size, 2);
  for (const cs of SMALL) {
    const { m, loss, theta, X, Y, v } = cs;
    const P = paramCount64(m), H = hessianOf(cs);
    // Asymmetry of the raw (unsymmetrised) matrix: column k is hvp64(e_k).
    const raw = new Float64Array(P * P), e = new Float64Array(P);
    for (let k = 0; k < P; k++) { e.fill(0); e[k] = 1; const col = hvp64(m, theta, X, Y, N, loss, e); for (let r = 0; r < P; r++) raw[r * P + k] = col[r]!; }
    let asym = 0;
    for (let r = 0; r < P; r++) for (let k = 0; k < P; k++) asym = Math.max(asym, Math.abs(raw[r * P + k]! - raw[k * P + r]!));
    const es = asym / maxAbs(raw);
    record('hessian64 raw asymmetry (rel)', es);
    assert.ok(es <= 1e-12, `${cs.name}: asymmetry ${es}`);
    const Hv = new Float64Array(P);
    for (let r = 0; r < P; r++) for (let k = 0; k < P; k++) Hv[r]! += H[r * P + k]! * v[k]!;
    const el = relErr(Hv, hvp64(m, theta, X, Y, N, loss, v));
    record('hessian64·v vs hvp64', el);
    assert.ok(el <= 1e-12, `${cs.name}: ${el}`);
  }
});

// ---------------------------------------------------------------- Gauss-Newton

test('gnvp64 symmetric, vᵀGv ≥ 0, GN matrix PSD (mse and ce); the Hessian is not', () => {
  let indefinite = 0;
  for (const cs of CASES) {
    const { m, loss, theta, X, Y, u, v } = cs;
    const Gv = gnvp64(m, theta, X, Y, N, loss, v), Gu = gnvp64(m, theta, X, Y, N, loss, u);
    const e = Math.abs(dot(u, Gv) - dot(v, Gu)) / Math.max(norm(u) * norm(Gv), norm(v) * norm(Gu));
    record('|uᵀGv − vᵀGu| / (‖u‖‖Gv‖)', e);
    assert.ok(e <= 1e-12, `${cs.name}: GN asymmetry ${e}`);
    // vᵀGv = (Jv)ᵀ H_ℓ (Jv) ≥ 0; rounding can only make an exact 0 slightly negative.
    assert.ok(dot(v, Gv) >= -1e-14 * norm(v) * norm(Gv), `${cs.name}: vᵀGv = ${dot(v, Gv)}`);
  }
  for (const cs of SMALL) {
    const { m, loss, theta, X, Y } = cs;
    const P = paramCount64(m), ev = symEig64(gaussNewton64(m, theta, X, Y, N, loss), P).values;
    // Rank ≤ N·c (mse) or N·(c−1) (ce) ≪ P, so most eigenvalues are rounding
    // noise around 0: ~1e-16·P·λmax, well inside 1e-12·λmax.
    const lmin = ev[P - 1]!, lmax = ev[0]!;
    record(`GN min eigenvalue / max eigenvalue (${loss}), most negative`, Math.max(0, -lmin / lmax));
    assert.ok(lmin >= -1e-12 * lmax, `${cs.name}: GN min eig ${lmin} (max ${lmax})`);
    if (symEig64(hessianOf(cs), P).values[P - 1]! < -1e-8) indefinite++;
  }
  assert.ok(indefinite > 0, 'the PSD check has teeth only if some true Hessians are indefinite');
});

// With one parametrised layer and nothing nonlinear after it, the outputs are
// affine in θ, so H = Jᵀ H_ℓ J exactly: both routes are the same sums in a
// different order (tolerance 1e-13).
test('gnvp64 = hvp64 for models affine in θ', () => {
  let seed = 900;
  const affine: { name: string; m: Model64; c: number }[] = [
    { name: 'conv → avgpool → flatten', c: 8, m: { inShape: [2, 5, 5], layers: [{ kind: 'conv', shape: convShape({ Cin: 2, H: 5, W: 5, Cout: 2, kh: 3, stride: 2, pad: 1 }), bias: true }, { kind: 'avgpool', shape: poolShape({ C: 2, H: 3, W: 3, kh: 2, stride: 1 }) }, { kind: 'flatten' }] } },
    { name: 'act → maxpool (data only) → flatten → dense', c: 3, m: { inShape: [2, 4, 4], layers: [{ kind: 'act', act: 'tanh' }, { kind: 'maxpool', shape: poolShape({ C: 2, H: 4, W: 4, kh: 2 }) }, { kind: 'flatten' }, { kind: 'dense', in: 8, out: 3, bias: false }] } },
    { name: 'conv (no bias) → flatten', c: 18, m: { inShape: [1, 4, 4], layers: [{ kind: 'conv', shape: convShape({ Cin: 1, H: 4, W: 4, Cout: 2, kh: 2, stride: 1 }), bias: false }, { kind: 'flatten' }] } },
  ];
  for (const a of affine) for (const loss of LOSSES) {
    const cs = sampleCase(a.m, a.c, loss, seed++, `${a.name} ${loss}`);
    const e = relErr(gnvp64(cs.m, cs.theta, cs.X, cs.Y, N, loss, cs.v), hvp64(cs.m, cs.theta, cs.X, cs.Y, N, loss, cs.v));
    record('gnvp64 vs hvp64, model affine in θ', e);
    assert.ok(e <= 1e-13, `${cs.name}: ${e}`);
  }
});

// ---------------------------------------------------------------- exact special cases

// A model of flatten + dense/act layers is an MLP: every quantity must equal
// mlp64.ts's (independent code, per-example loops) up to summation order:
// tolerance 1e-12 relative.
test('pure dense models equal mlp64.ts (loss, forward, grad, hvp, gnvp)', () => {
  let seed = 2000;
  for (const sizes of [[3, 5, 4, 2], [4, 6, 3]]) for (const act of ACTS) for (const bias of [true, false]) for (const loss of LOSSES) {
    const inShape = sizes[0] === 4 ? [1, 2, 2] : [sizes[0]!]; // a [C,H,W] input flattened, and a flat one
    const layers: Layer64[] = [{ kind: 'flatten' }];
    for (let l = 1; l < sizes.length; l++) {
      layers.push({ kind: 'dense', in: sizes[l - 1]!, out: sizes[l]!, bias });
      if (l < sizes.length - 1) layers.push({ kind: 'act', act });
    }
    const m: Model64 = { inShape, layers }, mm: mlp.Mlp64 = { sizes, act, bias };
    const cs = sampleCase(m, sizes[sizes.length - 1]!, loss, seed++, `${sizes.join('-')} ${act} bias=${bias} ${loss}`, 7);
    const { theta, X, Y, v } = cs, n = 7;
    assert.is(paramCount64(m), mlp.paramCount64(mm));
    const la = lossAcc64(m, theta, X, Y, n, loss), lb = mlp.lossAcc64(mm, theta, X, Y, n, loss);
    assert.is(la.acc, lb.acc);
    const pairs: [string, ArrayLike<number>, ArrayLike<number>][] = [
      ['loss', [la.loss], [lb.loss]],
      ['forward', forward64(m, theta, X, n), mlp.forward64(mm, theta, X, n)],
      ['grad', grad64(m, theta, X, Y, n, loss), mlp.grad64(mm, theta, X, Y, n, loss)],
      ['hvp', hvp64(m, theta, X, Y, n, loss, v), mlp.hvp64(mm, theta, X, Y, n, loss, v)],
      ['gnvp', gnvp64(m, theta, X, Y, n, loss, v), mlp.gnvp64(mm, theta, X, Y, n, loss, v)],
    ];
    for (const [what, a, b] of pairs) {
      const e = relErr(a, b);
      record(`dense model vs mlp64: ${what}`, e);
      assert.ok(e <= 1e-12, `${cs.name}: ${what} ${e}`);
    }
  }
});

// A convolution whose kernel covers the whole (unpadded) image is a dense
// layer on the flattened image with the same [Cout, Cin·kh·kw] weight layout,
// so θ is shared verbatim. Same sums in the same order up to loop nesting:
// tolerance 1e-13.
test('full-image conv equals dense on the flattened image', () => {
  let seed = 3000;
  for (const act of ['tanh', 'swish', 'relu'] as Act[]) for (const bias of [true, false]) for (const loss of LOSSES) {
    const conv: Model64 = { inShape: [2, 3, 3], layers: [
      { kind: 'conv', shape: convShape({ Cin: 2, H: 3, W: 3, Cout: 4, kh: 3 }), bias }, { kind: 'flatten' },
      { kind: 'act', act }, { kind: 'dense', in: 4, out: 3, bias },
    ] };
    const dense: Model64 = { inShape: [2, 3, 3], layers: [
      { kind: 'flatten' }, { kind: 'dense', in: 18, out: 4, bias }, { kind: 'act', act }, { kind: 'dense', in: 4, out: 3, bias },
    ] };
    const cs = sampleCase(conv, 3, loss, seed++, `${act} bias=${bias} ${loss}`);
    const { theta, X, Y, v } = cs;
    const pairs: [string, ArrayLike<number>, ArrayLike<number>][] = [
      ['loss', [lossAcc64(conv, theta, X, Y, N, loss).loss], [lossAcc64(dense, theta, X, Y, N, loss).loss]],
      ['grad', grad64(conv, theta, X, Y, N, loss), grad64(dense, theta, X, Y, N, loss)],
      ['hvp', hvp64(conv, theta, X, Y, N, loss, v), hvp64(dense, theta, X, Y, N, loss, v)],
      ['gnvp', gnvp64(conv, theta, X, Y, N, loss, v), gnvp64(dense, theta, X, Y, N, loss, v)],
    ];
    for (const [what, a, b] of pairs) {
      const e = relErr(a, b);
      record(`full-image conv vs dense: ${what}`, e);
      assert.ok(e <= 1e-13, `${cs.name}: ${what} ${e}`);
    }
  }
});

// ---------------------------------------------------------------- eigenvalues

test('symEig64 recovers a known spectrum', () => {
  const spectrum = [5, 3.25, 1, 1e-3, 0, -0.5, -2, 7e-9, 4];
  const { A } = withSpectrum(spectrum, 11), n = spectrum.length;
  const { values, vectors } = symEig64(A, n);
  const want = spectrum.slice().sort((a, b) => b - a);
  // Jacobi is backward stable: eigenvalue errors ~1e-16·‖A‖ (here ‖A‖ = 5).
  const e = relErr(values, want);
  record('symEig64 eigenvalues vs known spectrum (rel to max)', e);
  assert.ok(e <= 1e-13, `${e}`);
  for (let j = 0; j < n; j++) { // ‖A q − λ q‖ ≲ 1e-15·‖A‖ (‖A‖₂ = 5), tolerance 1e-13·‖A‖
    const q = Float64Array.from({ length: n }, (_, i) => vectors[i * n + j]!);
    const r = Float64Array.from({ length: n }, (_, i) => dot(A.subarray(i * n, (i + 1) * n), q) - values[j]! * q[i]!);
    record('symEig64 residual ‖Aq − λq‖ / ‖A‖', norm(r) / 5);
    assert.ok(Math.abs(norm(q) - 1) <= 1e-14 && norm(r) <= 5e-13, `pair ${j}: residual ${norm(r)}`);
  }
});

const lambdas: string[] = [];
test('λ₁, λ₂ of small CNN Hessians: eigenpairs of hessian64 are eigenpairs of hvp64', () => {
  for (const cs of SMALL.filter((_, i) => i % 2 === 0)) {
    const { m, loss, theta, X, Y } = cs;
    const P = paramCount64(m), H = hessianOf(cs), { values, vectors } = symEig64(H, P);
    let tr = 0;
    for (let k = 0; k < P; k++) tr += H[k * P + k]!;
    const scale = Math.max(Math.abs(values[0]!), Math.abs(values[P - 1]!));
    // Σλ = tr H: both sides are sums of P numbers of size ≤ scale; tolerance 1e-12·P·scale.
    const etr = Math.abs(values.reduce((s, x) => s + x, 0) - tr) / (P * scale);
    record('Σλ − tr H (rel to P·max|λ|)', etr);
    assert.ok(etr <= 1e-12, `${cs.name}: trace ${etr}`);
    for (const j of [0, 1]) { // ‖hvp64(q) − λ q‖ small: the Jacobi residual (~1e-15·scale) plus hvp64 vs hessian64 rounding
      const q = Float64Array.from({ length: P }, (_, i) => vectors[i * P + j]!);
      const res = hvp64(m, theta, X, Y, N, loss, q).map((z, i) => z - values[j]! * q[i]!);
      const er = norm(res) / scale;
      record('‖hvp64(q) − λq‖ / max|λ| for λ₁, λ₂', er);
      assert.ok(er <= 1e-12, `${cs.name}: residual ${er}`);
    }
    lambdas.push(`${cs.name}: λ₁ = ${values[0]!.toPrecision(10)}, λ₂ = ${values[1]!.toPrecision(10)}, λmin = ${values[P - 1]!.toPrecision(4)} (P = ${P})`);
  }
});

test.after(() => {
  console.log('\nmax errors:');
  for (const [k, e] of Object.entries(worst)) console.log(`  ${k.padEnd(58)} ${e.toExponential(2)}`);
  console.log(`Hessian extremes (float64, N = ${N}):`);
  for (const s of lambdas) console.log(`  ${s}`);
});

test.run();
