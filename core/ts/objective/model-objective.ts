// The training objective of K batched copies of a layer-list model on
// device-resident data: loss and accuracy, gradient, exact Hessian-vector
// product (forward-over-reverse, Pearlmutter's R-operator) and Gauss-Newton
// product, each over the full batch, accumulated over physical batches of at
// most `physicalBatch` examples, so scratch memory is O(physicalBatch ×
// activations), not O(N × activations).
//
// One generic walk (docs/architecture.md, "Models are layer lists"): forward and tangent
// down the list, backward and R-backward up it. Every boundary between
// layers holds its activations x, and where it depends on θ (plan.live) its
// cotangent d, tangent r and R-cotangent rd, each [K][B, size]. The plan's
// fusions let a dense layer compute its neighbouring activation in its
// matmul epilogue; the walk then skips that activation's pass.
import type { Backend, Buf, ConvOp, LossName, MatmulOp, View } from '../backend/types.js';
import type { BnRunning } from '../nn/bn-running.js';
import type { LayerIO, PassCtx } from '../nn/layer.js';
import { Activation, PIECEWISE_LINEAR } from '../nn/layers/activation.js';
import { BatchNorm } from '../nn/layers/batchnorm.js';
import { Conv2d } from '../nn/layers/conv2d.js';
import { Dense, type DenseFusion } from '../nn/layers/dense.js';
import { Residual } from '../nn/layers/residual.js';
import { BlockWalk } from './block-walk.js';
import { boundarySize, type Model } from '../nn/model.js';
import type { DeviceData } from './data.js';
import type { HvpOptions } from './types.js';
import { SlotObjective } from './slot-objective.js';
export type { LossAcc } from './types.js';

export interface ObjectiveOptions {
  loss: LossName;
  /** Number of models batched in every op (θ is K·stride). */
  K?: number;
  /**
   * Values per model in θ, gradients and directions when K > 1 (default P;
   * at least P). A sweep passes alignedStride(P): see there.
   */
  stride?: number;
  /** Examples per pass; the full batch is accumulated over passes. */
  physicalBatch?: number;
  /** First of the 2K scalar slots (loss, accuracy) this objective uses. */
  slotBase?: number;
}

/**
 * P rounded up to a multiple of 4. With this stride model z's views start
 * at z·stride + off, as aligned as off alone: WebGPU picks its vec4 matmul
 * kernels by the alignment of every model's views, and a model batched at
 * stride P (58, say) would get another kernel than alone, summing in another
 * order (the last bit of a sweep member's gradient differed from its run
 * alone). Activations need no padding: a vec4 kernel reads one only where
 * its row length is a multiple of 4, and then so is its stride B·size.
 */
export function alignedStride(P: number): number {
  return Math.ceil(P / 4) * 4;
}

interface Boundary {
  x: Buf | null;
  d: Buf | null;
  r: Buf | null;
  rd: Buf | null;
  size: number;
}

/**
 * Which boundaries' cotangents an HVP's R-backward reads (directly, or
 * through the backward that turns them into one it reads): d[i] is read when
 * layer i − 1's R-backward uses its output cotangent (the dy·V and dyᵀ·rx
 * terms of a dense or conv layer with a live input, an activation's σ″ term;
 * none under Gauss-Newton) or d[i − 1] is read. E.g. cnn-relu's second conv
 * needs no input cotangent in an HVP: the first conv's R-backward takes only
 * its R-cotangent.
 */
export function cotangentsRead(m: Model, gaussNewton: boolean): boolean[] {
  const { layers, plan } = m;
  const usesDy = (j: number): boolean => {
    const l = layers[j];
    if (gaussNewton || !plan.live[j] || plan.convFused.has(j)) return false;
    // A block's backward also writes its inner cotangents, which its R-backward reads.
    // BatchNorm: dy times its tangents (v_γ dy, the statistics' second derivatives).
    if (l instanceof Dense || l instanceof Conv2d || l instanceof Residual || l instanceof BatchNorm) return true;
    return l instanceof Activation && !PIECEWISE_LINEAR.has(l.act);
  };
  const need = [false];
  for (let i = 1; i <= layers.length; i++) need.push(usesDy(i - 1) || need[i - 1]);
  return need;
}

export class ModelObjective extends SlotObjective {
  readonly K: number;
  readonly P: number;
  /** Values per model in K-model θ, gradients and directions (ObjectiveOptions.stride). */
  readonly stride: number;
  readonly B: number;
  readonly loss: LossName;
  private readonly bounds: Boundary[] = [];
  private readonly PE: Buf;
  /** Route codes of each fused max pool (ModelPlan.poolFused), by pool index: [K][B, pooled size]. */
  private readonly routes = new Map<number, Buf>();
  /** needD[gn][i]: an HVP (gn: Gauss-Newton product) reads the cotangent at boundary i (see cotangentsRead). */
  private readonly needD: [boolean[], boolean[]];
  private readonly owned: Buf[] = [];
  /** The inner walks of residual blocks, by layer index. */
  private readonly blocks = new Map<number, BlockWalk>();

