// Independent float64 reference for MLP loss, gradient, Hessian-vector and
// Gauss-Newton-vector products. Deliberately naive (per-example loops, no
// batching tricks) so it shares no structure with the GPU engine it checks.

export type Act = 'tanh' | 'relu' | 'elu' | 'softplus' | 'hardtanh' | 'gelu' | 'swish' | 'identity';
export type Loss = 'mse' | 'ce';
export interface Mlp64 { sizes: number[]; act: Act; bias: boolean }

// ---------------------------------------------------------------- erf / erfc

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const INV_SQRT_PI = 0.5641895835477563;
const INV_SQRT_2PI = 0.3989422804014327;

// Series with all-positive terms: erf(x) = 2/√π e^{-x²} Σ 2ⁿ x^{2n+1} / (2n+1)!!.
// Unlike the alternating Maclaurin series it has no cancellation, so it stays
// at a few ulp up to the |x| = 2 switch point.
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x, sum = x;
  for (let n = 0; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 3);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

// erfc(x) = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated
// by the modified Lentz method. Gives erfc with full *relative* accuracy in the
// tail, which 1 − erf cannot. Converges for all x > 0 but slowly near 0
// (~700 terms at x = 0.5, ~60 at x = 2), hence the switch points below.
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x, C = x, D = 0;
  for (let n = 1; n < 5000; n++) {
    const an = n / 2;
    D = x + an * D; if (D === 0) D = tiny; D = 1 / D;
    C = x + an / C; if (C === 0) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  // Split x² = z² + (x−z)(x+z) with z = x rounded to 1/16, so z² is exact and
  // the rounding error of x·x is not amplified by exp (Cody's trick).
  const z = Math.trunc(x * 16) / 16;
  return INV_SQRT_PI * Math.exp(-z * z) * Math.exp(-(x - z) * (x + z)) / f;
}

export function erf64(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2) return erfSeries(x);
  if (ax > 6) return Math.sign(x); // erfc(6) ≈ 2e-17 < ulp(1)/2
  const r = 1 - erfcContinuedFraction(ax);
  return x < 0 ? -r : r;
}

export function erfc64(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc64(-x);
  if (x < 0.5) return 1 - erfSeries(x); // erfc > 0.48 here: no cancellation
  if (x > 27) return 0; // underflows
  return erfcContinuedFraction(x);
}

// ---------------------------------------------------------------- activations

function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** [σ(x), σ'(x), σ''(x)] */
export function act64(a: Act, x: number): [number, number, number] {
  switch (a) {
    case 'identity': return [x, 1, 0];
    case 'tanh': { const t = Math.tanh(x); const d = 1 - t * t; return [t, d, -2 * t * d]; }
    case 'relu': return x > 0 ? [x, 1, 0] : [0, 0, 0];
    case 'elu': { if (x > 0) return [x, 1, 0]; const e = Math.exp(x); return [Math.expm1(x), e, e]; }
    case 'softplus': {
      const s = sigmoid(x);
      // log(1+e^x) = max(x,0) + log1p(e^{-|x|}) never overflows nor loses the tail.
      return [Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), s, s * (1 - s)];
    }
    case 'hardtanh':
      if (x <= -1) return [-1, 0, 0];
      if (x >= 1) return [1, 0, 0];
      return [x, 1, 0];
    case 'gelu': {
      // Φ via erfc keeps relative accuracy for very negative x.
      const Phi = 0.5 * erfc64(-x * Math.SQRT1_2);
      const phi = INV_SQRT_2PI * Math.exp(-0.5 * x * x);
      return [x * Phi, Phi + x * phi, phi * (2 - x * x)];
    }
    case 'swish': {
      const s = sigmoid(x), ds = s * (1 - s);
      return [x * s, s + x * ds, ds * (2 + x * (1 - 2 * s))];
    }
  }
  throw new Error(`unknown activation ${String(a)}`);
}

// ---------------------------------------------------------------- layout

interface Layout { wOff: number[]; bOff: number[]; P: number } // index l-1 for layer l

function layout(m: Mlp64): Layout {
  const wOff: number[] = [], bOff: number[] = [];
  let p = 0;
  for (let l = 1; l < m.sizes.length; l++) {
    const nin = m.sizes[l - 1]!, nout = m.sizes[l]!;
    wOff.push(p); p += nout * nin;
    bOff.push(m.bias ? p : -1); if (m.bias) p += nout;
  }
  return { wOff, bOff, P: p };
}

