// Independent float64 reference for layer-list models (CNNs and MLPs): loss,
// gradient, Hessian-vector and Gauss-Newton-vector products. It is the ground
// truth for the engine's layer walk (core/ts/nn, core/ts/objective) and shares
// no code with it beyond the plain geometry types and their builders.
//
// Structure (docs/architecture.md, "Models are layer lists", but composed the way JAX
// composes transformations, not the engine's four hand-derived passes):
//   - each layer kind has a forward, a vjp (input cotangent and parameter
//     gradient) and a jvp (output tangent from an input tangent and a
//     parameter direction), over the whole batch [N, …shape];
//   - each kind also has a forward and a vjp over *dual* tensors (value,
//     tangent), so forward-then-backward run on duals seeded with the
//     direction v on θ yields (∇L, Hv): forward-over-reverse, jvp(grad);
//   - the Gauss-Newton product is jvp of the outputs, the loss Hessian, then a
//     plain vjp.
// Max pooling routes by the forward values (first maximum of the window in
// row-major order wins, as PyTorch); tangents and cotangents follow that route.
import type { ConvShape, PoolShape } from '../../core/ts/backend/types.js';
import { act64, type Act, type Loss } from './mlp64.js';
import { conv64, convDinput64, convDweight64, poolBackward64, poolTangent64 } from './conv64.js';
import { residualForward64, residualJvp64, residualParams64, residualShape64, residualVjp64, residualVjpDual64, type Residual64 } from './residual64.js';
import { bnForward64, bnJvp64, bnVjp64, bnVjpDual64 } from './batchnorm64.js';

export type { Act, Loss } from './mlp64.js';

export type Layer64 =
  | { kind: 'dense'; in: number; out: number; bias: boolean }
  | { kind: 'conv'; shape: ConvShape; bias: boolean }
  | { kind: 'act'; act: Act }
  | { kind: 'maxpool' | 'avgpool'; shape: PoolShape }
  | { kind: 'flatten' }
  | Residual64
  | { kind: 'bn'; C: number; S: number };

export interface Model64 { layers: Layer64[]; inShape: number[] /* per example, e.g. [C,H,W] or [d] */ }

/** A dual tensor: value v and tangent t (same length). */
export interface Dual64 { v: Float64Array; t: Float64Array }

// ---------------------------------------------------------------- shapes and θ layout

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Number of weight and bias entries of one layer (bias 0 when off or absent). */
function paramSizes(l: Layer64): { nW: number; nB: number } {
  switch (l.kind) {
    case 'dense': return { nW: l.out * l.in, nB: l.bias ? l.out : 0 };
    case 'conv': { const s = l.shape; return { nW: s.Cout * s.Cin * s.kh * s.kw, nB: l.bias ? s.Cout : 0 }; }
    case 'residual': return { nW: residualParams64(l), nB: 0 };
    case 'bn': return { nW: l.C, nB: l.C };
    default: return { nW: 0, nB: 0 };
  }
}

/** Per-example shapes: shapes[0] = inShape, shapes[i+1] = output of layer i. Throws on a mismatch. */
export function layerShapes64(m: Model64): number[][] {
  const shapes = [m.inShape.slice()];
  if (m.inShape.length === 0 || m.inShape.some((d) => !Number.isInteger(d) || d <= 0)) throw new Error(`layers64: bad inShape [${m.inShape}]`);
  m.layers.forEach((l, i) => {
    const s = shapes[i]!;
    const need = (want: number[], what: string) => {
      if (!sameShape(s, want)) throw new Error(`layers64: layer ${i} (${what}) expects input [${want}], gets [${s}]`);
    };
    switch (l.kind) {
      case 'dense': need([l.in], 'dense'); shapes.push([l.out]); break;
      case 'conv': need([l.shape.Cin, l.shape.H, l.shape.W], 'conv'); shapes.push([l.shape.Cout, l.shape.Ho, l.shape.Wo]); break;
      case 'maxpool': case 'avgpool': need([l.shape.C, l.shape.H, l.shape.W], l.kind); shapes.push([l.shape.C, l.shape.Ho, l.shape.Wo]); break;
      case 'act': shapes.push(s.slice()); break;
      case 'flatten': shapes.push([size(s)]); break;
      case 'residual': need(l.inShape, 'residual'); shapes.push(residualShape64(l)); break;
      case 'bn': if (size(s) !== l.C * l.S || s[0] !== l.C) throw new Error(`layers64: layer ${i} (bn) expects ${l.C} channels of ${l.S}, gets [${s}]`); shapes.push(s.slice()); break;
      default: throw new Error(`layers64: unknown layer kind ${(l as { kind: string }).kind}`);
    }
  });
  return shapes;
}

