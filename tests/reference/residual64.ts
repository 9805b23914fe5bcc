// Float64 reference of a residual block y = f(x; p) + s(x) (core/ts/nn/layers/residual.ts),
// composed from the reference's own per-layer passes over the inner list
// (tests/reference/layers64.ts) and a shortcut written out directly: the
// identity, or option A, x[:, :, ::2, ::2] with its channels placed after
// C'/4 zero channels of C'. Shares no code with the engine's block walk.
import { layerForward64, layerForwardDual64, layerJvp64, layerShapes64, layerVjp64, layerVjpDual64, paramLayout64, type Dual64, type Layer64 } from './layers64.js';

export interface Residual64 { kind: 'residual'; inner: Layer64[]; shortcut: 'identity' | 'optionA'; inShape: number[] }

export function residualParams64(l: Residual64): number {
  return paramLayout64({ layers: l.inner, inShape: l.inShape }).P;
}

/** Output shape of the block; throws when the shortcut does not fit the inner list. */
export function residualShape64(l: Residual64): number[] {
  const shapes = layerShapes64({ layers: l.inner, inShape: l.inShape });
  const out = shapes[shapes.length - 1]!, want = shortcutShape(l);
  if (out.join() !== want.join()) throw new Error(`residual64: inner list gives [${out}], the ${l.shortcut} shortcut [${want}]`);
  return out;
}

function shortcutShape(l: Residual64): number[] {
  const [C, H, W] = l.inShape as [number, number, number];
  return l.shortcut === 'identity' ? [C, H, W] : [2 * C, Math.ceil(H / 2), Math.ceil(W / 2)];
}

/** s(x) (transpose false) or sᵀ(y) (transpose true) over N examples. */
function shortcut64(l: Residual64, N: number, src: Float64Array, transpose: boolean): Float64Array {
  if (l.shortcut === 'identity') return src.slice();
  const [C, H, W] = l.inShape as [number, number, number];
  const [Co, Ho, Wo] = shortcutShape(l) as [number, number, number], lo = Math.floor(Co / 4);
  const dst = new Float64Array(transpose ? N * C * H * W : N * Co * Ho * Wo);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) {
    const xi = ((n * C + c) * H + 2 * i) * W + 2 * j, yi = ((n * Co + c + lo) * Ho + i) * Wo + j;
    if (transpose) dst[xi] = src[yi]!; else dst[yi] = src[xi]!;
  }
  return dst;
}

const add = (a: Float64Array, b: Float64Array) => a.map((x, i) => x + b[i]!);

function slices(l: Residual64, p: Float64Array): Float64Array[] {
  const lay = paramLayout64({ layers: l.inner, inShape: l.inShape });
  return l.inner.map((_, i) => p.subarray(lay.off[i]!, lay.off[i]! + lay.nW[i]! + lay.nB[i]!));
}

function innerForward(l: Residual64, p: Float64Array, x: Float64Array, N: number): Float64Array[] {
  const ps = slices(l, p), xs = [x];
  l.inner.forEach((li, i) => xs.push(layerForward64(li, ps[i]!, xs[i]!, N)));
  return xs;
}

export function residualForward64(l: Residual64, p: Float64Array, x: Float64Array, N: number): Float64Array {
  const xs = innerForward(l, p, x, N);
  return add(xs[xs.length - 1]!, shortcut64(l, N, x, false));
}

export function residualVjp64(l: Residual64, p: Float64Array, x: Float64Array, dy: Float64Array, N: number): { dx: Float64Array; dp: Float64Array } {
  const ps = slices(l, p), xs = innerForward(l, p, x, N), dp = new Float64Array(p.length);
  const lay = paramLayout64({ layers: l.inner, inShape: l.inShape });
  let d = dy;
  for (let i = l.inner.length - 1; i >= 0; i--) {
    const r = layerVjp64(l.inner[i]!, ps[i]!, xs[i]!, d, N);
    dp.set(r.dp, lay.off[i]!);
    d = r.dx;
  }
  return { dx: add(d, shortcut64(l, N, dy, true)), dp };
}

export function residualJvp64(l: Residual64, p: Float64Array, x: Float64Array, tx: Float64Array, tp: Float64Array, N: number): Float64Array {
  const ps = slices(l, p), tps = slices(l, tp), xs = innerForward(l, p, x, N);
  let t = tx;
  l.inner.forEach((li, i) => { t = layerJvp64(li, ps[i]!, xs[i]!, t, tps[i]!, N); });
  return add(t, shortcut64(l, N, tx, false));
}

/** vjp over duals (the R-backward): the inner list's dual vjps; the shortcut is linear and fixed. */
export function residualVjpDual64(l: Residual64, p: Dual64, x: Dual64, dy: Dual64, N: number): { dx: Dual64; dp: Dual64 } {
  const pv = slices(l, p.v), pt = slices(l, p.t), lay = paramLayout64({ layers: l.inner, inShape: l.inShape });
  const xs: Dual64[] = [x];
  l.inner.forEach((li, i) => xs.push(layerForwardDual64(li, { v: pv[i]!, t: pt[i]! }, xs[i]!, N)));
  const dp: Dual64 = { v: new Float64Array(p.v.length), t: new Float64Array(p.v.length) };
  let d = dy;
  for (let i = l.inner.length - 1; i >= 0; i--) {
    const r = layerVjpDual64(l.inner[i]!, { v: pv[i]!, t: pt[i]! }, xs[i]!, d, N);
    dp.v.set(r.dp.v, lay.off[i]!);
    dp.t.set(r.dp.t, lay.off[i]!);
    d = r.dx;
  }
  return { dx: { v: add(d.v, shortcut64(l, N, dy.v, true)), t: add(d.t, shortcut64(l, N, dy.t, true)) }, dp };
}
