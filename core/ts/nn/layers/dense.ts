// Dense (nn.Linear): y = x Wᵀ + b over rows, W [out, in] (PyTorch layout).
//   forward    y = x Wᵀ + b
//   backward   dx = dy W,  gW (+)= dyᵀ x,  gb (+)= Σ_rows dy
//   tangent    ry = x Vᵀ + c + rx Wᵀ
//   R-backward rdx = dy V + rdy W,  (Hv)_W (+)= rdyᵀ x + dyᵀ rx,  (Hv)_b (+)= Σ rdy
//              (Gauss-Newton drops dy V and dyᵀ rx)
// Every product is one matmul layout (abt, ab, atb). The planner may fuse the
// activation after this layer (`next`: forward and tangent write σ(a) and
// σ′(a) ⊙ ra in the epilogue, keeping a and ra in y and ry) and the one
// before it (`prev`: backward writes dy W into dx and σ′(a_prev) ⊙ dy W into
// the activation's input cotangent), so an MLP runs the same dispatches as a
// hand-fused MLP.
import type { ActName } from '../../backend/activations.js';
import type { Buf, View } from '../../backend/types.js';
import { paramView, type Layer, type LayerIO, type ParamTensor, type PassCtx, type Shape } from '../layer.js';

/** Views of the fused neighbours, filled in by the objective from the plan. */
export interface DenseFusion {
  /** The activation after this layer: its output views (σ(a), σ′(a) ⊙ ra). */
  next?: { act: ActName; y: View; ry: View };
  /** The activation before this layer: its input a and the cotangent view at a. */
  prev?: { act: ActName; a: View; da: View; rda: View | null };
}

export class Dense implements Layer {
  readonly kind = 'dense';
  readonly params: ParamTensor[];
  readonly outShape: Shape;
  readonly torch: string;
  readonly inDim: number;
  readonly w: ParamTensor;
  readonly bias: ParamTensor | null;

  constructor(readonly index: number, readonly inShape: Shape, readonly outDim: number, hasBias: boolean, off: number) {
    if (inShape.length !== 1) throw new Error(`layer ${index} (Linear) takes flat inputs, got shape [${inShape}]: put a Flatten before it`);
    this.inDim = inShape[0];
    this.outShape = [outDim];
    this.w = { name: `${index}.weight`, shape: [outDim, this.inDim], off, size: outDim * this.inDim };
    this.bias = hasBias ? { name: `${index}.bias`, shape: [outDim], off: off + this.w.size, size: outDim } : null;
    this.params = this.bias ? [this.w, this.bias] : [this.w];
    this.torch = `nn.Linear(${this.inDim}, ${outDim}${hasBias ? '' : ', bias=False'})`;
  }

  forward(c: PassCtx, io: LayerIO & DenseFusion, theta: Buf): void {
    const f = io.next;
    c.backend.matmul({
      layout: 'abt', M: c.b, N: this.outDim, L: this.inDim, K: c.K, a: io.x, b: paramView(theta, this.w, c.P),
      bias: this.bias ? paramView(theta, this.bias, c.P) : undefined,
      ...(f ? { c: f.y, out2: io.y, act: f.act, applyAct: true } : { c: io.y }),
    });
  }

  backward(c: PassCtx, io: LayerIO & DenseFusion, theta: Buf, grad: Buf | null, accumulate: boolean): void {
    if (grad) {
      c.backend.matmul({ layout: 'atb', M: this.outDim, N: this.inDim, L: c.b, K: c.K, a: io.dy, b: io.x, c: paramView(grad, this.w, c.P), accumulate });
      if (this.bias) c.backend.colsum({ M: c.b, N: this.outDim, K: c.K, d: io.dy, out: paramView(grad, this.bias, c.P), accumulate });
    }
    if (!io.dx) return;
    const p = io.prev;
    c.backend.matmul({
      layout: 'ab', M: c.b, N: this.inDim, L: this.outDim, K: c.K, a: io.dy, b: paramView(theta, this.w, c.P),
      // io.x is σ(p.a) as the forward wrote it: a backend may take σ′ from it.
      ...(p ? { c: p.da, out2: io.dx, act: p.act, dact: p.a, dactOut: io.x } : { c: io.dx }),
    });
  }

  tangent(c: PassCtx, io: LayerIO & DenseFusion, theta: Buf, v: Buf): void {
    const f = io.next;
    // With the activation fused, ra accumulates in the activation's ry; the
    // last product's epilogue moves it to ry (out2) and leaves σ′(a) ⊙ ra.
    const target = f ? f.ry : io.ry;
    const finish = f ? { out2: io.ry, act: f.act, dact: io.y, dactOut: f.y } : {};
    const base = { layout: 'abt' as const, M: c.b, N: this.outDim, L: this.inDim, K: c.K, c: target };
    const bias = this.bias ? paramView(v, this.bias, c.P) : undefined;
    if (!io.rx) {
      c.backend.matmul({ ...base, a: io.x, b: paramView(v, this.w, c.P), bias, ...finish });
    } else {
      c.backend.matmul({ ...base, a: io.x, b: paramView(v, this.w, c.P), bias });
      c.backend.matmul({ ...base, a: io.rx, b: paramView(theta, this.w, c.P), accumulate: true, ...finish });
    }
  }

  rBackward(c: PassCtx, io: LayerIO & DenseFusion, theta: Buf, v: Buf, out: Buf, accumulate: boolean, gaussNewton: boolean): void {
    const gw = paramView(out, this.w, c.P);
    c.backend.matmul({ layout: 'atb', M: this.outDim, N: this.inDim, L: c.b, K: c.K, a: io.rdy, b: io.x, c: gw, accumulate });
    if (!gaussNewton && io.rx) c.backend.matmul({ layout: 'atb', M: this.outDim, N: this.inDim, L: c.b, K: c.K, a: io.dy, b: io.rx, c: gw, accumulate: true });
    if (this.bias) c.backend.colsum({ M: c.b, N: this.outDim, K: c.K, d: io.rdy, out: paramView(out, this.bias, c.P), accumulate });
    if (!io.rdx) return;
    const base = { layout: 'ab' as const, M: c.b, N: this.inDim, L: this.outDim, K: c.K };
    const p = io.prev;
    if (gaussNewton) {
      // GN through a fused activation: σ′(a_prev) ⊙ rdy W straight into its input.
      c.backend.matmul({ ...base, a: io.rdy, b: paramView(theta, this.w, c.P), ...(p?.rda ? { c: p.rda, act: p.act, dact: p.a, dactOut: io.x } : { c: io.rdx }) });
    } else {
      c.backend.matmul({ ...base, a: io.dy, b: paramView(v, this.w, c.P), c: io.rdx });
      c.backend.matmul({ ...base, a: io.rdy, b: paramView(theta, this.w, c.P), c: io.rdx, accumulate: true });
    }
  }
}