  constructor(backend: Backend, readonly model: Model, readonly data: DeviceData, opts: ObjectiveOptions) {
    super(backend, opts.slotBase ?? 0);
    const inSize = boundarySize(model, 0), outSize = model.outShape[0];
    if (inSize !== data.d) {
      throw new Error(`shape mismatch: the model takes inputs of ${inSize} values ([${model.inShape}]) but the data has ${data.d} features; build the model for this dataset`);
    }
    if (outSize !== data.c) throw new Error(`shape mismatch: the model has ${outSize} outputs but the targets have ${data.c} columns`);
    if (model.P === 0) throw new Error('the model has no parameters');
    this.K = opts.K ?? 1;
    this.P = model.P;
    this.stride = opts.stride ?? this.P;
    if (!Number.isInteger(this.stride) || this.stride < this.P) throw new Error(`the models' stride must be an integer of at least P = ${this.P}, got ${opts.stride}`);
    this.loss = opts.loss;
    this.B = Math.min(opts.physicalBatch ?? data.N, data.N);
    if (!Number.isInteger(this.B) || this.B <= 0) throw new Error(`physical batch size must be a positive integer, got ${opts.physicalBatch}`);
    if (!Number.isInteger(this.K) || this.K <= 0) throw new Error(`the number of batched models must be a positive integer, got ${opts.K}`);
    const { live, aliasOf } = model.plan;
    // Aliases point backwards (after a Flatten, after a fused ReLU): the boundary aliased is already there.
    for (let i = 0; i <= model.layers.length; i++) {
      const size = boundarySize(model, i);
      if (aliasOf[i] !== i) { this.bounds.push({ ...this.bounds[aliasOf[i]] }); continue; }
      const buf = (what: string) => {
        const b = backend.alloc(this.K * this.B * size, `${what}[${i}]`);
        this.owned.push(b);
        return b;
      };
      // A ReLU in its conv's epilogue (plan.convAct): its input and output are one x buffer, σ(a).
      const shared = model.plan.convAct.has(i - 1);
      this.bounds.push({
        x: i === 0 ? null : shared ? this.bounds[i - 1].x : buf('x'), size,
        d: live[i] ? buf('d') : null, r: live[i] ? buf('r') : null, rd: live[i] ? buf('rd') : null,
      });
    }
    for (const j of model.plan.poolFused) {
      const b = backend.alloc(this.K * this.B * boundarySize(model, j + 1), `routes[${j}]`);
      this.owned.push(b);
      this.routes.set(j, b);
    }
    model.layers.forEach((l, j) => {
      if (!(l instanceof Residual)) return;
      const walk = new BlockWalk(backend, l, this.K, this.B, live[j]);
      this.blocks.set(j, walk);
      this.owned.push(...walk.owned);
    });
    this.PE = backend.alloc(this.K * 2 * this.B, 'per-example loss');
    this.needD = [cotangentsRead(model, false), cotangentsRead(model, true)];
    this.owned.push(this.PE);
  }

  // ---- views ----------------------------------------------------------------

  private view(buf: Buf, i: number): View {
    return { buf, off: 0, bs: this.B * this.bounds[i].size };
  }

  /** Activations at boundary i: the data rows of this pass at the input (or what Flatten aliases to it). */
  private xv(i: number, r0: number): View {
    const x = this.bounds[i].x;
    return x ? this.view(x, i) : { buf: this.data.X, off: r0 * this.data.d, bs: 0 };
  }

  private opt(which: 'd' | 'r' | 'rd', i: number): View | null {
    const b = this.bounds[i][which];
    return b ? this.view(b, i) : null;
  }

  private need(which: 'd' | 'r' | 'rd', i: number): View {
    return this.opt(which, i)!;
  }

