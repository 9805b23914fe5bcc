// What every layer kind provides (docs/architecture.md, "Models are layer lists"): its
// four passes over shaped activations, and its parameters as views into the
// flat θ. A layer sees views and the op set; it never owns activation
// buffers (the objective does) and never knows its neighbours, except through
// the fusion the planner hands a dense layer.
import type { BnRunning } from './bn-running.js';
import type { ActName } from '../backend/activations.js';
import type { Backend, Buf, View } from '../backend/types.js';

/** Per-example shape: [d] or [C, H, W]. */
export type Shape = number[];

export const sizeOf = (s: Shape): number => s.reduce((a, b) => a * b, 1);

/** One parameter tensor of a layer: a view of θ with its PyTorch name and shape. */
export interface ParamTensor {
  /** PyTorch state-dict key, e.g. '0.weight'. */
  name: string;
  shape: number[];
  /** Offset into θ (per model). */
  off: number;
  size: number;
}

/** What a pass needs besides the views: the op set, models batched, rows in this physical batch, and θ's stride. */
export interface PassCtx {
  backend: Backend;
  K: number;
  b: number;
  /** Parameters per model (the stride of θ-shaped vectors). */
  P: number;
  /** Set on a training gradient's forward: BatchNorm updates its running statistics here. */
  running?: BnRunning;
}

/**
 * The views of one layer in one physical batch, each [K][b, …shape] with a
 * per-model stride. Views at an input the data alone determines are null:
 * nothing flows back to the data and the data does not move.
 */
export interface LayerIO {
  x: View;
  y: View;
  dx: View | null;
  dy: View;
  rx: View | null;
  ry: View;
  rdx: View | null;
  rdy: View;
  /** Conv: the activation the plan fused into the forward's epilogue (y = σ(conv + b)). */
  act?: ActName;
  /** Max pool: x is a fused ReLU's output, whose derivative the tangent and backward include. */
  reluMask?: boolean;
  /** Conv: its forward also max-pools into dst, with the route codes (ModelPlan.poolFused). */
  pool?: { dst: View; route: View };
  /** Conv: its weight gradients take their output cotangents from the pooled ones and the routes (ModelPlan.unpooled). */
  unpool?: { dy: View; rdy: View; route: View };
  /** Max pool: the route codes its conv wrote, read instead of x. */
  route?: View;
  /** Residual block: the walk of its inner list, which owns the inner activations (layers never do). */
  block?: BlockWalker;
  /**
   * y keeps what this layer's forward wrote through its backward passes (no later op adds into
   * it; a block's last inner layer does not: the shortcut is added to its y). Only then may a
   * backward read σ(x) off y (the ops' aOut / dactOut hints).
   */
  yKept?: boolean;
}

/** A residual block's inner walk over one physical batch, with the block's own views at both ends. */
export interface BlockWalker {
  forward(c: PassCtx, io: LayerIO, theta: Buf): void;
  backward(c: PassCtx, io: LayerIO, theta: Buf, grad: Buf | null, accumulate: boolean): void;
  tangent(c: PassCtx, io: LayerIO, theta: Buf, v: Buf): void;
  rBackward(c: PassCtx, io: LayerIO, theta: Buf, v: Buf, out: Buf, accumulate: boolean, gaussNewton: boolean): void;
}

export interface Layer {
  /** 'dense' | 'conv' | 'maxpool' | 'avgpool' | 'act' | 'flatten' | 'residual'. */
  readonly kind: string;
  /** Position in the model's list (the PyTorch nn.Sequential index). */
  readonly index: number;
  readonly inShape: Shape;
  readonly outShape: Shape;
  readonly params: ParamTensor[];
  /** PyTorch module for docs and errors, e.g. 'nn.Conv2d(3, 32, 3, padding=1)'. */
  readonly torch: string;
  /** y = f(x; w). */
  forward(c: PassCtx, io: LayerIO, theta: Buf): void;
  /** dx = J_xᵀ dy (when dx is not null), grad_w (+)= J_wᵀ dy (when grad is given). */
  backward(c: PassCtx, io: LayerIO, theta: Buf, grad: Buf | null, accumulate: boolean): void;
  /** ry = J_x rx + J_w v_w. */
  tangent(c: PassCtx, io: LayerIO, theta: Buf, v: Buf): void;
  /**
   * The derivative of backward along (rx, v_w): rdx and (Hv)_w (+)= … into out.
   * gaussNewton drops every term where dy multiplies a tangent.
   */
  rBackward(c: PassCtx, io: LayerIO, theta: Buf, v: Buf, out: Buf, accumulate: boolean, gaussNewton: boolean): void;
}

/** A view of θ-shaped vector `buf` at a parameter tensor, model stride P. */
export function paramView(buf: Buf, p: ParamTensor, P: number): View {
  return { buf, off: p.off, bs: P };
}