export function paramCount64(m: Mlp64): number { return layout(m).P; }

function checkShapes(m: Mlp64, theta: Float64Array, X: Float64Array, N: number, Y?: Float64Array): Layout {
  const lay = layout(m);
  if (m.sizes.length < 2) throw new Error('mlp64: need at least input and output size');
  if (theta.length !== lay.P) throw new Error(`mlp64: theta has ${theta.length} entries, expected ${lay.P}`);
  if (X.length !== N * m.sizes[0]!) throw new Error(`mlp64: X has ${X.length} entries, expected ${N}×${m.sizes[0]}`);
  const c = m.sizes[m.sizes.length - 1]!;
  if (Y && Y.length !== N * c) throw new Error(`mlp64: Y has ${Y.length} entries, expected ${N}×${c}`);
  return lay;
}

// ---------------------------------------------------------------- per-example passes

/** Per-example trace: a[l], h[l] for l = 0..L (a[0] unused, h[0] = x, h[L] = a[L] = f). */
interface Trace { a: Float64Array[]; h: Float64Array[]; d1: Float64Array[]; d2: Float64Array[] }

function traceOne(m: Mlp64, lay: Layout, theta: Float64Array, X: Float64Array, i: number): Trace {
  const L = m.sizes.length - 1, d = m.sizes[0]!;
  const a: Float64Array[] = [new Float64Array(0)], h: Float64Array[] = [X.slice(i * d, (i + 1) * d)];
  const d1: Float64Array[] = [new Float64Array(0)], d2: Float64Array[] = [new Float64Array(0)];
  for (let l = 1; l <= L; l++) {
    const nin = m.sizes[l - 1]!, nout = m.sizes[l]!, W = lay.wOff[l - 1]!, B = lay.bOff[l - 1]!;
    const al = new Float64Array(nout), hl = new Float64Array(nout);
    const s1 = new Float64Array(nout), s2 = new Float64Array(nout);
    for (let o = 0; o < nout; o++) {
      let s = B >= 0 ? theta[B + o]! : 0;
      for (let k = 0; k < nin; k++) s += theta[W + o * nin + k]! * h[l - 1]![k]!;
      al[o] = s;
      if (l < L) { const [v, g1, g2] = act64(m.act, s); hl[o] = v; s1[o] = g1; s2[o] = g2; }
      else hl[o] = s;
    }
    a.push(al); h.push(hl); d1.push(s1); d2.push(s2);
  }
  return { a, h, d1, d2 };
}

/** Pre-activations of all hidden layers for all examples (for kink-avoidance in tests). */
export function hiddenPreacts64(m: Mlp64, theta: Float64Array, X: Float64Array, N: number): number[] {
  const lay = checkShapes(m, theta, X, N), out: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = traceOne(m, lay, theta, X, i);
    for (let l = 1; l < m.sizes.length - 1; l++) out.push(...t.a[l]!);
  }
  return out;
}

/** Per-example loss ℓ, its gradient g = ∂ℓ/∂f and Hessian-times-u closure. */
function lossParts(loss: Loss, f: Float64Array, y: Float64Array) {
  const c = f.length;
  if (loss === 'mse') {
    let l = 0; const g = new Float64Array(c);
    for (let j = 0; j < c; j++) { const r = f[j]! - y[j]!; l += 0.5 * r * r; g[j] = r; }
    return { l, g, H: (u: Float64Array) => u.slice() };
  }
  let mx = -Infinity;
  for (let j = 0; j < c; j++) mx = Math.max(mx, f[j]!);
  let se = 0;
  for (let j = 0; j < c; j++) se += Math.exp(f[j]! - mx);
  const lse = mx + Math.log(se);
  const p = new Float64Array(c), g = new Float64Array(c);
  let l = lse;
  for (let j = 0; j < c; j++) { p[j] = Math.exp(f[j]! - lse); l -= y[j]! * f[j]!; g[j] = p[j]! - y[j]!; }
  const H = (u: Float64Array) => { // (diag(p) − ppᵀ) u
    let pu = 0;
    for (let j = 0; j < c; j++) pu += p[j]! * u[j]!;
    const r = new Float64Array(c);
    for (let j = 0; j < c; j++) r[j] = p[j]! * (u[j]! - pu);
    return r;
  };
  return { l, g, H };
}