  private io(j: number, r0: number): LayerIO & DenseFusion {
    const io: LayerIO & DenseFusion = {
      x: this.xv(j, r0), y: this.xv(j + 1, r0),
      dx: this.opt('d', j), dy: this.need('d', j + 1), rx: this.opt('r', j), ry: this.need('r', j + 1),
      rdx: this.opt('rd', j), rdy: this.need('rd', j + 1),
      // A top-level boundary is written by one layer's forward only (a block adds its shortcut into its own y, inside).
      yKept: true,
    };
    const { layers, plan } = this.model;
    if (plan.convFused.has(j + 1) || plan.convAct.has(j + 1)) io.act = (layers[j + 1] as Activation).act;
    if (plan.convFused.has(j - 1)) io.reluMask = true;
    const block = this.blocks.get(j);
    if (block) io.block = block;
    const route = (p: number): View => this.view(this.routes.get(p)!, p + 1);
    if (plan.poolFused.has(j)) io.route = route(j);
    if (plan.poolFused.has(j + 2)) io.pool = { dst: this.xv(j + 3, r0), route: route(j + 2) };
    if (plan.unpooled.has(j + 2)) io.unpool = { dy: this.need('d', j + 3), rdy: this.need('rd', j + 3), route: route(j + 2) };
    if (layers[j] instanceof Dense) {
      const next = layers[j + 1];
      if (next instanceof Activation && plan.fusedForward.has(j + 1)) io.next = { act: next.act, y: this.xv(j + 2, r0), ry: this.need('r', j + 2) };
      const prev = layers[j - 1];
      if (prev instanceof Activation && plan.fusedBackward.has(j - 1)) {
        io.prev = { act: prev.act, a: this.xv(j - 1, r0), da: this.need('d', j - 1), rda: this.opt('rd', j - 1) };
      }
    }
    return io;
  }

  private ctx(b: number, running?: BnRunning | null): PassCtx {
    return { backend: this.backend, K: this.K, b, P: this.stride, ...(running ? { running } : {}) };
  }

  // ---- the walk ---------------------------------------------------------------

  private forward(theta: Buf, r0: number, b: number, running?: BnRunning | null): void {
    const c = this.ctx(b, running), { layers, plan } = this.model;
    layers.forEach((l, j) => {
      if (!plan.fusedForward.has(j) && !plan.convFused.has(j) && !plan.convAct.has(j) && !plan.poolFused.has(j)) l.forward(c, this.io(j, r0), theta);
    });
  }

  /** Loss head: d at the output = ∂ℓ/∂f / N, and loss/accuracy sums into the scalar slots. */
  private head(r0: number, b: number): void {
    const n = this.model.layers.length, c = this.data.c, N = this.data.N;
    this.backend.loss({
      loss: this.loss, mode: 'grad', B: b, c, K: this.K,
      f: this.xv(n, r0), y: { buf: this.data.Y, off: r0 * c, bs: 0 },
      d: this.need('d', n), pe: { buf: this.PE, off: 0, bs: 2 * this.B },
      acc: { buf: this.PE, off: this.B, bs: 2 * this.B }, scale: 1 / N,
    });
    this.backend.reduce({ n: b, K: this.K, x: { buf: this.PE, off: 0, bs: 2 * this.B }, slot: this.slot, accumulate: true, scale: 1 / N });
    this.backend.reduce({ n: b, K: this.K, x: { buf: this.PE, off: this.B, bs: 2 * this.B }, slot: this.slot + this.K, accumulate: true, scale: 1 / N });
  }

  private backward(theta: Buf, r0: number, b: number, grad: Buf | null, first: boolean, gaussNewton = false): void {
    const c = this.ctx(b), { layers, plan } = this.model;
    for (let j = layers.length - 1; j >= 0; j--) {
      if (!plan.live[j + 1] || plan.fusedBackward.has(j) || plan.convFused.has(j) || plan.unpooled.has(j)) continue;
      // Without a gradient to accumulate, a backward only makes d[j], which the HVP may not read.
      if (!grad && !this.needD[gaussNewton ? 1 : 0][j] && !this.blocks.has(j)) continue;
      layers[j].backward(c, this.io(j, r0), theta, grad, !first);
    }
  }

  private tangent(theta: Buf, v: Buf, r0: number, b: number): void {
    const c = this.ctx(b), { layers, plan } = this.model;
    layers.forEach((l, j) => { if (plan.live[j + 1] && !plan.fusedForward.has(j) && !plan.convFused.has(j)) l.tangent(c, this.io(j, r0), theta, v); });
  }

  private rBackward(theta: Buf, v: Buf, out: Buf, r0: number, b: number, first: boolean, mode: 'hess' | 'gaussNewton' | 'fisher'): void {
    const c = this.ctx(b), { layers, plan } = this.model, n = layers.length;
    this.backend.loss({
      loss: this.loss, mode: mode === 'fisher' ? 'fisher' : 'hess', B: b, c: this.data.c, K: this.K,
      f: this.xv(n, r0), y: { buf: this.data.Y, off: r0 * this.data.c, bs: 0 },
      d: this.need('rd', n), rf: this.need('r', n), scale: 1 / this.data.N,
    });
    // The Fisher product is Gauss-Newton's walk (Jᵀ · J v) with ggᵀ in the loss head.
    const gaussNewton = mode !== 'hess';
    for (let j = n - 1; j >= 0; j--) {
      if (!plan.live[j + 1] || plan.convFused.has(j) || plan.unpooled.has(j)) continue;
      // Gauss-Newton through a fused activation: the dense layer after it already wrote rd at its input.
      if (gaussNewton && plan.fusedBackward.has(j)) continue;
      layers[j].rBackward(c, this.io(j, r0), theta, v, out, !first, gaussNewton);
    }
  }