/** Offset of each layer's parameters in θ (weight first, then bias), and the total P. */
export function paramLayout64(m: Model64): { off: number[]; nW: number[]; nB: number[]; P: number } {
  const off: number[] = [], nW: number[] = [], nB: number[] = [];
  let p = 0;
  for (const l of m.layers) {
    const s = paramSizes(l);
    off.push(p); nW.push(s.nW); nB.push(s.nB);
    p += s.nW + s.nB;
  }
  return { off, nW, nB, P: p };
}

export function paramCount64(m: Model64): number { return paramLayout64(m).P; }

function check(m: Model64, theta: Float64Array, X: Float64Array, N: number, Y?: Float64Array): { shapes: number[][]; P: number; c: number } {
  const shapes = layerShapes64(m), P = paramCount64(m);
  const d = size(m.inShape), out = shapes[shapes.length - 1]!;
  if (out.length !== 1) throw new Error(`layers64: the model must end in a flat output, ends in [${out}]`);
  const c = out[0]!;
  if (theta.length !== P) throw new Error(`layers64: theta has ${theta.length} entries, expected ${P}`);
  if (!Number.isInteger(N) || N <= 0) throw new Error(`layers64: N must be a positive integer, got ${N}`);
  if (X.length !== N * d) throw new Error(`layers64: X has ${X.length} entries, expected ${N}×${d}`);
  if (Y && Y.length !== N * c) throw new Error(`layers64: Y has ${Y.length} entries, expected ${N}×${c}`);
  return { shapes, P, c };
}

/** The layer's slice of a θ-shaped vector (weight then bias); a view, not a copy. */
function slice(m: Model64, vec: Float64Array, i: number): Float64Array {
  const lay = paramLayout64(m);
  return vec.subarray(lay.off[i]!, lay.off[i]! + lay.nW[i]! + lay.nB[i]!);
}

// ---------------------------------------------------------------- dense products (plain loops)

/** y[n, o] = Σ_k W[o, k] x[n, k] (+ b[o]). */
function denseFwd(nin: number, nout: number, N: number, x: Float64Array, W: Float64Array, b: Float64Array | null): Float64Array {
  const y = new Float64Array(N * nout);
  for (let n = 0; n < N; n++) for (let o = 0; o < nout; o++) {
    let s = b ? b[o]! : 0;
    for (let k = 0; k < nin; k++) s += W[o * nin + k]! * x[n * nin + k]!;
    y[n * nout + o] = s;
  }
  return y;
}

/** dx[n, k] = Σ_o W[o, k] dy[n, o]. */
function denseDin(nin: number, nout: number, N: number, dy: Float64Array, W: Float64Array): Float64Array {
  const dx = new Float64Array(N * nin);
  for (let n = 0; n < N; n++) for (let k = 0; k < nin; k++) {
    let s = 0;
    for (let o = 0; o < nout; o++) s += W[o * nin + k]! * dy[n * nout + o]!;
    dx[n * nin + k] = s;
  }
  return dx;
}

/** dW[o, k] = Σ_n dy[n, o] x[n, k], db[o] = Σ_n dy[n, o]. */
function denseDw(nin: number, nout: number, N: number, dy: Float64Array, x: Float64Array): { dw: Float64Array; db: Float64Array } {
  const dw = new Float64Array(nout * nin), db = new Float64Array(nout);
  for (let o = 0; o < nout; o++) {
    for (let n = 0; n < N; n++) db[o]! += dy[n * nout + o]!;
    for (let k = 0; k < nin; k++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += dy[n * nout + o]! * x[n * nin + k]!;
      dw[o * nin + k] = s;
    }
  }
  return { dw, db };
}

