// Float64 reference for the convolution and pooling products, written as the
// definitions read (one output element at a time, scatter form where that is
// the plain definition) so it shares no structure with the kernels' gather
// and implicit-GEMM forms. Shapes are one model's: x [B, Cin, H, W],
// w [Cout, Cin, kh, kw], y [B, Cout, Ho, Wo].
import type { ConvShape, PoolShape } from '../../core/ts/backend/types.js';

type Arr = ArrayLike<number>;

/** y = conv(x, w) + bias (cross-correlation, zero padding). */
export function conv64(s: ConvShape, B: number, x: Arr, w: Arr, bias?: Arr): Float64Array {
  const y = new Float64Array(B * s.Cout * s.Ho * s.Wo);
  for (let b = 0; b < B; b++) for (let co = 0; co < s.Cout; co++) for (let oh = 0; oh < s.Ho; oh++) for (let ow = 0; ow < s.Wo; ow++) {
    let acc = bias ? bias[co] : 0;
    for (let ci = 0; ci < s.Cin; ci++) for (let i = 0; i < s.kh; i++) for (let j = 0; j < s.kw; j++) {
      const ih = oh * s.stride + i - s.padH, iw = ow * s.stride + j - s.padW;
      if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
      acc += x[((b * s.Cin + ci) * s.H + ih) * s.W + iw] * w[((co * s.Cin + ci) * s.kh + i) * s.kw + j];
    }
    y[((b * s.Cout + co) * s.Ho + oh) * s.Wo + ow] = acc;
  }
  return y;
}

/** dx = convᵀ(dy, w): each output term scattered back to the input it read. */
export function convDinput64(s: ConvShape, B: number, dy: Arr, w: Arr): Float64Array {
  const dx = new Float64Array(B * s.Cin * s.H * s.W);
  for (let b = 0; b < B; b++) for (let co = 0; co < s.Cout; co++) for (let oh = 0; oh < s.Ho; oh++) for (let ow = 0; ow < s.Wo; ow++) {
    const g = dy[((b * s.Cout + co) * s.Ho + oh) * s.Wo + ow];
    for (let ci = 0; ci < s.Cin; ci++) for (let i = 0; i < s.kh; i++) for (let j = 0; j < s.kw; j++) {
      const ih = oh * s.stride + i - s.padH, iw = ow * s.stride + j - s.padW;
      if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
      dx[((b * s.Cin + ci) * s.H + ih) * s.W + iw] += g * w[((co * s.Cin + ci) * s.kh + i) * s.kw + j];
    }
  }
  return dx;
}

/** dw = Σ_b dy ⋆ x, db = Σ dy over examples and positions. */
export function convDweight64(s: ConvShape, B: number, dy: Arr, x: Arr): { dw: Float64Array; db: Float64Array } {
  const dw = new Float64Array(s.Cout * s.Cin * s.kh * s.kw), db = new Float64Array(s.Cout);
  for (let b = 0; b < B; b++) for (let co = 0; co < s.Cout; co++) for (let oh = 0; oh < s.Ho; oh++) for (let ow = 0; ow < s.Wo; ow++) {
    const g = dy[((b * s.Cout + co) * s.Ho + oh) * s.Wo + ow];
    db[co] += g;
    for (let ci = 0; ci < s.Cin; ci++) for (let i = 0; i < s.kh; i++) for (let j = 0; j < s.kw; j++) {
      const ih = oh * s.stride + i - s.padH, iw = ow * s.stride + j - s.padW;
      if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
      dw[((co * s.Cin + ci) * s.kh + i) * s.kw + j] += g * x[((b * s.Cin + ci) * s.H + ih) * s.W + iw];
    }
  }
  return { dw, db };
}

/**
 * The input index each pooling output reads, with its weight: max pooling
 * routes to the first maximum of its window (row-major), average pooling
 * spreads 1/(kh·kw) over the window (padding counts, as PyTorch's default).
 */
function poolTerms(kind: 'max' | 'avg', s: PoolShape, B: number, x: Arr): { out: number; inp: number; wt: number }[] {
  const terms: { out: number; inp: number; wt: number }[] = [];
  for (let b = 0; b < B; b++) for (let c = 0; c < s.C; c++) for (let oh = 0; oh < s.Ho; oh++) for (let ow = 0; ow < s.Wo; ow++) {
    const out = ((b * s.C + c) * s.Ho + oh) * s.Wo + ow;
    let best = -Infinity, arg = -1;
    for (let i = 0; i < s.kh; i++) for (let j = 0; j < s.kw; j++) {
      const ih = oh * s.stride + i - s.pad, iw = ow * s.stride + j - s.pad;
      if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
      const inp = ((b * s.C + c) * s.H + ih) * s.W + iw;
      if (kind === 'avg') terms.push({ out, inp, wt: 1 / (s.kh * s.kw) });
      else if (x[inp] > best) { best = x[inp]; arg = inp; }
    }
    if (kind === 'max') terms.push({ out, inp: arg, wt: 1 });
  }
  return terms;
}

export function pool64(kind: 'max' | 'avg', s: PoolShape, B: number, x: Arr): Float64Array {
  return poolTangent64(kind, s, B, x, x);
}

/** J(x)·src: the pooling of src along the routes fixed by x. */
export function poolTangent64(kind: 'max' | 'avg', s: PoolShape, B: number, x: Arr, src: Arr): Float64Array {
  const out = new Float64Array(B * s.C * s.Ho * s.Wo);
  for (const t of poolTerms(kind, s, B, x)) out[t.out] += t.wt * src[t.inp];
  return out;
}

/** J(x)ᵀ·src: every output's cotangent sent back along its routes. */
export function poolBackward64(kind: 'max' | 'avg', s: PoolShape, B: number, x: Arr, src: Arr): Float64Array {
  const out = new Float64Array(B * s.C * s.H * s.W);
  for (const t of poolTerms(kind, s, B, x)) out[t.inp] += t.wt * src[t.out];
  return out;
}
