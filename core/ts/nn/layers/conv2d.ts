// Conv2d (nn.Conv2d, cross-correlation, zero padding), W [Cout, Cin, kh, kw].
// Conv is bilinear in (x, W), so three products give every pass:
//   forward    y = conv(x, W) + b
//   backward   dx = convᵀ(dy, W),  gW (+)= dy ⋆ x,  gb (+)= Σ dy
//   tangent    ry = conv(x, V) + c + conv(rx, W)
//   R-backward rdx = convᵀ(rdy, W) + convᵀ(dy, V),  (Hv)_W (+)= rdy ⋆ x + dy ⋆ rx,
//              (Hv)_b (+)= Σ rdy   (Gauss-Newton drops convᵀ(dy, V) and dy ⋆ rx)
import { convShape } from '../../backend/checks.js';
import type { Buf, ConvShape } from '../../backend/types.js';
import { paramView, type Layer, type LayerIO, type ParamTensor, type PassCtx, type Shape } from '../layer.js';

/** The fused max pool's cotangent and routes in place of the full-size one (ModelPlan.unpooled; only the first conv, so only dweights read it). */
const unpool = (io: LayerIO, which: 'dy' | 'rdy') => (io.unpool ? { unpool: { src: io.unpool[which], route: io.unpool.route } } : {});

export interface ConvSpec {
  out: number;
  kh: number;
  kw?: number;
  stride?: number;
  pad?: number | 'same';
  bias: boolean;
}

export class Conv2d implements Layer {
  readonly kind = 'conv';
  readonly params: ParamTensor[];
  readonly outShape: Shape;
  readonly torch: string;
  readonly shape: ConvShape;
  readonly w: ParamTensor;
  readonly bias: ParamTensor | null;

  constructor(readonly index: number, readonly inShape: Shape, spec: ConvSpec, off: number) {
    if (inShape.length !== 3) throw new Error(`layer ${index} (Conv2d) takes [C, H, W] inputs, got shape [${inShape}]: use an image dataset or an npz with [N, C, H, W] arrays`);
    const [Cin, H, W] = inShape;
    this.shape = convShape({ Cin, H, W, Cout: spec.out, kh: spec.kh, kw: spec.kw, stride: spec.stride, pad: spec.pad });
    const s = this.shape;
    this.outShape = [s.Cout, s.Ho, s.Wo];
    this.w = { name: `${index}.weight`, shape: [s.Cout, Cin, s.kh, s.kw], off, size: s.Cout * Cin * s.kh * s.kw };
    this.bias = spec.bias ? { name: `${index}.bias`, shape: [s.Cout], off: off + this.w.size, size: s.Cout } : null;
    this.params = this.bias ? [this.w, this.bias] : [this.w];
    const k = s.kh === s.kw ? `${s.kh}` : `(${s.kh}, ${s.kw})`;
    const pad = spec.pad === 'same' ? ", padding='same'" : s.padH ? `, padding=${s.padH}` : '';
    this.torch = `nn.Conv2d(${Cin}, ${s.Cout}, ${k}${s.stride > 1 ? `, stride=${s.stride}` : ''}${pad}${spec.bias ? '' : ', bias=False'})`;
  }

  forward(c: PassCtx, io: LayerIO, theta: Buf): void {
    c.backend.conv({ mode: 'forward', shape: this.shape, B: c.b, K: c.K, x: io.x, w: paramView(theta, this.w, c.P), y: io.y,
      bias: this.bias ? paramView(theta, this.bias, c.P) : undefined, ...(io.act ? { act: io.act } : {}), ...(io.pool ? { pool: io.pool } : {}) });
  }

  backward(c: PassCtx, io: LayerIO, theta: Buf, grad: Buf | null, accumulate: boolean): void {
    if (grad) {
      c.backend.conv({ mode: 'dweight', shape: this.shape, B: c.b, K: c.K, x: io.x, w: paramView(grad, this.w, c.P), y: io.dy,
        bias: this.bias ? paramView(grad, this.bias, c.P) : undefined, accumulate, ...unpool(io, 'dy') });
    }
    if (io.dx) c.backend.conv({ mode: 'dinput', shape: this.shape, B: c.b, K: c.K, x: io.dx, w: paramView(theta, this.w, c.P), y: io.dy });
  }

  tangent(c: PassCtx, io: LayerIO, theta: Buf, v: Buf): void {
    c.backend.conv({ mode: 'forward', shape: this.shape, B: c.b, K: c.K, x: io.x, w: paramView(v, this.w, c.P), y: io.ry,
      bias: this.bias ? paramView(v, this.bias, c.P) : undefined });
    if (io.rx) c.backend.conv({ mode: 'forward', shape: this.shape, B: c.b, K: c.K, x: io.rx, w: paramView(theta, this.w, c.P), y: io.ry, accumulate: true });
  }

  rBackward(c: PassCtx, io: LayerIO, theta: Buf, v: Buf, out: Buf, accumulate: boolean, gaussNewton: boolean): void {
    const gw = paramView(out, this.w, c.P);
    c.backend.conv({ mode: 'dweight', shape: this.shape, B: c.b, K: c.K, x: io.x, w: gw, y: io.rdy,
      bias: this.bias ? paramView(out, this.bias, c.P) : undefined, accumulate, ...unpool(io, 'rdy') });
    if (!gaussNewton && io.rx) c.backend.conv({ mode: 'dweight', shape: this.shape, B: c.b, K: c.K, x: io.rx, w: gw, y: io.dy, accumulate: true });
    if (!io.rdx) return;
    c.backend.conv({ mode: 'dinput', shape: this.shape, B: c.b, K: c.K, x: io.rdx, w: paramView(theta, this.w, c.P), y: io.rdy });
    if (!gaussNewton) c.backend.conv({ mode: 'dinput', shape: this.shape, B: c.b, K: c.K, x: io.rdx, w: paramView(v, this.w, c.P), y: io.dy, accumulate: true });
  }
}