// Dense and conv are both y = B(x, W) + b with B bilinear; these three
// products per kind give every pass.
interface Bilinear {
  nW: number; nB: number;
  fwd(x: Float64Array, W: Float64Array, b: Float64Array | null): Float64Array; // B(x, W) (+ b)
  din(dy: Float64Array, W: Float64Array): Float64Array;                          // B_xᵀ(dy; W)
  dw(dy: Float64Array, x: Float64Array): { dw: Float64Array; db: Float64Array };  // B_Wᵀ(dy; x), Σ dy
}

function bilinear(l: Layer64, N: number): Bilinear | null {
  if (l.kind === 'dense') {
    const { in: nin, out: nout } = l;
    return {
      nW: nout * nin, nB: l.bias ? nout : 0,
      fwd: (x, W, b) => denseFwd(nin, nout, N, x, W, b),
      din: (dy, W) => denseDin(nin, nout, N, dy, W),
      dw: (dy, x) => denseDw(nin, nout, N, dy, x),
    };
  }
  if (l.kind === 'conv') {
    const s = l.shape;
    return {
      nW: s.Cout * s.Cin * s.kh * s.kw, nB: l.bias ? s.Cout : 0,
      fwd: (x, W, b) => conv64(s, N, x, W, b ?? undefined),
      din: (dy, W) => convDinput64(s, N, dy, W),
      dw: (dy, x) => convDweight64(s, N, dy, x),
    };
  }
  return null;
}

const add = (a: Float64Array, b: Float64Array) => a.map((x, i) => x + b[i]!);
const concat = (a: Float64Array, b: Float64Array) => { const r = new Float64Array(a.length + b.length); r.set(a); r.set(b, a.length); return r; };
const poolKind = (k: 'maxpool' | 'avgpool') => (k === 'maxpool' ? 'max' : 'avg') as 'max' | 'avg';

function actMap(a: Act, x: Float64Array, pick: 0 | 1 | 2): Float64Array {
  return x.map((z) => act64(a, z)[pick]);
}

function expectLen(what: string, arr: Float64Array, n: number): void {
  if (arr.length !== n) throw new Error(`layers64: ${what} has ${arr.length} entries, expected ${n}`);
}

// ---------------------------------------------------------------- per-layer passes (batch of N)

/**
 * y = f(x; p) for one layer over N examples; p is the layer's parameter slice
 * (weight then bias, empty for parameter-free kinds).
 */
export function layerForward64(l: Layer64, p: Float64Array, x: Float64Array, N: number): Float64Array {
  const bl = bilinear(l, N);
  if (bl) { expectLen('layer params', p, bl.nW + bl.nB); return bl.fwd(x, p.subarray(0, bl.nW), bl.nB ? p.subarray(bl.nW) : null); }
  switch (l.kind) {
    case 'act': return actMap(l.act, x, 0);
    case 'maxpool': case 'avgpool': return poolTangent64(poolKind(l.kind), l.shape, N, x, x);
    case 'flatten': return x.slice();
    case 'residual': return residualForward64(l, p, x, N);
    case 'bn': return bnForward64(l.C, l.S, N, p, x);
  }
  throw new Error(`layers64: unknown layer kind ${l.kind}`);
}

/** vjp: dx = J_xᵀ dy and dp = J_pᵀ dy (summed over the batch; empty for parameter-free kinds). */
export function layerVjp64(l: Layer64, p: Float64Array, x: Float64Array, dy: Float64Array, N: number): { dx: Float64Array; dp: Float64Array } {
  const bl = bilinear(l, N);
  if (bl) {
    const { dw, db } = bl.dw(dy, x);
    return { dx: bl.din(dy, p.subarray(0, bl.nW)), dp: bl.nB ? concat(dw, db) : dw };
  }
  const none = new Float64Array(0);
  switch (l.kind) {
    case 'act': return { dx: actMap(l.act, x, 1).map((d, i) => d * dy[i]!), dp: none };
    case 'maxpool': case 'avgpool': return { dx: poolBackward64(poolKind(l.kind), l.shape, N, x, dy), dp: none };
    case 'flatten': return { dx: dy.slice(), dp: none };
    case 'residual': return residualVjp64(l, p, x, dy, N);
    case 'bn': return bnVjp64(l.C, l.S, N, p, x, dy);
  }
  throw new Error(`layers64: unknown layer kind ${l.kind}`);
}

