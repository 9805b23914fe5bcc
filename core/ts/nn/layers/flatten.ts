// Flatten: [C, H, W] → [C·H·W] in PyTorch's (C, H, W) order. NCHW rows are
// already laid out that way, so the objective aliases its output to its input
// and the passes do nothing.
import type { Layer, Shape } from '../layer.js';
import { sizeOf } from '../layer.js';

export class Flatten implements Layer {
  readonly kind = 'flatten';
  readonly params = [];
  readonly outShape: Shape;
  readonly torch = 'nn.Flatten()';
  constructor(readonly index: number, readonly inShape: Shape) {
    this.outShape = [sizeOf(inShape)];
  }
  forward(): void {}
  backward(): void {}
  tangent(): void {}
  rBackward(): void {}
}
