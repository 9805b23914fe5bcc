// The op set the engine needs, behind one interface. Two implementations:
// webgpu/ (WGSL kernels) and, later, wasm/. Every op is enqueued, not run:
// a backend batches ops into one submission and only reading back (read,
// readScalars, flush) waits for the device.
import type { ActName } from './activations.js';

/** A device buffer of `length` f32 elements. */
export interface Buf {
  readonly id: number;
  readonly length: number;
  readonly label: string;
}

/**
 * A strided view for batched (K-model) ops: element offset `off` into `buf`
 * and per-model stride `bs` (0 when all models share the operand).
 */
export interface View {
  buf: Buf;
  off: number;
  bs: number;
}

export type Layout = 'ab' | 'abt' | 'atb';

/**
 * C[z] = epilogue(alpha · op(A[z]) · op(B[z])) for z < K, with op(A) M×L and
 * op(B) L×N; see core/shaders/matmul_common.wgsl for layouts and epilogue.
 */
export interface MatmulOp {
  layout: Layout;
  M: number;
  N: number;
  L: number;
  K: number;
  a: View;
  b: View;
  c: View;
  alpha?: number;
  accumulate?: boolean;
  /** Added per column n (length N per model). */
  bias?: View;
  /** The activation used by applyAct and dact. */
  act?: ActName;
  applyAct?: boolean;
  /** Receives the value before the activation (pre-activation a_l). */
  out2?: View;
  /** Multiply by act′(aux), aux laid out like C. */
  dact?: View;
  /**
   * σ(aux) as this backend's forward wrote it (the fused activation's output,
   * laid out like C). A backend may read act′ off it where the activation
   * allows (tanh: 1 − σ²) instead of recomputing σ: the same bits, since σ(aux)
   * is the value the recomputation would give. Only with dact.
   */
  dactOut?: View;
}

/** R{δ} = σ″(a)⊙R{a}⊙G + σ′(a)⊙S over K blocks of `perModel` elements. */
export interface RDeltaOp {
  act: ActName;
  perModel: number;
  K: number;
  a: View;
  ra: View;
  g: View;
  s: View;
  out: View;
  /** σ(a) as this backend's forward wrote it (the activation's output): a backend may take σ′, σ″ off it (tanh) instead of recomputing σ, with the same bits. */
  aOut?: View;
}

export type LossName = 'mse' | 'ce';

/**
 * Loss head over B examples with c outputs for K models.
 * mode 'grad': d = scale·∂ℓ/∂f, per-example loss into pe and 0/1 correctness
 * into acc (acc must view the same buffer as pe).
 * mode 'hess': d = scale·H_ℓ·rf.
 * mode 'fisher': d = scale·g (gᵀ rf), g = ∂ℓ/∂f: H_ℓ replaced by the outer
 * product of the output gradient (the empirical Fisher's product).
 */
export interface LossOp {
  loss: LossName;
  mode: 'grad' | 'hess' | 'fisher';
  B: number;
  c: number;
  K: number;
  f: View;
  /** Target rows (shared by every model; bs ignored). */
  y: View;
  d: View;
  pe?: View;
  acc?: View;
  rf?: View;
  scale: number;
}

/** The loss kernels' mode numbers (loss.wgsl MODE, the Wasm core's `mode`). */
export const LOSS_MODES: Record<LossOp['mode'], number> = { grad: 0, hess: 1, fisher: 2 };

/** out[z][n] (+)= Σ_m d[z][m][n]. */
export interface ColsumOp {
  M: number;
  N: number;
  K: number;
  d: View;
  out: View;
  accumulate: boolean;
}

/** scalars[slot + z] (+)= scale · Σ_i x[z][i] (· y[z][i] when y is given), i < n. */
export interface ReduceOp {
  n: number;
  K: number;
  x: View;
  y?: View;
  slot: number;
  accumulate?: boolean;
  scale?: number;
}

/** y[i] = alpha·x[i] + beta·y[i] + gamma for i < n (x optional). */
export interface VectorOp {
  n: number;
  y: Buf;
  yOff?: number;
  x?: Buf;
  xOff?: number;
  alpha?: number;
  beta?: number;
  gamma?: number;
}

/**
 * Element-wise optimizer update or diagonal scaling over n elements
 * (core/shaders/optim.wgsl): 'polyak' | 'nesterov' | 'adam' | 'rmsprop'
 * update theta in place from grad and the state vectors m, v; 'precond'
 * writes (√(v/c2) + ε)^(-1/2) into theta; 'scale' multiplies theta by grad.
 */
export interface OptimOp {
  mode: 'polyak' | 'nesterov' | 'adam' | 'rmsprop' | 'precond' | 'scale';
  n: number;
  theta: Buf;
  grad?: Buf;
  /** Element offset into theta and grad (one member's slice of a sweep's K·P buffers); m and v start at 0. */
  off?: number;
  m?: Buf;
  v?: Buf;
  lr?: number;
  beta?: number;
  beta2?: number;
  eps?: number;
  /** Bias-correction divisors 1 − β1^t and 1 − β2^t (1 without correction). */
  c1?: number;
  c2?: number;
}