/** jvp: ty = J_x tx + J_p tp. */
export function layerJvp64(l: Layer64, p: Float64Array, x: Float64Array, tx: Float64Array, tp: Float64Array, N: number): Float64Array {
  const bl = bilinear(l, N);
  if (bl) {
    // d[B(x, W) + b] = B(tx, W) + B(x, tW) + tb
    const W = p.subarray(0, bl.nW), tW = tp.subarray(0, bl.nW);
    return add(bl.fwd(tx, W, null), bl.fwd(x, tW, bl.nB ? tp.subarray(bl.nW) : null));
  }
  switch (l.kind) {
    case 'act': return actMap(l.act, x, 1).map((d, i) => d * tx[i]!);
    case 'maxpool': case 'avgpool': return poolTangent64(poolKind(l.kind), l.shape, N, x, tx);
    case 'flatten': return tx.slice();
    case 'residual': return residualJvp64(l, p, x, tx, tp, N);
    case 'bn': return bnJvp64(l.C, l.S, N, p, x, tx, tp);
  }
  throw new Error(`layers64: unknown layer kind ${l.kind}`);
}

/** Forward over duals: (f(x; p), J_x x.t + J_p p.t). */
export function layerForwardDual64(l: Layer64, p: Dual64, x: Dual64, N: number): Dual64 {
  return { v: layerForward64(l, p.v, x.v, N), t: layerJvp64(l, p.v, x.v, x.t, p.t, N) };
}

/**
 * vjp over duals: the values are layerVjp64 at (p.v, x.v, dy.v); the tangents
 * are its derivative along (p.t, x.t, dy.t), i.e. the R-backward.
 */
export function layerVjpDual64(l: Layer64, p: Dual64, x: Dual64, dy: Dual64, N: number): { dx: Dual64; dp: Dual64 } {
  const val = layerVjp64(l, p.v, x.v, dy.v, N);
  const bl = bilinear(l, N);
  if (bl) {
    // dx = B_xᵀ(dy; W)        → t: B_xᵀ(dy.t; W) + B_xᵀ(dy; W.t)
    // dW = B_Wᵀ(dy; x)        → t: B_Wᵀ(dy.t; x) + B_Wᵀ(dy; x.t)
    // db = Σ dy               → t: Σ dy.t
    const W = p.v.subarray(0, bl.nW), tW = p.t.subarray(0, bl.nW);
    const a = bl.dw(dy.t, x.v), b = bl.dw(dy.v, x.t);
    const tdw = add(a.dw, b.dw);
    return {
      dx: { v: val.dx, t: add(bl.din(dy.t, W), bl.din(dy.v, tW)) },
      dp: { v: val.dp, t: bl.nB ? concat(tdw, a.db) : tdw },
    };
  }
  const none = new Float64Array(0);
  switch (l.kind) {
    case 'act': {
      // dx = σ′(x) dy → t: σ″(x) x.t dy + σ′(x) dy.t
      const t = new Float64Array(x.v.length);
      for (let i = 0; i < t.length; i++) {
        const [, d1, d2] = act64(l.act, x.v[i]!);
        t[i] = d2 * x.t[i]! * dy.v[i]! + d1 * dy.t[i]!;
      }
      return { dx: { v: val.dx, t }, dp: { v: none, t: none } };
    }
    case 'maxpool': case 'avgpool':
      // Linear in dy once the route is fixed by x.v; the route does not move with x.t.
      return { dx: { v: val.dx, t: poolBackward64(poolKind(l.kind), l.shape, N, x.v, dy.t) }, dp: { v: none, t: none } };
    case 'flatten':
      return { dx: { v: val.dx, t: dy.t.slice() }, dp: { v: none, t: none } };
    case 'residual': return residualVjpDual64(l, p, x, dy, N);
    // The statistics' derivatives come from evaluating the vjp over duals (batchnorm64.ts).
    case 'bn': return bnVjpDual64(l.C, l.S, N, p, x, dy);
  }
  throw new Error(`layers64: unknown layer kind ${l.kind}`);
}

