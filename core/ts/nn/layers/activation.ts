// A standalone activation y = σ(x), element-wise:
//   forward  y = σ(x)               backward   dx = σ′(x) ⊙ dy
//   tangent  ry = σ′(x) ⊙ rx        R-backward rdx = σ″(x) ⊙ rx ⊙ dy + σ′(x) ⊙ rdy
//                                   (Gauss-Newton, and σ″ = 0: σ′(x) ⊙ rdy)
// After a dense layer the planner fuses it into that layer's matmul epilogue
// (forward, tangent) and into the next dense layer's backward; the objective
// then skips these passes.
import type { ActName } from '../../backend/activations.js';
import { sizeOf, type Layer, type LayerIO, type PassCtx, type Shape } from '../layer.js';

/** σ(x) as the forward wrote it, where y still holds it (LayerIO.yKept): a backend may read σ′, σ″ off it. */
const kept = (io: LayerIO) => (io.yKept ? { aOut: io.y } : {});

export class Activation implements Layer {
  readonly kind = 'act';
  readonly params = [];
  readonly outShape: Shape;
  readonly torch: string;
  constructor(readonly index: number, readonly inShape: Shape, readonly act: ActName) {
    this.outShape = inShape;
    this.torch = `${TORCH_ACT[act]}()`;
  }

  private n(c: PassCtx): number {
    return c.b * sizeOf(this.inShape);
  }

  forward(c: PassCtx, io: LayerIO): void {
    c.backend.activation({ act: this.act, mode: 'apply', perModel: this.n(c), K: c.K, x: io.x, out: io.y });
  }

  backward(c: PassCtx, io: LayerIO): void {
    if (io.dx) c.backend.activation({ act: this.act, mode: 'dmul', perModel: this.n(c), K: c.K, x: io.dy, a: io.x, out: io.dx, ...kept(io) });
  }

  tangent(c: PassCtx, io: LayerIO): void {
    if (io.rx) c.backend.activation({ act: this.act, mode: 'dmul', perModel: this.n(c), K: c.K, x: io.rx, a: io.x, out: io.ry, ...kept(io) });
  }

  rBackward(c: PassCtx, io: LayerIO, _t: unknown, _v: unknown, _o: unknown, _acc: boolean, gaussNewton: boolean): void {
    if (!io.rdx || !io.rx) return;
    if (gaussNewton || PIECEWISE_LINEAR.has(this.act)) {
      c.backend.activation({ act: this.act, mode: 'dmul', perModel: this.n(c), K: c.K, x: io.rdy, a: io.x, out: io.rdx, ...kept(io) });
    } else {
      c.backend.rdelta({ act: this.act, perModel: this.n(c), K: c.K, a: io.x, ra: io.rx, g: io.dy, s: io.rdy, out: io.rdx, ...kept(io) });
    }
  }
}

/**
 * Activations with σ″ = 0 wherever σ′ is defined (relu, hardtanh, identity):
 * their R-backward σ″·R{x}·dy + σ′·R{dy} is σ′·R{dy} exactly, the 'dmul'
 * op (as the Gauss-Newton product), which reads three tensors instead of
 * rdelta's five and skips the dead σ″ term. (The only differences from
 * rdelta's 0·R{x}·dy + σ′·R{dy}: the sign of a zero result may differ, and
 * rdelta gives NaN where R{x}·dy overflows to ∞; neither changes a finite
 * HVP's value.) Every other activation keeps rdelta.
 */
export const PIECEWISE_LINEAR: ReadonlySet<ActName> = new Set<ActName>(['relu', 'hardtanh', 'identity']);

/** The PyTorch module of each activation (nn.Sequential exports). */
export const TORCH_ACT: Record<ActName, string> = {
  identity: 'nn.Identity', tanh: 'nn.Tanh', relu: 'nn.ReLU', elu: 'nn.ELU', softplus: 'nn.Softplus',
  hardtanh: 'nn.Hardtanh', gelu: 'nn.GELU', swish: 'nn.SiLU',
};