/**
 * The theory slides' toy objectives over K models (core/shaders/toy.wgsl):
 * 'xyzw' ½(1 − xyzw)² (P = 4), 'x2y2' (1 − x²y²)², 'xy' (1 − xy)² (P = 2).
 * mode 'grad': out = ∇L(θ); 'hvp': out = H(θ)v. Loss into scalars[slot + z],
 * 0 into scalars[slot + K + z] (no accuracy).
 */
export interface ToyOp {
  model: 'xyzw' | 'x2y2' | 'xy';
  mode: 'grad' | 'hvp';
  K: number;
  theta: Buf;
  v?: Buf;
  out: Buf;
  slot: number;
}

/**
 * Conv2d geometry of one example (PyTorch's cross-correlation, zero padding):
 * input [Cin, H, W], weights [Cout, Cin, kh, kw], output [Cout, Ho, Wo] with
 * Ho = ⌊(H + 2·padH − kh)/stride⌋ + 1, Wo likewise. Build it with convShape().
 */
export interface ConvShape {
  Cin: number; H: number; W: number;
  Cout: number; kh: number; kw: number;
  stride: number; padH: number; padW: number;
  Ho: number; Wo: number;
}

/**
 * Conv2d over B examples for K models, NCHW, every operand contiguous per model
 * (x [K][B, Cin, H, W], w [K][Cout, Cin, kh, kw], y [K][B, Cout, Ho, Wo]).
 * Conv is bilinear in (x, w), so these three products give every pass:
 *   'forward':  y (+)= conv(x, w) (+ bias[co])          reads x, w; writes y
 *   'dinput':   x (+)= convᵀ(y, w), gather form          reads y, w; writes x
 *               (each input element sums its own terms: no atomics, deterministic)
 *   'dweight':  w (+)= Σ_b y_b ⋆ x_b;                    reads y, x; writes w
 *               bias (+)= Σ_{b,oh,ow} y when bias is given
 * `accumulate` adds into the written operand (and bias) instead of overwriting.
 * `act` (forward only): y = σ(y) after the sum and bias, the activation in
 * the conv's epilogue (while the output is in cache, instead of another pass
 * over it); the values are those of a separate 'apply' over y.
 *
 * The max-pool fusion of Conv2d → ReLU → MaxPool2d(2) (2×2 windows, stride 2,
 * no padding; pooled [B, Cout, ⌊Ho/2⌋, ⌊Wo/2⌋]), whose route codes
 * j + 4·m (j the window's first maximum in row-major order, m = [σ(y) > 0]
 * there) stand in for the full-size activation in the backward:
 *   `pool` (forward, act 'relu'): pool.dst = maxpool(σ(conv + b)), pool.route
 *          = the codes; y is scratch (left unspecified: a backend may keep the
 *          activation in cache and never write it)
 *   `unpool` (dweight): the dy used is the max pool's backward of unpool.src
 *          along unpool.route times the ReLU's derivative, as PoolOp with
 *          `route` computes it; y is scratch, as above.
 * Both give the unfused ops' values bit for bit.
 */
export interface ConvOp {
  mode: 'forward' | 'dinput' | 'dweight';
  shape: ConvShape;
  B: number;
  K: number;
  x: View;
  w: View;
  y: View;
  bias?: View;
  accumulate?: boolean;
  act?: ActName;
  pool?: { dst: View; route: View };
  unpool?: { src: View; route: View };
}

/**
 * 2-d pooling geometry of one example: [C, H, W] → [C, Ho, Wo], window kh×kw,
 * one stride, zero (avg, count_include_pad) or −∞ (max) padding `pad` on
 * every side, Ho = ⌊(H + 2·pad − kh)/stride⌋ + 1. Build it with poolShape().
 */
export interface PoolShape {
  C: number; H: number; W: number;
  kh: number; kw: number; stride: number; pad: number;
  Ho: number; Wo: number;
}

/**
 * Max or average pooling over B examples for K models (NCHW). Pooling is
 * linear in its input once max's routing is fixed by the forward input x
 * (the first maximum in row-major window order wins, as PyTorch):
 *   'forward':  dst[B, C, Ho, Wo] = pool(x)                 (src unused)
 *   'tangent':  dst[B, C, Ho, Wo] = J(x) src[B, C, H, W]     (jvp)
 *   'backward': dst[B, C, H, W]   = J(x)ᵀ src[B, C, Ho, Wo]  (vjp, gather form)
 * Average pooling ignores x. `accumulate` adds into dst.
 * `reluMask` (max, tangent and backward, no accumulate): x is the output of
 * a ReLU, and the op includes that ReLU's derivative [x > 0] on the input
 * side: tangent dst = J(x) ([x > 0] ⊙ src), backward dst = [x > 0] ⊙ J(x)ᵀ src,
 * the same values as an activation 'dmul' with a = x before (tangent) or
 * after (backward) the plain op, without the full-size pass in between.
 * `route` (max, 2×2 stride 2 without padding, tangent and backward, no
 * accumulate): the route codes of ConvOp.pool [B, C, Ho, Wo] replace x (and
 * include the ReLU's derivative, as reluMask does); x is not read.
 */
