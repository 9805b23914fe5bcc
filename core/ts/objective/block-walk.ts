// The walk of a residual block's inner list (nn/layers/residual.ts) for K
// batched models over physical batches of at most B examples: the same four
// passes as the model's walk, down and up the inner list, then the shortcut
// added at the ends (option A: its 1×1 convolution; the identity: a vector
// add). Its boundary 0 and n are the block's own views (the objective's
// buffers), so the inner list reads the block's input and writes its output
// directly; the boundaries in between are this walk's.
// No fusion inside a block: every inner layer runs its own passes, which a
// fused walk only reproduces bit for bit.
import type { Backend, Buf, View } from '../backend/types.js';
import { sizeOf, type BlockWalker, type LayerIO, type PassCtx } from '../nn/layer.js';
import { Residual } from '../nn/layers/residual.js';

interface Inner { x: Buf; d: Buf | null; r: Buf | null; rd: Buf | null; size: number }

export class BlockWalk implements BlockWalker {
  /** Boundaries 1..n−1 of the inner list (index 0 unused). */
  private readonly bounds: (Inner | null)[] = [null];
  /** live[i]: inner boundary i depends on θ (the block's input does when `inLive`). */
  private readonly live: boolean[];
  /** The option-A shortcut's 0/1 weight (the identity needs none). */
  private readonly S: Buf | null;
  private readonly children = new Map<number, BlockWalk>();
  readonly owned: Buf[] = [];

  constructor(private readonly backend: Backend, private readonly block: Residual, K: number, private readonly B: number, inLive: boolean) {
    const layers = block.inner.layers;
    this.live = [inLive];
    layers.forEach((l, j) => this.live.push(this.live[j] || l.params.length > 0));
    const alloc = (n: number, what: string) => {
      const b = backend.alloc(n, `block${block.index}.${what}`);
      this.owned.push(b);
      return b;
    };
    for (let i = 1; i < layers.length; i++) {
      const size = sizeOf(layers[i - 1].outShape), n = K * B * size;
      this.bounds.push({ x: alloc(n, `x[${i}]`), size, ...(this.live[i] ? { d: alloc(n, `d[${i}]`), r: alloc(n, `r[${i}]`), rd: alloc(n, `rd[${i}]`) } : { d: null, r: null, rd: null }) });
    }
    this.S = block.shortcut === 'identity' ? null : alloc(block.shortcutShape.Cout * block.shortcutShape.Cin, 'shortcut');
    if (this.S) backend.write(this.S, block.shortcutWeight());
    layers.forEach((l, j) => {
      if (l instanceof Residual) {
        const child = new BlockWalk(backend, l, K, B, this.live[j]);
        this.children.set(j, child);
        this.owned.push(...child.owned);
      }
    });
  }

  private view(i: number, which: 'x' | 'd' | 'r' | 'rd'): View | null {
    const b = this.bounds[i]!, buf = b[which];
    return buf ? { buf, off: 0, bs: this.B * b.size } : null;
  }

  /** Inner layer j's views: the block's own at the list's two ends. */
  private io(j: number, outer: LayerIO): LayerIO {
    const n = this.block.inner.layers.length;
    const at = (i: number, which: 'x' | 'd' | 'r' | 'rd', inEnd: View | null, outEnd: View | null) => (i === 0 ? inEnd : i === n ? outEnd : this.view(i, which));
    const io: LayerIO = {
      x: at(j, 'x', outer.x, outer.y)!, y: at(j + 1, 'x', outer.x, outer.y)!,
      dx: at(j, 'd', outer.dx, outer.dy), dy: at(j + 1, 'd', outer.dx, outer.dy)!,
      rx: at(j, 'r', outer.rx, outer.ry), ry: at(j + 1, 'r', outer.rx, outer.ry)!,
      rdx: at(j, 'rd', outer.rdx, outer.rdy), rdy: at(j + 1, 'rd', outer.rdx, outer.rdy)!,
      // The last inner layer's y is the block's, into which the shortcut is added.
      yKept: j + 1 < n,
    };
    const child = this.children.get(j);
    if (child) io.block = child;
    return io;
  }

  /** dst (+)= S src (forward: the shortcut) or Sᵀ src (transpose), accumulating into what the inner list wrote. */
  private shortcut(c: PassCtx, src: View, dst: View, transpose: boolean): void {
    const shape = this.block.shortcutShape;
    if (this.block.shortcut === 'identity') {
      // S = I: dst += src, element by element (the 1×1 convolution's C² products per position
      // gave the same sums, adding exact zeros; resnet20 spent ~6% of its passes there).
      const n = c.b * shape.Cin * shape.H * shape.W;
      const contiguous = src.bs === n && dst.bs === n;
      for (let z = 0; z < (contiguous ? 1 : c.K); z++) {
        c.backend.vector({ n: contiguous ? c.K * n : n, y: dst.buf, yOff: dst.off + z * dst.bs, x: src.buf, xOff: src.off + z * src.bs, alpha: 1, beta: 1 });
      }
      return;
    }
    const w = { buf: this.S!, off: 0, bs: 0 };
    if (transpose) c.backend.conv({ mode: 'dinput', shape, B: c.b, K: c.K, x: dst, w, y: src, accumulate: true });
    else c.backend.conv({ mode: 'forward', shape, B: c.b, K: c.K, x: src, w, y: dst, accumulate: true });
  }

  forward(c: PassCtx, outer: LayerIO, theta: Buf): void {
    this.block.inner.layers.forEach((l, j) => l.forward(c, this.io(j, outer), theta));
    this.shortcut(c, outer.x, outer.y, false);
  }

  backward(c: PassCtx, outer: LayerIO, theta: Buf, grad: Buf | null, accumulate: boolean): void {
    const layers = this.block.inner.layers;
    for (let j = layers.length - 1; j >= 0; j--) if (this.live[j + 1]) layers[j].backward(c, this.io(j, outer), theta, grad, accumulate);
    if (outer.dx) this.shortcut(c, outer.dy, outer.dx, true);
  }

  tangent(c: PassCtx, outer: LayerIO, theta: Buf, v: Buf): void {
    this.block.inner.layers.forEach((l, j) => { if (this.live[j + 1]) l.tangent(c, this.io(j, outer), theta, v); });
    if (outer.rx) this.shortcut(c, outer.rx, outer.ry, false);
  }

  rBackward(c: PassCtx, outer: LayerIO, theta: Buf, v: Buf, out: Buf, accumulate: boolean, gaussNewton: boolean): void {
    const layers = this.block.inner.layers;
    for (let j = layers.length - 1; j >= 0; j--) if (this.live[j + 1]) layers[j].rBackward(c, this.io(j, outer), theta, v, out, accumulate, gaussNewton);
    if (outer.rdx) this.shortcut(c, outer.rdy, outer.rdx, true);
  }
}
