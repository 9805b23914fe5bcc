// Float64 reference of BatchNorm in training mode (statistics over the whole
// batch given, biased variance, ε = 1e-5), per channel c of x [N, C, S]. The
// forward and the vjp are written once over dual numbers (value, tangent), so
// the jvp and the R-backward (the vjp's own derivative) come from the same
// code by seeding tangents: the derivatives of μ and σ follow automatically,
// with nothing derived by hand beyond the textbook vjp, which the tests check
// against central finite differences of the forward.
export const EPS64 = 1e-5;

interface D { v: number; t: number }
const d = (v: number, t = 0): D => ({ v, t });
const add = (a: D, b: D): D => d(a.v + b.v, a.t + b.t);
const sub = (a: D, b: D): D => d(a.v - b.v, a.t - b.t);
const mul = (a: D, b: D): D => d(a.v * b.v, a.t * b.v + a.v * b.t);
const scale = (a: D, s: number): D => d(a.v * s, a.t * s);
const rsqrt = (a: D): D => { const r = 1 / Math.sqrt(a.v); return d(r, -0.5 * r * r * r * a.t); };

type Duals = { v: Float64Array; t: Float64Array };
const at = (x: Duals, i: number): D => d(x.v[i]!, x.t[i]!);
const zeros = (n: number): Duals => ({ v: new Float64Array(n), t: new Float64Array(n) });
const put = (x: Duals, i: number, a: D) => { x.v[i] = a.v; x.t[i] = a.t; };

/** μ, 1/σ and x̂ of channel c over its N·S values (indices idx). */
function stats(x: Duals, idx: number[]): { rs: D; xh: D[] } {
  const n = idx.length;
  let s = d(0);
  for (const i of idx) s = add(s, at(x, i));
  const mu = scale(s, 1 / n);
  let v = d(0);
  for (const i of idx) { const e = sub(at(x, i), mu); v = add(v, mul(e, e)); }
  const rs = rsqrt(add(scale(v, 1 / n), d(EPS64)));
  return { rs, xh: idx.map((i) => mul(sub(at(x, i), mu), rs)) };
}

function channel(C: number, S: number, N: number, c: number): number[] {
  const idx: number[] = [];
  for (let b = 0; b < N; b++) for (let s = 0; s < S; s++) idx.push((b * C + c) * S + s);
  return idx;
}

/** y = γ x̂ + β over duals; p = [γ (C), β (C)]. */
function bnForwardDual64(C: number, S: number, N: number, p: Duals, x: Duals): Duals {
  const y = zeros(x.v.length);
  for (let c = 0; c < C; c++) {
    const idx = channel(C, S, N, c), { xh } = stats(x, idx);
    idx.forEach((i, k) => put(y, i, add(mul(at(p, c), xh[k]!), at(p, C + c))));
  }
  return y;
}

/** dx = (γ/σ)(dy − mean dy − x̂ mean(dy x̂)), dp = [Σ dy x̂, Σ dy], over duals. */
export function bnVjpDual64(C: number, S: number, N: number, p: Duals, x: Duals, dy: Duals): { dx: Duals; dp: Duals } {
  const dx = zeros(x.v.length), dp = zeros(2 * C);
  for (let c = 0; c < C; c++) {
    const idx = channel(C, S, N, c), n = idx.length, { rs, xh } = stats(x, idx);
    let sdy = d(0), sdyx = d(0);
    idx.forEach((i, k) => { sdy = add(sdy, at(dy, i)); sdyx = add(sdyx, mul(at(dy, i), xh[k]!)); });
    put(dp, c, sdyx);
    put(dp, C + c, sdy);
    const gs = mul(at(p, c), rs);
    idx.forEach((i, k) => put(dx, i, mul(gs, sub(sub(at(dy, i), scale(sdy, 1 / n)), mul(xh[k]!, scale(sdyx, 1 / n))))));
  }
  return { dx, dp };
}

const plain = (v: Float64Array): Duals => ({ v, t: new Float64Array(v.length) });

export const bnForward64 = (C: number, S: number, N: number, p: Float64Array, x: Float64Array) => bnForwardDual64(C, S, N, plain(p), plain(x)).v;
export const bnJvp64 = (C: number, S: number, N: number, p: Float64Array, x: Float64Array, tx: Float64Array, tp: Float64Array) =>
  bnForwardDual64(C, S, N, { v: p, t: tp }, { v: x, t: tx }).t;
export function bnVjp64(C: number, S: number, N: number, p: Float64Array, x: Float64Array, dy: Float64Array) {
  const r = bnVjpDual64(C, S, N, plain(p), plain(x), plain(dy));
  return { dx: r.dx.v, dp: r.dp.v };
}
