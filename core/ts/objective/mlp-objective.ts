// The training objective of K batched MLPs on device-resident data: loss and
// accuracy, gradient, exact Hessian-vector product (forward-over-reverse,
// Pearlmutter's R-operator) and Gauss-Newton product, each over the full
// batch, accumulated over physical batches of at most `physicalBatch`
// examples so scratch memory is O(physicalBatch × width), not O(N × width).
// Pass notation follows DESIGN.md ("The passes of a dense layer").
import type { Backend, Buf, LossName, MatmulOp, View } from '../backend/types.js';
import type { MlpLayout } from '../nn/mlp.js';
import type { HvpOptions } from './types.js';
import { SlotObjective } from './slot-objective.js';
export type { LossAcc } from './types.js';

export interface DeviceData {
  /** N×d inputs, row-major. */
  X: Buf;
  /** N×c targets (one-hot for classification), row-major. */
  Y: Buf;
  N: number;
  d: number;
  c: number;
}

export interface ObjectiveOptions {
  loss: LossName;
  /** Number of models batched in every op (θ is K·P). */
  K?: number;
  /** Examples per pass; the full batch is accumulated over passes. */
  physicalBatch?: number;
  /** First of the 2K scalar slots (loss, accuracy) this objective uses. */
  slotBase?: number;
}

export function uploadData(backend: Backend, X: Float32Array, Y: Float32Array, N: number, d: number, c: number): DeviceData {
  if (X.length !== N * d) throw new Error(`inputs hold ${X.length} values, expected N×d = ${N}×${d}`);
  if (Y.length !== N * c) throw new Error(`targets hold ${Y.length} values, expected N×c = ${N}×${c}`);
  const Xb = backend.alloc(N * d, 'X'), Yb = backend.alloc(N * c, 'Y');
  backend.write(Xb, X);
  backend.write(Yb, Y);
  return { X: Xb, Y: Yb, N, d, c };
}

export class MlpObjective extends SlotObjective {
  readonly K: number;
  readonly P: number;
  readonly B: number;
  readonly loss: LossName;
  // Per-layer scratch, each [K, B, out_l]: pre-activations, activations (all
  // but the last layer), δ, Wᵀδ before σ′ (G), and the tangent/R-backward
  // counterparts.
  private A: Buf[] = [];
  private H: Buf[] = [];
  private D: Buf[] = [];
  private G: Buf[] = [];
  private RA: Buf[] = [];
  private RH: Buf[] = [];
  private RD: Buf[] = [];
  private S: Buf[] = [];
  private PE: Buf;

  constructor(backend: Backend, readonly layout: MlpLayout, readonly data: DeviceData, opts: ObjectiveOptions) {
    super(backend, opts.slotBase ?? 0);
    const sizes = layout.spec.sizes;
    if (sizes[0] !== data.d) {
      throw new Error(`shape mismatch: the model takes inputs of size ${sizes[0]} but the data has ${data.d} features; build the model for this dataset`);
    }
    if (sizes[sizes.length - 1] !== data.c) {
      throw new Error(`shape mismatch: the model has ${sizes[sizes.length - 1]} outputs but the targets have ${data.c} columns`);
    }
    this.K = opts.K ?? 1;
    this.P = layout.P;
    this.loss = opts.loss;
    this.B = Math.min(opts.physicalBatch ?? data.N, data.N);
    if (!Number.isInteger(this.B) || this.B <= 0) throw new Error(`physical batch size must be a positive integer, got ${opts.physicalBatch}`);
    const last = layout.layers.length - 1;
    for (const l of layout.layers) {
      const n = this.K * this.B * l.outDim;
      const name = (s: string) => `${s}[${l.index}]`;
      this.A.push(backend.alloc(n, name('A')));
      this.D.push(backend.alloc(n, name('delta')));
      this.RA.push(backend.alloc(n, name('R{a}')));
      this.RD.push(backend.alloc(n, name('R{delta}')));
      if (l.index < last) {
        this.H.push(backend.alloc(n, name('h')));
        this.G.push(backend.alloc(n, name('W^T delta')));
        this.RH.push(backend.alloc(n, name('R{h}')));
        this.S.push(backend.alloc(n, name('S')));
      }
    }
    this.PE = backend.alloc(this.K * 2 * this.B, 'per-example loss');
  }

  /** The matmuls one full pass issues, for autotuning before first use. */
  matmulShapes(): MatmulOp[] {
    const ops: MatmulOp[] = [];
    const dummy = (buf: Buf): View => ({ buf, off: 0, bs: 0 });
    const x = dummy(this.data.X);
    for (const l of this.layout.layers) {
      const base = { K: 1, a: x, b: x, c: x };
      ops.push({ ...base, layout: 'abt', M: this.B, N: l.outDim, L: l.inDim });
      ops.push({ ...base, layout: 'atb', M: l.outDim, N: l.inDim, L: this.B });
      if (l.index > 0) ops.push({ ...base, layout: 'ab', M: this.B, N: l.inDim, L: l.outDim });
    }
    return ops;
  }

  async tune(): Promise<void> {
    await this.backend.tune?.(this.matmulShapes());
  }