function argmax(x: Float64Array, off: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (x[off + j]! > x[off + best]!) best = j;
  return best;
}

// ---------------------------------------------------------------- public API

export function forward64(m: Mlp64, theta: Float64Array, X: Float64Array, N: number): Float64Array {
  const lay = checkShapes(m, theta, X, N), L = m.sizes.length - 1, c = m.sizes[L]!;
  const out = new Float64Array(N * c);
  for (let i = 0; i < N; i++) out.set(traceOne(m, lay, theta, X, i).h[L]!, i * c);
  return out;
}

export function lossAcc64(m: Mlp64, theta: Float64Array, X: Float64Array, Y: Float64Array, N: number, loss: Loss): { loss: number; acc: number } {
  checkShapes(m, theta, X, N, Y);
  const c = m.sizes[m.sizes.length - 1]!, F = forward64(m, theta, X, N);
  let total = 0, correct = 0;
  for (let i = 0; i < N; i++) {
    total += lossParts(loss, F.subarray(i * c, (i + 1) * c), Y.subarray(i * c, (i + 1) * c)).l;
    if (argmax(F, i * c, c) === argmax(Y, i * c, c)) correct++;
  }
  return { loss: total / N, acc: correct / N };
}

/** Jᵀ-style backward pass: accumulates δ_l h_{l-1}ᵀ into out, starting from δ_L. */
function backward(m: Mlp64, lay: Layout, theta: Float64Array, t: Trace, deltaL: Float64Array, out: Float64Array): void {
  const L = m.sizes.length - 1;
  let delta = deltaL;
  for (let l = L; l >= 1; l--) {
    const nin = m.sizes[l - 1]!, nout = m.sizes[l]!, W = lay.wOff[l - 1]!, B = lay.bOff[l - 1]!;
    const hp = t.h[l - 1]!;
    for (let o = 0; o < nout; o++) {
      for (let k = 0; k < nin; k++) out[W + o * nin + k]! += delta[o]! * hp[k]!;
      if (B >= 0) out[B + o]! += delta[o]!;
    }
    if (l > 1) {
      const prev = new Float64Array(nin);
      for (let k = 0; k < nin; k++) {
        let s = 0;
        for (let o = 0; o < nout; o++) s += theta[W + o * nin + k]! * delta[o]!;
        prev[k] = t.d1[l - 1]![k]! * s;
      }
      delta = prev;
    }
  }
}

export function grad64(m: Mlp64, theta: Float64Array, X: Float64Array, Y: Float64Array, N: number, loss: Loss): Float64Array {
  const lay = checkShapes(m, theta, X, N, Y), L = m.sizes.length - 1, c = m.sizes[L]!;
  const g = new Float64Array(lay.P);
  for (let i = 0; i < N; i++) {
    const t = traceOne(m, lay, theta, X, i);
    const lp = lossParts(loss, t.h[L]!, Y.subarray(i * c, (i + 1) * c));
    backward(m, lay, theta, t, lp.g.map((x) => x / N), g);
  }
  return g;
}

/** Forward tangent pass: R{a_l}, R{h_l} for direction v (R{h_0} = 0). */
function tangent(m: Mlp64, lay: Layout, theta: Float64Array, v: Float64Array, t: Trace) {
  const L = m.sizes.length - 1;
  const Ra: Float64Array[] = [new Float64Array(0)], Rh: Float64Array[] = [new Float64Array(m.sizes[0]!)];
  for (let l = 1; l <= L; l++) {
    const nin = m.sizes[l - 1]!, nout = m.sizes[l]!, W = lay.wOff[l - 1]!, B = lay.bOff[l - 1]!;
    const ra = new Float64Array(nout), rh = new Float64Array(nout);
    for (let o = 0; o < nout; o++) {
      let s = B >= 0 ? v[B + o]! : 0;
      for (let k = 0; k < nin; k++) s += v[W + o * nin + k]! * t.h[l - 1]![k]! + theta[W + o * nin + k]! * Rh[l - 1]![k]!;
      ra[o] = s;
      rh[o] = l < L ? t.d1[l]![o]! * s : s;
    }
    Ra.push(ra); Rh.push(rh);
  }
  return { Ra, Rh };
}

