// A residual block y = f(x; w) + s(x): an inner layer list f and a
// parameter-free shortcut s, so a ResNet is still one list walked by one
// objective. The shortcut is the identity, or the CIFAR ResNets' "option A"
// (He et al. 2016, as the widely used PyTorch code writes it):
// F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, C'/4, C'/4)), the input subsampled
// with stride 2 and its channels placed in the middle of C' zero channels.
// Both are linear and fixed, so each is a 1×1 convolution with a constant 0/1
// weight (stride 1 or 2; the walk runs the identity as a plain add): every
// pass adds S· or Sᵀ· to what the inner list's pass gives, and (Hv)_w comes
// from the inner list alone:
//   forward    y = f(x) + S x            backward   dx = J_fᵀ dy + Sᵀ dy
//   tangent    ry = J_f (rx, v) + S rx   R-backward rdx = R{J_fᵀ dy} + Sᵀ rdy
// The inner walk needs activation buffers per physical batch, which layers
// never own: the objective hands the block its walk in io.block.
import { convShape } from '../../backend/checks.js';
import type { Buf, ConvShape } from '../../backend/types.js';
import type { BlockWalker, Layer, LayerIO, ParamTensor, PassCtx, Shape } from '../layer.js';

export type Shortcut = 'identity' | 'optionA';

/** The inner list as buildModel makes it (layers with θ offsets inside the whole model's θ). */
export interface InnerList {
  layers: Layer[];
  outShape: Shape;
}

export class Residual implements Layer {
  readonly kind = 'residual';
  readonly params: ParamTensor[];
  readonly outShape: Shape;
  readonly torch: string;
  /** The shortcut as a 1×1 convolution; its weight is shortcutWeight(). */
  readonly shortcutShape: ConvShape;

  constructor(readonly index: number, readonly inShape: Shape, readonly inner: InnerList, readonly shortcut: Shortcut) {
    const out = inner.outShape;
    this.params = inner.layers.flatMap((l) => l.params);
    this.outShape = out;
    if (inShape.length !== 3 || out.length !== 3) {
      throw new Error(`layer ${index} (residual block) maps [${inShape}] to [${out}]: residual blocks take and give [C, H, W]`);
    }
    const [C, H, W] = inShape, [Co, Ho, Wo] = out;
    if (shortcut === 'identity' && (C !== Co || H !== Ho || W !== Wo)) {
      throw new Error(`layer ${index} (residual block): its layers map [${inShape}] to [${out}], so the identity shortcut does not fit; use the option-A shortcut for a stride-2 channel growth`);
    }
    if (shortcut === 'optionA' && (C + 2 * Math.floor(Co / 4) !== Co || Ho !== Math.ceil(H / 2) || Wo !== Math.ceil(W / 2))) {
      throw new Error(`layer ${index} (residual block): the option-A shortcut needs the layers to halve H and W and double C (C' divisible by 4), got [${inShape}] → [${out}]`);
    }
    this.shortcutShape = convShape({ Cin: C, H, W, Cout: Co, kh: 1, stride: shortcut === 'identity' ? 1 : 2 });
    const sc = shortcut === 'identity' ? 'nn.Identity()' : `LambdaLayer(lambda x: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, ${Co / 4}, ${Co / 4})))`;
    this.torch = `Residual(nn.Sequential(${inner.layers.map((l) => l.torch).join(', ')}), shortcut=${sc})`;
  }

  /** S [C', C, 1, 1]: channel c of the input goes to channel c + pad of the output. */
  shortcutWeight(): Float32Array {
    const s = this.shortcutShape, lo = this.shortcut === 'identity' ? 0 : s.Cout / 4 | 0;
    const w = new Float32Array(s.Cout * s.Cin);
    for (let c = 0; c < s.Cin; c++) w[(c + lo) * s.Cin + c] = 1;
    return w;
  }

  private walker(io: LayerIO): BlockWalker {
    if (!io.block) throw new Error(`layer ${this.index} (residual block) needs its inner walk: run it through ModelObjective`);
    return io.block;
  }

  forward(c: PassCtx, io: LayerIO, theta: Buf): void { this.walker(io).forward(c, io, theta); }
  backward(c: PassCtx, io: LayerIO, theta: Buf, grad: Buf | null, accumulate: boolean): void { this.walker(io).backward(c, io, theta, grad, accumulate); }
  tangent(c: PassCtx, io: LayerIO, theta: Buf, v: Buf): void { this.walker(io).tangent(c, io, theta, v); }
  rBackward(c: PassCtx, io: LayerIO, theta: Buf, v: Buf, out: Buf, accumulate: boolean, gaussNewton: boolean): void {
    this.walker(io).rBackward(c, io, theta, v, out, accumulate, gaussNewton);
  }
}