  private act(l: number) {
    return this.layout.layers[l].act;
  }

  /** The input of layer l: the data rows of this pass, or the previous activations. */
  private input(l: number, r0: number): View {
    if (l === 0) return { buf: this.data.X, off: r0 * this.data.d, bs: 0 };
    return { buf: this.H[l - 1], off: 0, bs: this.B * this.layout.layers[l - 1].outDim };
  }

  private scratch(bufs: Buf[], l: number): View {
    return { buf: bufs[l], off: 0, bs: this.B * this.layout.layers[l].outDim };
  }

  private param(theta: Buf, off: number): View {
    return { buf: theta, off, bs: this.P };
  }

  private checkVec(v: Buf, what: string): void {
    if (v.length < this.K * this.P) throw new Error(`${what} '${v.label}' holds ${v.length} values, expected K×P = ${this.K}×${this.P}`);
  }

  /** forward: a_l = W_l h_{l−1} + b_l, h_l = σ(a_l), for rows [r0, r0+b). */
  private forward(theta: Buf, r0: number, b: number): void {
    const last = this.layout.layers.length - 1;
    for (const l of this.layout.layers) {
      const hidden = l.index < last;
      this.backend.matmul({
        layout: 'abt', M: b, N: l.outDim, L: l.inDim, K: this.K,
        a: this.input(l.index, r0), b: this.param(theta, l.wOff),
        c: this.scratch(hidden ? this.H : this.A, l.index),
        bias: l.bOff >= 0 ? this.param(theta, l.bOff) : undefined,
        act: l.act, applyAct: hidden,
        out2: hidden ? this.scratch(this.A, l.index) : undefined,
      });
    }
  }

  /** Loss head: δ_L = ∂ℓ/∂f / N, and loss/accuracy sums into the scalar slots. */
  private head(r0: number, b: number): void {
    const last = this.layout.layers.length - 1, c = this.data.c, N = this.data.N;
    this.backend.loss({
      loss: this.loss, mode: 'grad', B: b, c, K: this.K,
      f: this.scratch(this.A, last), y: { buf: this.data.Y, off: r0 * c, bs: 0 },
      d: this.scratch(this.D, last), pe: { buf: this.PE, off: 0, bs: 2 * this.B },
      acc: { buf: this.PE, off: this.B, bs: 2 * this.B }, scale: 1 / N,
    });
    this.backend.reduce({ n: b, K: this.K, x: { buf: this.PE, off: 0, bs: 2 * this.B }, slot: this.slot, accumulate: true, scale: 1 / N });
    this.backend.reduce({ n: b, K: this.K, x: { buf: this.PE, off: this.B, bs: 2 * this.B }, slot: this.slot + this.K, accumulate: true, scale: 1 / N });
  }

  /**
   * backward: δ_{l−1} = σ′(a_{l−1}) ⊙ (W_lᵀ δ_l), keeping G = W_lᵀ δ_l for the
   * R-backward; ∇W_l += δ_lᵀ h_{l−1}, ∇b_l += Σ δ_l when `grad` is given.
   */
  private backward(theta: Buf, r0: number, b: number, grad: Buf | null, first: boolean): void {
    for (let li = this.layout.layers.length - 1; li >= 0; li--) {
      const l = this.layout.layers[li];
      const d = this.scratch(this.D, li);
      if (grad) {
        this.backend.matmul({ layout: 'atb', M: l.outDim, N: l.inDim, L: b, K: this.K, a: d, b: this.input(li, r0), c: this.param(grad, l.wOff), accumulate: !first });
        if (l.bOff >= 0) this.backend.colsum({ M: b, N: l.outDim, K: this.K, d, out: this.param(grad, l.bOff), accumulate: !first });
      }
      if (li > 0) {
        this.backend.matmul({
          layout: 'ab', M: b, N: l.inDim, L: l.outDim, K: this.K, a: d, b: this.param(theta, l.wOff),
          c: this.scratch(this.D, li - 1), out2: this.scratch(this.G, li - 1),
          act: this.act(li - 1), dact: this.scratch(this.A, li - 1),
        });
      }
    }
  }

  /** tangent: R{a_l} = V_l h_{l−1} + c_l + W_l R{h_{l−1}}, R{h_l} = σ′(a_l) ⊙ R{a_l}. */
  private tangent(theta: Buf, v: Buf, r0: number, b: number): void {
    const last = this.layout.layers.length - 1;
    for (const l of this.layout.layers) {
      const hidden = l.index < last;
      // Hidden layers accumulate R{a} in the R{h} buffer, then the epilogue of
      // the last product writes R{a} aside (out2) and R{h} = σ′(a) R{a} in place.
      const c = this.scratch(hidden ? this.RH : this.RA, l.index);
      const finish = hidden
        ? { out2: this.scratch(this.RA, l.index), act: l.act, dact: this.scratch(this.A, l.index) }
        : {};
      const bias = l.bOff >= 0 ? this.param(v, l.bOff) : undefined;
      const base = { layout: 'abt' as const, M: b, N: l.outDim, L: l.inDim, K: this.K, c };
      if (l.index === 0) {
        this.backend.matmul({ ...base, a: this.input(0, r0), b: this.param(v, l.wOff), bias, ...finish });
      } else {
        this.backend.matmul({ ...base, a: this.input(l.index, r0), b: this.param(v, l.wOff), bias });
        this.backend.matmul({ ...base, a: this.scratch(this.RH, l.index - 1), b: this.param(theta, l.wOff), accumulate: true, ...finish });
      }
    }
  }