/** Exact Hv by Pearlmutter's R-operator (forward-over-reverse), layer by layer. */
export function hvp64(m: Mlp64, theta: Float64Array, X: Float64Array, Y: Float64Array, N: number, loss: Loss, v: Float64Array): Float64Array {
  const lay = checkShapes(m, theta, X, N, Y), L = m.sizes.length - 1, c = m.sizes[L]!;
  if (v.length !== lay.P) throw new Error(`mlp64: v has ${v.length} entries, expected ${lay.P}`);
  const Hv = new Float64Array(lay.P);
  for (let i = 0; i < N; i++) {
    const t = traceOne(m, lay, theta, X, i);
    const { Ra, Rh } = tangent(m, lay, theta, v, t);
    const lp = lossParts(loss, t.h[L]!, Y.subarray(i * c, (i + 1) * c));
    let delta = lp.g.map((x) => x / N);
    let Rdelta = lp.H(Ra[L]!).map((x) => x / N);
    for (let l = L; l >= 1; l--) {
      const nin = m.sizes[l - 1]!, nout = m.sizes[l]!, W = lay.wOff[l - 1]!, B = lay.bOff[l - 1]!;
      const hp = t.h[l - 1]!, Rhp = Rh[l - 1]!;
      for (let o = 0; o < nout; o++) {
        for (let k = 0; k < nin; k++) Hv[W + o * nin + k]! += Rdelta[o]! * hp[k]! + delta[o]! * Rhp[k]!;
        if (B >= 0) Hv[B + o]! += Rdelta[o]!;
      }
      if (l === 1) break;
      const nd = new Float64Array(nin), nRd = new Float64Array(nin);
      for (let k = 0; k < nin; k++) {
        let WtD = 0, VtD = 0, WtRD = 0;
        for (let o = 0; o < nout; o++) {
          const w = theta[W + o * nin + k]!, vw = v[W + o * nin + k]!;
          WtD += w * delta[o]!; VtD += vw * delta[o]!; WtRD += w * Rdelta[o]!;
        }
        const s1 = t.d1[l - 1]![k]!, s2 = t.d2[l - 1]![k]!;
        nd[k] = s1 * WtD;
        nRd[k] = s2 * Ra[l - 1]![k]! * WtD + s1 * (VtD + WtRD);
      }
      delta = nd; Rdelta = nRd;
    }
  }
  return Hv;
}

/** Gauss-Newton product (1/N) Σ_i J_iᵀ H_ℓ J_i v: tangent pass, loss Hessian, plain backward. */
export function gnvp64(m: Mlp64, theta: Float64Array, X: Float64Array, Y: Float64Array, N: number, loss: Loss, v: Float64Array): Float64Array {
  const lay = checkShapes(m, theta, X, N, Y), L = m.sizes.length - 1, c = m.sizes[L]!;
  if (v.length !== lay.P) throw new Error(`mlp64: v has ${v.length} entries, expected ${lay.P}`);
  const Gv = new Float64Array(lay.P);
  for (let i = 0; i < N; i++) {
    const t = traceOne(m, lay, theta, X, i);
    const { Ra } = tangent(m, lay, theta, v, t);
    const lp = lossParts(loss, t.h[L]!, Y.subarray(i * c, (i + 1) * c));
    backward(m, lay, theta, t, lp.H(Ra[L]!).map((x) => x / N), Gv);
  }
  return Gv;
}

export function hvpFiniteDiff64(m: Mlp64, theta: Float64Array, X: Float64Array, Y: Float64Array, N: number, loss: Loss, v: Float64Array, eps = 1e-5): Float64Array {
  const tp = theta.map((x, k) => x + eps * v[k]!), tm = theta.map((x, k) => x - eps * v[k]!);
  const gp = grad64(m, tp, X, Y, N, loss), gm = grad64(m, tm, X, Y, N, loss);
  return gp.map((x, k) => (x - gm[k]!) / (2 * eps));
}

/** Dense P×P Hessian (row-major), column k = H e_k. Small P only. */
export function hessian64(m: Mlp64, theta: Float64Array, X: Float64Array, Y: Float64Array, N: number, loss: Loss): Float64Array {
  const P = paramCount64(m), H = new Float64Array(P * P), e = new Float64Array(P);
  for (let k = 0; k < P; k++) {
    e.fill(0); e[k] = 1;
    const col = hvp64(m, theta, X, Y, N, loss, e);
    for (let r = 0; r < P; r++) H[r * P + k] = col[r]!;
  }
  return H;
}