  private passes(fn: (r0: number, b: number, first: boolean) => void): void {
    for (let r0 = 0; r0 < this.data.N; r0 += this.B) fn(r0, Math.min(this.B, this.data.N - r0), r0 === 0);
  }

  private checkVec(v: Buf, what: string): void {
    if (v.length < this.K * this.stride) throw new Error(`${what} '${v.label}' holds ${v.length} values, expected K×${this.stride === this.P ? 'P' : 'stride'} = ${this.K}×${this.stride}`);
  }

  // ---- the objective ------------------------------------------------------------

  /** Enqueue a full-batch loss/accuracy evaluation (no read-back). */
  encodeLossAcc(theta: Buf): void {
    this.checkVec(theta, 'θ');
    this.backend.clearScalars(this.slot, 2 * this.K);
    this.passes((r0, b) => { this.forward(theta, r0, b); this.head(r0, b); });
  }

  /** Enqueue full-batch gradient into `grad` (K·stride), with loss/accuracy into the slots. */
  encodeGrad(theta: Buf, grad: Buf, running?: BnRunning | null): void {
    this.checkVec(theta, 'θ');
    this.checkVec(grad, 'gradient');
    if (running && this.K !== 1) throw new Error('BatchNorm running statistics are tracked for one model at a time (K = 1)');
    this.backend.clearScalars(this.slot, 2 * this.K);
    this.passes((r0, b, first) => {
      this.forward(theta, r0, b, running);
      if (running) running.numBatchesTracked++;
      this.head(r0, b);
      this.backward(theta, r0, b, grad, first);
    });
  }

  /**
   * Enqueue outs[j] = H vs[j] (G vs[j] with gaussNewton, F vs[j] with fisher) for every j, full
   * batch. The forward and backward passes are shared by all vectors of a
   * physical batch; `grad`, when given, also receives the gradient.
   */
  encodeHvp(theta: Buf, vs: Buf[], outs: Buf[], opts: HvpOptions = {}): void {
    if (vs.length !== outs.length) throw new Error('hvp: need one output per vector');
    this.checkVec(theta, 'θ');
    vs.forEach((v) => this.checkVec(v, 'direction'));
    outs.forEach((o) => this.checkVec(o, 'hvp output'));
    for (const o of outs) if (o.id === theta.id || vs.some((v) => v.id === o.id)) throw new Error('hvp: outputs must not alias θ or the directions');
    this.backend.clearScalars(this.slot, 2 * this.K);
    this.passes((r0, b, first) => {
      this.forward(theta, r0, b);
      this.head(r0, b);
      this.backward(theta, r0, b, opts.grad ?? null, first, !!(opts.gaussNewton || opts.fisher));
      vs.forEach((v, j) => {
        this.tangent(theta, v, r0, b);
        this.rBackward(theta, v, outs[j], r0, b, first, opts.fisher ? 'fisher' : opts.gaussNewton ? 'gaussNewton' : 'hess');
      });
    });
  }

  // ---- tuning and memory ----------------------------------------------------------

  /** The matmuls and convolutions one full pass issues, for autotuning before first use. */
  kernelShapes(): { matmul: MatmulOp[]; conv: ConvOp[] } {
    const matmul: MatmulOp[] = [], conv: ConvOp[] = [];
    const x: View = { buf: this.data.X, off: 0, bs: 0 };
    const { layers, plan } = this.model;
    layers.forEach((l, j) => {
      if (l instanceof Dense) {
        const base = { K: 1, a: x, b: x, c: x };
        matmul.push({ ...base, layout: 'abt', M: this.B, N: l.outDim, L: l.inDim });
        matmul.push({ ...base, layout: 'atb', M: l.outDim, N: l.inDim, L: this.B });
        if (plan.live[j]) matmul.push({ ...base, layout: 'ab', M: this.B, N: l.inDim, L: l.outDim });
      } else if (l instanceof Conv2d) {
        const base = { shape: l.shape, B: this.B, K: 1, x, w: x, y: x };
        conv.push({ ...base, mode: 'forward' }, { ...base, mode: 'dweight' });
        if (plan.live[j]) conv.push({ ...base, mode: 'dinput' });
      }
    });
    return { matmul, conv };
  }

  async tune(): Promise<void> {
    const { matmul, conv } = this.kernelShapes();
    if (matmul.length) await this.backend.tune?.(matmul);
    if (conv.length) await this.backend.tuneConv?.(conv);
  }

  /** Device bytes of this objective's scratch (not counting data, θ and vectors). */
  scratchBytes(): number {
    return this.owned.reduce((s, b) => s + b.length * 4, 0);
  }

  dispose(): void {
    for (const b of this.owned) this.backend.release(b);
  }
}