  /**
   * R-backward: R{δ_L} = H_ℓ R{a_L}/N, then per layer (Hv)_W += R{δ_l} h_{l−1}ᵀ
   * + δ_l R{h_{l−1}}ᵀ, (Hv)_b += Σ R{δ_l}, and R{δ_{l−1}} by rdelta. Gauss-Newton
   * drops every term where δ multiplies a tangent.
   */
  private rBackward(theta: Buf, v: Buf, out: Buf, r0: number, b: number, first: boolean, gaussNewton: boolean): void {
    const last = this.layout.layers.length - 1;
    this.backend.loss({
      loss: this.loss, mode: 'hess', B: b, c: this.data.c, K: this.K,
      f: this.scratch(this.A, last), y: { buf: this.data.Y, off: r0 * this.data.c, bs: 0 },
      d: this.scratch(this.RD, last), rf: this.scratch(this.RA, last), scale: 1 / this.data.N,
    });
    for (let li = last; li >= 0; li--) {
      const l = this.layout.layers[li];
      const rd = this.scratch(this.RD, li);
      this.backend.matmul({ layout: 'atb', M: l.outDim, N: l.inDim, L: b, K: this.K, a: rd, b: this.input(li, r0), c: this.param(out, l.wOff), accumulate: !first });
      if (!gaussNewton && li > 0) {
        this.backend.matmul({ layout: 'atb', M: l.outDim, N: l.inDim, L: b, K: this.K, a: this.scratch(this.D, li), b: this.scratch(this.RH, li - 1), c: this.param(out, l.wOff), accumulate: true });
      }
      if (l.bOff >= 0) this.backend.colsum({ M: b, N: l.outDim, K: this.K, d: rd, out: this.param(out, l.bOff), accumulate: !first });
      if (li === 0) continue;
      const prev = li - 1;
      const base = { layout: 'ab' as const, M: b, N: l.inDim, L: l.outDim, K: this.K };
      if (gaussNewton) {
        this.backend.matmul({ ...base, a: rd, b: this.param(theta, l.wOff), c: this.scratch(this.RD, prev), act: this.act(prev), dact: this.scratch(this.A, prev) });
      } else {
        const s = this.scratch(this.S, prev);
        this.backend.matmul({ ...base, a: this.scratch(this.D, li), b: this.param(v, l.wOff), c: s });
        this.backend.matmul({ ...base, a: rd, b: this.param(theta, l.wOff), c: s, accumulate: true });
        this.backend.rdelta({
          act: this.act(prev), perModel: b * l.inDim, K: this.K, a: this.scratch(this.A, prev),
          ra: this.scratch(this.RA, prev), g: this.scratch(this.G, prev), s, out: this.scratch(this.RD, prev),
        });
      }
    }
  }

  private passes(fn: (r0: number, b: number, first: boolean) => void): void {
    for (let r0 = 0; r0 < this.data.N; r0 += this.B) fn(r0, Math.min(this.B, this.data.N - r0), r0 === 0);
  }


  /** Enqueue a full-batch loss/accuracy evaluation (no read-back). */
  encodeLossAcc(theta: Buf): void {
    this.checkVec(theta, 'θ');
    this.backend.clearScalars(this.slot, 2 * this.K);
    this.passes((r0, b) => { this.forward(theta, r0, b); this.head(r0, b); });
  }


  /** Enqueue full-batch gradient into `grad` (K·P), with loss/accuracy into the slots. */
  encodeGrad(theta: Buf, grad: Buf): void {
    this.checkVec(theta, 'θ');
    this.checkVec(grad, 'gradient');
    this.backend.clearScalars(this.slot, 2 * this.K);
    this.passes((r0, b, first) => {
      this.forward(theta, r0, b);
      this.head(r0, b);
      this.backward(theta, r0, b, grad, first);
    });
  }


  /**
   * Enqueue outs[j] = H vs[j] (or G vs[j] with gaussNewton) for every j, full
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
      this.backward(theta, r0, b, opts.grad ?? null, first);
      vs.forEach((v, j) => {
        this.tangent(theta, v, r0, b);
        this.rBackward(theta, v, outs[j], r0, b, first, !!opts.gaussNewton);
      });
    });
  }


  /** Device bytes of this objective's scratch (not counting data, θ and vectors). */
  scratchBytes(): number {
    return [...this.A, ...this.H, ...this.D, ...this.G, ...this.RA, ...this.RH, ...this.RD, ...this.S, this.PE]
      .reduce((s, b) => s + b.length * 4, 0);
  }

  dispose(): void {
    for (const b of [...this.A, ...this.H, ...this.D, ...this.G, ...this.RA, ...this.RH, ...this.RD, ...this.S, this.PE]) this.backend.release(b);
  }
}
