// BatchNorm1d over [d] / BatchNorm2d over [C, H, W] in training mode: each
// channel is normalised by the mean and biased variance of its B·H·W values
// in the PHYSICAL batch (the reference's "ghost batch": a smaller
// --physical-batch-size changes the loss), ε = 1e-5, then y = γ x̂ + β.
// PyTorch names: '<i>.weight' (γ, init 1), '<i>.bias' (β, init 0).
//
// With n values per channel, x̂ = (x − μ)/σ and the projection
//   P(u) = (u − mean(u) − x̂ · mean(x̂ u)) / σ     (self-adjoint)
// every pass, per channel, is:
//   forward    y  = γ x̂ + β
//   backward   dx = P(γ dy),  gγ (+)= Σ dy x̂,  gβ (+)= Σ dy
//   tangent    ry = γ P(rx) + v_γ x̂ + v_β        (rx̂ = P(rx): μ and σ move with x)
//   R-backward, differentiating backward along (rx, v), with g = γ dy, h = γ rdy + v_γ dy:
//     rdx = P(h) − [ rx̂ · mean(x̂ g) + x̂ · mean(rx̂ g) + dx · mean(x̂ rx) ] / σ
//     (Hv)_γ (+)= Σ rdy x̂ + Σ dy rx̂,  (Hv)_β (+)= Σ rdy
// (the bracket is P's own derivative along rx: R{1/σ} = −mean(x̂ rx)/σ², R{x̂} = rx̂.)
//
// Gauss-Newton: G v = Jᵀ H_ℓ J v with J the Jacobian of the network outputs
// in θ, BatchNorm included. The tangent pass computes J v exactly; the
// R-backward must then apply Jᵀ to rdy alone, i.e. the plain backward with dy
// replaced by rdy: rdx = P(γ rdy), (Hv)_γ = Σ rdy x̂, (Hv)_β = Σ rdy. Every
// term where dy multiplies a tangent (v_γ dy in h, the bracket, Σ dy rx̂) is
// BatchNorm's own second derivative contracted with the loss gradient, which
// is what Gauss-Newton leaves out, so those go.
//
// The op (BatchNormOp) recomputes μ and σ from x in every mode: per channel
// that is two sweeps over x, cheaper than carrying statistics between passes.
//
// Running statistics (running_mean, running_var, num_batches_tracked) are
// PyTorch buffers, not θ: the loss never reads them (the reference never
// switches to eval). A training gradient's forward updates them as train()
// does (nn/bn-running.ts); checkpoints carry them (io/torch-state-dict.ts).
import type { Buf } from '../../backend/types.js';
import { paramView, sizeOf, type Layer, type LayerIO, type ParamTensor, type PassCtx, type Shape } from '../layer.js';

export const BN_EPS = 1e-5;

/** A PyTorch buffer of a layer (not part of θ). */
export interface BufferTensor {
  name: string;
  shape: number[];
  dtype: 'F32' | 'I64';
  /** PyTorch's initial value of every element. */
  init: number;
}

export class BatchNorm implements Layer {
  readonly kind = 'batchnorm';
  readonly params: ParamTensor[];
  readonly outShape: Shape;
  readonly torch: string;
  /** Channels (features for BatchNorm1d). */
  readonly C: number;
  /** Values per channel per example (H·W; 1 for BatchNorm1d). */
  readonly S: number;
  readonly w: ParamTensor;

  constructor(readonly index: number, readonly inShape: Shape, off: number) {
    if (inShape.length !== 1 && inShape.length !== 3) throw new Error(`layer ${index} (BatchNorm) takes [d] or [C, H, W] inputs, got shape [${inShape}]`);
    this.C = inShape[0];
    this.S = sizeOf(inShape) / this.C;
    this.outShape = inShape;
    this.w = { name: `${index}.weight`, shape: [this.C], off, size: this.C };
    this.params = [this.w, { name: `${index}.bias`, shape: [this.C], off: off + this.C, size: this.C }];
    this.torch = `nn.BatchNorm${inShape.length === 1 ? '1' : '2'}d(${this.C})`;
  }

  /** The running statistics PyTorch's module holds, named like the parameters. */
  get buffers(): BufferTensor[] {
    const pre = this.w.name.slice(0, -'weight'.length);
    return [
      { name: `${pre}running_mean`, shape: [this.C], dtype: 'F32', init: 0 },
      { name: `${pre}running_var`, shape: [this.C], dtype: 'F32', init: 1 },
      { name: `${pre}num_batches_tracked`, shape: [], dtype: 'I64', init: 0 },
    ];
  }

  private base(c: PassCtx, io: LayerIO, theta: Buf) {
    return { B: c.b, C: this.C, S: this.S, K: c.K, eps: BN_EPS, x: io.x, w: paramView(theta, this.w, c.P) };
  }

  forward(c: PassCtx, io: LayerIO, theta: Buf): void {
    const running = c.running?.view(this);
    c.backend.batchnorm({ ...this.base(c, io, theta), mode: 'forward', out: io.y, ...(running ? { running } : {}) });
  }

  backward(c: PassCtx, io: LayerIO, theta: Buf, grad: Buf | null, accumulate: boolean): void {
    if (!grad && !io.dx) return;
    c.backend.batchnorm({ ...this.base(c, io, theta), mode: 'backward', dy: io.dy, ...(io.dx ? { out: io.dx } : {}),
      ...(grad ? { g: paramView(grad, this.w, c.P) } : {}), accumulate });
  }

  tangent(c: PassCtx, io: LayerIO, theta: Buf, v: Buf): void {
    c.backend.batchnorm({ ...this.base(c, io, theta), mode: 'tangent', v: paramView(v, this.w, c.P), out: io.ry, ...(io.rx ? { rx: io.rx } : {}) });
  }

  rBackward(c: PassCtx, io: LayerIO, theta: Buf, v: Buf, out: Buf, accumulate: boolean, gaussNewton: boolean): void {
    c.backend.batchnorm({ ...this.base(c, io, theta), mode: 'rbackward', v: paramView(v, this.w, c.P), rdy: io.rdy,
      ...(gaussNewton ? {} : { dy: io.dy }), ...(io.rx ? { rx: io.rx } : {}), ...(io.rdx ? { out: io.rdx } : {}),
      g: paramView(out, this.w, c.P), accumulate, gaussNewton });
  }
}