// ---------------------------------------------------------------- loss

/** Per-example loss ℓ(f, y), ∂ℓ/∂f and u ↦ (∂²ℓ/∂f²) u. CE is logsumexp(f) − yᵀf (as mlp64). */
function lossParts(loss: Loss, f: Float64Array, y: Float64Array): { l: number; g: Float64Array; H: (u: Float64Array) => Float64Array } {
  const c = f.length;
  if (loss === 'mse') {
    let l = 0;
    const g = new Float64Array(c);
    for (let j = 0; j < c; j++) { const r = f[j]! - y[j]!; l += 0.5 * r * r; g[j] = r; }
    return { l, g, H: (u) => u.slice() };
  }
  if (loss !== 'ce') throw new Error(`layers64: unknown loss ${String(loss)}`);
  let mx = -Infinity;
  for (let j = 0; j < c; j++) mx = Math.max(mx, f[j]!);
  let se = 0;
  for (let j = 0; j < c; j++) se += Math.exp(f[j]! - mx);
  const lse = mx + Math.log(se);
  const p = f.map((z) => Math.exp(z - lse));
  let l = lse;
  for (let j = 0; j < c; j++) l -= y[j]! * f[j]!;
  return {
    l,
    g: p.map((pj, j) => pj - y[j]!),
    H: (u) => { // (diag p − p pᵀ) u
      let pu = 0;
      for (let j = 0; j < c; j++) pu += p[j]! * u[j]!;
      return p.map((pj, j) => pj * (u[j]! - pu));
    },
  };
}

/** Over the batch: mean loss, (1/N) ∂ℓ/∂F and U ↦ (1/N) H_ℓ U, all [N, c]. */
function batchLoss(loss: Loss, F: Float64Array, Y: Float64Array, N: number, c: number) {
  let total = 0;
  const G = new Float64Array(N * c), parts: ReturnType<typeof lossParts>[] = [];
  for (let i = 0; i < N; i++) {
    const lp = lossParts(loss, F.subarray(i * c, (i + 1) * c), Y.subarray(i * c, (i + 1) * c));
    total += lp.l;
    G.set(lp.g.map((x) => x / N), i * c);
    parts.push(lp);
  }
  const H = (U: Float64Array) => {
    const R = new Float64Array(N * c);
    for (let i = 0; i < N; i++) R.set(parts[i]!.H(U.subarray(i * c, (i + 1) * c)).map((x) => x / N), i * c);
    return R;
  };
  return { loss: total / N, G, H };
}

function argmax(x: Float64Array, off: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (x[off + j]! > x[off + best]!) best = j;
  return best;
}

// ---------------------------------------------------------------- model-level walks

/** Activations xs[0] = X, xs[i+1] = output of layer i (all [N, …]). */
function forwardAll(m: Model64, theta: Float64Array, X: Float64Array, N: number): Float64Array[] {
  const xs = [X];
  m.layers.forEach((l, i) => xs.push(layerForward64(l, slice(m, theta, i), xs[i]!, N)));
  return xs;
}

/** Plain reverse walk from the output cotangent dF; returns J_θᵀ dF. */
function backwardAll(m: Model64, theta: Float64Array, xs: Float64Array[], dF: Float64Array, N: number, P: number): Float64Array {
  const g = new Float64Array(P), lay = paramLayout64(m);
  let dy = dF;
  for (let i = m.layers.length - 1; i >= 0; i--) {
    const { dx, dp } = layerVjp64(m.layers[i]!, slice(m, theta, i), xs[i]!, dy, N);
    g.set(dp, lay.off[i]!);
    dy = dx;
  }
  return g;
}

