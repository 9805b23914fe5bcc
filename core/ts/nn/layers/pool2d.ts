// MaxPool2d and AvgPool2d. Both are linear in their input once max pooling's
// routing is fixed by the forward input (the first maximum of each window,
// as PyTorch), so the tangent is the pooling of rx along those routes, the
// backward its transpose, and the R-backward the same transpose of rdy: a
// piecewise-linear map has no second-order term. When the planner fuses the
// ReLU before a max pool (ModelPlan.convFused), x is that ReLU's output and
// the passes include its derivative (the op's reluMask).
import { poolShape } from '../../backend/checks.js';
import type { PoolShape, View } from '../../backend/types.js';
import type { Layer, LayerIO, PassCtx, Shape } from '../layer.js';

export interface PoolSpec {
  /** Window (square unless kw is given); 'global' covers the whole image. */
  k: number | 'global';
  kw?: number;
  stride?: number;
  pad?: number;
}

export class Pool2d implements Layer {
  readonly params = [];
  readonly outShape: Shape;
  readonly torch: string;
  readonly shape: PoolShape;
  readonly kind: 'maxpool' | 'avgpool';

  constructor(readonly index: number, readonly inShape: Shape, readonly pool: 'max' | 'avg', spec: PoolSpec) {
    this.kind = pool === 'max' ? 'maxpool' : 'avgpool';
    const name = pool === 'max' ? 'MaxPool2d' : 'AvgPool2d';
    if (inShape.length !== 3) throw new Error(`layer ${index} (${name}) takes [C, H, W] inputs, got shape [${inShape}]`);
    const [C, H, W] = inShape;
    const global = spec.k === 'global';
    const kh = global ? H : (spec.k as number), kw = global ? W : spec.kw ?? kh;
    this.shape = poolShape({ C, H, W, kh, kw, stride: global ? Math.max(H, W) : spec.stride ?? kh, pad: spec.pad ?? 0 });
    const s = this.shape;
    this.outShape = [C, s.Ho, s.Wo];
    const k = kh === kw ? `${kh}` : `(${kh}, ${kw})`;
    this.torch = `nn.${name}(${k}${s.stride !== kh ? `, stride=${s.stride}` : ''}${s.pad ? `, padding=${s.pad}` : ''})`;
  }

  forward(c: PassCtx, io: LayerIO): void {
    c.backend.pool({ kind: this.pool, mode: 'forward', shape: this.shape, B: c.b, K: c.K, x: io.x, dst: io.y });
  }

  backward(c: PassCtx, io: LayerIO): void {
    if (io.dx) c.backend.pool({ kind: this.pool, mode: 'backward', shape: this.shape, B: c.b, K: c.K, x: io.x, src: io.dy, dst: io.dx, ...mask(io) });
  }

  tangent(c: PassCtx, io: LayerIO): void {
    if (io.rx) c.backend.pool({ kind: this.pool, mode: 'tangent', shape: this.shape, B: c.b, K: c.K, x: io.x, src: io.rx, dst: io.ry, ...mask(io) });
  }

  rBackward(c: PassCtx, io: LayerIO): void {
    if (io.rdx) c.backend.pool({ kind: this.pool, mode: 'backward', shape: this.shape, B: c.b, K: c.K, x: io.x, src: io.rdy, dst: io.rdx, ...mask(io) });
  }
}

/** A fused ReLU before the pool (ModelPlan.convFused): ReLU is piecewise linear, so its R-backward is this backward too. */
const mask = (io: LayerIO): { reluMask?: true; route?: View } => (io.route ? { route: io.route } : io.reluMask ? { reluMask: true } : {});