export interface PoolOp {
  kind: 'max' | 'avg';
  mode: 'forward' | 'tangent' | 'backward';
  shape: PoolShape;
  B: number;
  K: number;
  x: View;
  src?: View;
  dst: View;
  accumulate?: boolean;
  reluMask?: boolean;
  route?: View;
}

/**
 * A standalone activation over K blocks of `perModel` elements:
 *   'apply': out = σ(x)            'dmul': out = σ′(a) ⊙ x
 * (jvp and vjp of σ are both 'dmul'; the R-backward is rdelta.)
 */
export interface ActOp {
  act: ActName;
  mode: 'apply' | 'dmul';
  perModel: number;
  K: number;
  x: View;
  a?: View;
  out: View;
  /** dmul: σ(a) as this backend's forward wrote it; a backend may take σ′ off it (tanh) instead of recomputing σ, with the same bits. */
  aOut?: View;
}

/**
 * BatchNorm in training mode over K models, per channel c of x [K][B, C, S]
 * (S = H·W, 1 for BatchNorm1d): μ, σ² (biased) over the B·S elements of c,
 * x̂ = (x − μ)/√(σ² + eps), y = γ x̂ + β. The parameters are [γ (C), β (C)]
 * contiguous at w / v / g (a model's θ-shaped view at γ). Every mode
 * recomputes μ and σ from x (per channel: cheaper than keeping them):
 *   'forward':   out = y
 *   'backward':  out = dx (when given), g (+)= [Σ dy x̂, Σ dy] (when given)
 *   'tangent':   out = ry = γ P(rx) + v_γ x̂ + v_β, P(u) = (u − ū − x̂·mean(x̂u))/σ
 *                (rx absent: the input does not move)
 *   'rbackward': out = rdx, g (+)= (Hv)_{γ,β}: the derivative of 'backward'
 *                along (rx, v) with rdy; gaussNewton drops each term where dy
 *                multiplies a tangent (JᵀH_ℓJv exactly; batchnorm.ts)
 * 'forward' with `running` [K][2C] = [running_mean, running_var] also applies
 * PyTorch's train() update in place, momentum BN_MOMENTUM = 0.1:
 *   mean ← 0.9 mean + 0.1 μ,  var ← 0.9 var + 0.1 σ² n/(n−1)  (n = B·S; n = 1: σ²)
 */
export interface BatchNormOp {
  mode: 'forward' | 'backward' | 'tangent' | 'rbackward';
  B: number;
  C: number;
  S: number;
  K: number;
  eps: number;
  x: View;
  w: View;
  v?: View;
  dy?: View;
  rx?: View;
  rdy?: View;
  out?: View;
  g?: View;
  /** 'forward' only: running statistics updated in place (see above). */
  running?: View;
  accumulate?: boolean;
  gaussNewton?: boolean;
}

export type Distribution = 'bits' | 'uniform' | 'signed' | 'normal' | 'rademacher';

/** out[off + j] = scale · draw(seed, stream, index0 + j), j < n (core/ts/rng/philox.ts). */
export interface RandomOp {
  out: Buf;
  off?: number;
  n: number;
  seed: number;
  stream: number;
  index0?: number;
  dist: Distribution;
  scale?: number;
}

export interface Backend {
  readonly kind: 'webgpu' | 'wasm';
  /** Human-readable device description for logs and metadata. */
  readonly description: string;
  /** Number of f32 slots in the scalars buffer. */
  readonly scalarCapacity: number;
  /**
   * The scalars buffer itself, so kernels can read reduction results in
   * place (e.g. Gram-Schmidt coefficients as a matmul operand) without a
   * read-back.
   */
  readonly scalarsBuf: Buf;

  alloc(length: number, label: string): Buf;
  release(buf: Buf): void;
  write(buf: Buf, data: Float32Array, offset?: number): void;
  read(buf: Buf, offset?: number, length?: number): Promise<Float32Array>;

  matmul(op: MatmulOp): void;
  rdelta(op: RDeltaOp): void;
  loss(op: LossOp): void;
  colsum(op: ColsumOp): void;
  reduce(op: ReduceOp): void;
  vector(op: VectorOp): void;
  random(op: RandomOp): void;
  optim(op: OptimOp): void;
  toy(op: ToyOp): void;
  conv(op: ConvOp): void;
  pool(op: PoolOp): void;
  activation(op: ActOp): void;
  batchnorm(op: BatchNormOp): void;

  /** Zero scalar slots [slot, slot + n). */
  clearScalars(slot: number, n: number): void;
  /** Submit what is queued and read scalar slots [slot, slot + n). */
  readScalars(slot: number, n: number): Promise<Float64Array>;
  /** Submit what is queued and wait for it; surfaces device errors. */
  flush(): Promise<void>;
  /** Choose kernel variants for the matmul shapes about to be used. */
  tune?(ops: MatmulOp[]): Promise<void>;
  /** Choose kernel variants for the convolutions about to be used. */
  tuneConv?(ops: ConvOp[]): Promise<void>;
  destroy(): void;
}