export function forward64(m: Model64, theta: Float64Array, X: Float64Array, N: number): Float64Array {
  check(m, theta, X, N);
  const xs = forwardAll(m, theta, X, N);
  return xs[xs.length - 1]!;
}

/** Mean loss and accuracy (argmax of the output equals argmax of Y, first maximum wins; as mlp64). */
export function lossAcc64(m: Model64, theta: Float64Array, X: Float64Array, Y: Float64Array, N: number, loss: Loss): { loss: number; acc: number } {
  const { c } = check(m, theta, X, N, Y);
  const F = forward64(m, theta, X, N);
  let correct = 0;
  for (let i = 0; i < N; i++) if (argmax(F, i * c, c) === argmax(Y, i * c, c)) correct++;
  return { loss: batchLoss(loss, F, Y, N, c).loss, acc: correct / N };
}

export function grad64(m: Model64, theta: Float64Array, X: Float64Array, Y: Float64Array, N: number, loss: Loss): Float64Array {
  const { P, c } = check(m, theta, X, N, Y);
  const xs = forwardAll(m, theta, X, N);
  return backwardAll(m, theta, xs, batchLoss(loss, xs[xs.length - 1]!, Y, N, c).G, N, P);
}

/** Output tangents J v ([N, c]): the jvp walk with zero input tangent. */
export function jvp64(m: Model64, theta: Float64Array, X: Float64Array, N: number, v: Float64Array): Float64Array {
  const { P } = check(m, theta, X, N);
  expectLen('v', v, P);
  const xs = forwardAll(m, theta, X, N);
  return jvpWalk(m, theta, xs, v, N);
}

function jvpWalk(m: Model64, theta: Float64Array, xs: Float64Array[], v: Float64Array, N: number): Float64Array {
  let t: Float64Array = new Float64Array(xs[0]!.length);
  m.layers.forEach((l, i) => { t = layerJvp64(l, slice(m, theta, i), xs[i]!, t, slice(m, v, i), N); });
  return t;
}

/** Jᵀ u (θ-shaped) for an output cotangent u [N, c]. */
export function vjp64(m: Model64, theta: Float64Array, X: Float64Array, N: number, u: Float64Array): Float64Array {
  const { P, c } = check(m, theta, X, N);
  expectLen('u', u, N * c);
  return backwardAll(m, theta, forwardAll(m, theta, X, N), u, N, P);
}

/**
 * Exact H v, forward-over-reverse: the forward and the backward run on dual
 * tensors, θ's tangent seeded with v and the data's with 0; the tangent of
 * the gradient is H v.
 */
export function hvp64(m: Model64, theta: Float64Array, X: Float64Array, Y: Float64Array, N: number, loss: Loss, v: Float64Array): Float64Array {
  const { P, c } = check(m, theta, X, N, Y);
  expectLen('v', v, P);
  const lay = paramLayout64(m);
  const pd = (i: number): Dual64 => ({ v: slice(m, theta, i), t: slice(m, v, i) });
  const xs: Dual64[] = [{ v: X, t: new Float64Array(X.length) }];
  m.layers.forEach((l, i) => xs.push(layerForwardDual64(l, pd(i), xs[i]!, N)));
  const F = xs[xs.length - 1]!;
  const bl = batchLoss(loss, F.v, Y, N, c);
  // Dual loss gradient: value (1/N) ∂ℓ/∂f, tangent (1/N) H_ℓ F.t.
  let dy: Dual64 = { v: bl.G, t: bl.H(F.t) };
  const Hv = new Float64Array(P);
  for (let i = m.layers.length - 1; i >= 0; i--) {
    const { dx, dp } = layerVjpDual64(m.layers[i]!, pd(i), xs[i]!, dy, N);
    Hv.set(dp.t, lay.off[i]!);
    dy = dx;
  }
  return Hv;
}

/** Gauss-Newton product Jᵀ H_ℓ J v (H_ℓ includes the 1/N): jvp of the outputs, loss Hessian, vjp. */
export function gnvp64(m: Model64, theta: Float64Array, X: Float64Array, Y: Float64Array, N: number, loss: Loss, v: Float64Array): Float64Array {
  const { P, c } = check(m, theta, X, N, Y);
  expectLen('v', v, P);
  const xs = forwardAll(m, theta, X, N);
  const Jv = jvpWalk(m, theta, xs, v, N);
  return backwardAll(m, theta, xs, batchLoss(loss, xs[xs.length - 1]!, Y, N, c).H(Jv), N, P);
}

/** (∇L(θ + εv) − ∇L(θ − εv)) / 2ε. */
export function hvpFiniteDiff64(m: Model64, theta: Float64Array, X: Float64Array, Y: Float64Array, N: number, loss: Loss, v: Float64Array, eps = 1e-5): Float64Array {
  const gp = grad64(m, theta.map((t, k) => t + eps * v[k]!), X, Y, N, loss);
  const gm = grad64(m, theta.map((t, k) => t - eps * v[k]!), X, Y, N, loss);
  return gp.map((x, k) => (x - gm[k]!) / (2 * eps));
}

/** Dense P×P matrix (row-major) whose column k is prod(e_k), symmetrised as (A + Aᵀ)/2. Small P only. */
function denseFrom(P: number, prod: (e: Float64Array) => Float64Array): Float64Array {
  const A = new Float64Array(P * P), e = new Float64Array(P);
  for (let k = 0; k < P; k++) {
    e.fill(0); e[k] = 1;
    const col = prod(e);
    for (let r = 0; r < P; r++) A[r * P + k] = col[r]!;
  }
  for (let r = 0; r < P; r++) for (let k = r + 1; k < P; k++) {
    const s = 0.5 * (A[r * P + k]! + A[k * P + r]!);
    A[r * P + k] = s; A[k * P + r] = s;
  }
  return A;
}

/** Explicit Hessian (P HVPs, symmetrised), row-major P×P. */
export function hessian64(m: Model64, theta: Float64Array, X: Float64Array, Y: Float64Array, N: number, loss: Loss): Float64Array {
  return denseFrom(paramCount64(m), (e) => hvp64(m, theta, X, Y, N, loss, e));
}

/** Explicit Gauss-Newton matrix (P GN products, symmetrised), row-major P×P. */
export function gaussNewton64(m: Model64, theta: Float64Array, X: Float64Array, Y: Float64Array, N: number, loss: Loss): Float64Array {
  return denseFrom(paramCount64(m), (e) => gnvp64(m, theta, X, Y, N, loss, e));
}

// ---------------------------------------------------------------- dense symmetric eigensolver

/**
 * Eigenvalues (descending) and eigenvectors (columns of a row-major n×n
 * matrix) of the symmetric n×n row-major A, by cyclic Jacobi rotations.
 * Off-diagonal entries below the rounding level of both their diagonal
 * entries are set to zero (Numerical Recipes' test, from the fourth sweep on),
 * so rank-deficient matrices (Gauss-Newton) converge instead of churning
 * rounding noise; it stops when the off-diagonal mass is ≤ 1e-30 of the total
 * (eigenvalue error ≲ 1e-15·‖A‖_F by Weyl). Independent of core/ts/measure.
 */
export function symEig64(A0: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  expectLen('symEig64 matrix', A0, n * n);
  const A = A0.slice(), V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0, tot = 0;
    for (let p = 0; p < n; p++) for (let q = 0; q < n; q++) { const a2 = A[p * n + q]! ** 2; tot += a2; if (p !== q) off += a2; }
    if (off <= 1e-30 * tot || off < 1e-300) break;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) {
      const apq = A[p * n + q]!;
      if (apq === 0) continue;
      const app = A[p * n + p]!, aqq = A[q * n + q]!, g = 100 * Math.abs(apq);
      if (sweep >= 3 && Math.abs(app) + g === Math.abs(app) && Math.abs(aqq) + g === Math.abs(aqq)) {
        A[p * n + q] = 0; A[q * n + p] = 0;
        continue;
      }
      const th = (aqq - app) / (2 * apq);
      const t = Math.sign(th || 1) / (Math.abs(th) + Math.sqrt(th * th + 1));
      const cs = 1 / Math.sqrt(t * t + 1), sn = t * cs;
      for (let k = 0; k < n; k++) {
        const akp = A[k * n + p]!, akq = A[k * n + q]!;
        A[k * n + p] = cs * akp - sn * akq; A[k * n + q] = sn * akp + cs * akq;
      }
      for (let k = 0; k < n; k++) {
        const apk = A[p * n + k]!, aqk = A[q * n + k]!;
        A[p * n + k] = cs * apk - sn * aqk; A[q * n + k] = sn * apk + cs * aqk;
      }
      for (let k = 0; k < n; k++) {
        const vkp = V[k * n + p]!, vkq = V[k * n + q]!;
        V[k * n + p] = cs * vkp - sn * vkq; V[k * n + q] = sn * vkp + cs * vkq;
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j * n + j]! - A[i * n + i]!);
  const values = Float64Array.from(order, (i) => A[i * n + i]!);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => { for (let k = 0; k < n; k++) vectors[k * n + dst] = V[k * n + src]!; });
  return { values, vectors };
}

// ---------------------------------------------------------------- non-smooth points

/** Where σ′ (relu, hardtanh) or σ″ (elu) jumps. */
export const ACT_KINKS64: Record<Act, number[]> = {
  tanh: [], relu: [0], elu: [0], softplus: [], hardtanh: [-1, 1], gelu: [], swish: [], identity: [],
};

/**
 * How far (θ, X) is from a non-smooth point, and which smooth piece it is on.
 * margin: the smallest distance of an activation input to its kinks, and the
 * smallest gap between a max-pool window's maximum and the largest entry
 * strictly below it. Exact ties (and inputs exactly at a kink) are skipped: at a random point they arise
 * only from saturated units (relu's 0, hardtanh's ±1), which stay tied and
 * carry zero tangent while the activation inputs keep their distance from
 * the kinks, so the route among them does not matter.
 * pattern: for every activation input the number of kinks below it, and for
 * every max-pool output the index it routes to; two points with equal
 * patterns lie on one smooth piece (up to the tie caveat).
 */
export function kinks64(m: Model64, theta: Float64Array, X: Float64Array, N: number): { margin: number; pattern: Int32Array } {
  check(m, theta, X, N);
  const xs = forwardAll(m, theta, X, N);
  let margin = Infinity;
  const pattern: number[] = [];
  m.layers.forEach((l, li) => {
    const x = xs[li]!;
    if (l.kind === 'act') {
      const ks = ACT_KINKS64[l.act];
      for (const a of x) {
        let below = 0;
        // An input exactly at a kink is skipped like an exact tie: without bias
        // it comes from an all-zero receptive field (dead relus upstream), which
        // is exactly zero in f32 too and carries a zero tangent.
        for (const k of ks) { if (a !== k) margin = Math.min(margin, Math.abs(a - k)); if (a > k) below++; }
        pattern.push(below);
      }
    } else if (l.kind === 'maxpool') {
      const s = l.shape;
      for (let b = 0; b < N; b++) for (let c = 0; c < s.C; c++) for (let oh = 0; oh < s.Ho; oh++) for (let ow = 0; ow < s.Wo; ow++) {
        const vals: { v: number; idx: number }[] = [];
        for (let i = 0; i < s.kh; i++) for (let j = 0; j < s.kw; j++) {
          const ih = oh * s.stride + i - s.pad, iw = ow * s.stride + j - s.pad;
          if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
          const idx = ((b * s.C + c) * s.H + ih) * s.W + iw;
          vals.push({ v: x[idx]!, idx });
        }
        let best = vals[0]!;
        for (const e of vals) if (e.v > best.v) best = e;
        let second = -Infinity;
        for (const e of vals) if (e.v < best.v) second = Math.max(second, e.v);
        margin = Math.min(margin, best.v - second);
        pattern.push(best.idx);
      }
    }
  });
  return { margin, pattern: Int32Array.from(pattern) };
}
