// TensorFlow.js peers of the CNN benchmark (bench/cnn.ts): the same cnn-relu,
// θ, v and data on TF.js's wasm and webgpu backends, in the process that
// times eoslab (the bundle and loaders of bench/tfjs.ts and bench/tfjs-wasm.ts).
//
// Layout: TF.js convolutions are NHWC with filters [kh, kw, Cin, Cout]; the
// data is transposed to NHWC once (not timed), θ's tensors are permuted into
// TF.js's layouts (conv W [Cout,Cin,kh,kw] → [kh,kw,Cin,Cout]; the Linear
// layer's columns from PyTorch's (c,h,w) flatten order to NHWC's (h,w,c), and
// W stored [in, out] so the product is an untransposed matMul), and the
// gradients are permuted back for the checks: an exact re-parametrisation.
//
// Physical batches: like eoslab (and the reference code), each full-batch op
// runs over physical batches of B examples, summing per-batch gradients of
// (1/N) Σ ½‖f − y‖²; one batch of 5000 CIFAR images would need GBs of
// activations (double backward keeps several copies), past Wasm's 4 GiB.
//
// Gradient, two variants:
//   'stock': tf.conv2d / tf.relu / tf.maxPool / tf.matMul with TF.js's own
//     gradients. Needs the Conv2DBackpropFilter kernel, which
//     tfjs-backend-wasm 4.22 does not have ("Kernel 'Conv2DBackpropFilter'
//     not registered for backend 'wasm'"), so it runs only on webgpu.
//   'custom': the layers below, whose gradients are custom (tf.customGrad).
// HVP = double backward, tf.grads of θ ↦ Σ_i ⟨∇L(θ)_i, v_i⟩ (as bench/tfjs.ts
// does for the MLP). TF.js registers no gradient for Conv2DBackpropFilter
// nor for MaxPoolGrad, and its Conv2DBackpropInput gradient calls
// Conv2DBackpropFilter, so the stock model's gradient is not differentiable.
// The 'custom' layers close that set under differentiation with three
// mutually referencing conv functions (conv, its input transpose convT, its
// weight product convW; each one's gradient is expressed with the other two,
// so any order of differentiation works with the kernels every backend has)
// and two for max pooling (poolT routes a cotangent back along the window
// maxima, poolTan gathers a tangent along them; each is the other's
// transpose, and the routes do not move under a perturbation: no σ″-like
// term). ReLU keeps TF.js's gradient, dy·step(x): saved input (not output,
// so no tape-order problem as with tanh), step's gradient zero — ReLU's
// second-order term is zero, as max pooling's.
//   convW's value: the native Conv2DBackpropFilter kernel where the backend
//   has one (webgpu), else the stride-1 identity
//   dW[kh,kw,ci,co] = conv2d(xᵀ[ci,h,w,n], dyᵀ[oh,ow,n,co], pad p)[ci,kh,kw,co]
//   (batch and channels swapped, two transposes around a tf.conv2d).
//   poolT's value: the native MaxPoolGrad kernel; poolTan's: a first-maximum
//   mask (row-major, as PyTorch and eoslab) from x and maxPool(x). Where
//   the two could route differently (tied window maxima), the window is an
//   all-zero ReLU output whose cotangent and tangent are zero anyway.
import type { Model } from '../core/ts/nn/model.js';
import { Conv2d } from '../core/ts/nn/layers/conv2d.js';
import { Dense } from '../core/ts/nn/layers/dense.js';
import { Activation } from '../core/ts/nn/layers/activation.js';
import { Pool2d } from '../core/ts/nn/layers/pool2d.js';
import type { ParamTensor } from '../core/ts/nn/layer.js';
import { median, timeReps } from './common.js';
import type { TF } from './tfjs.js';
import { CNN_CLASSES, CNN_IN } from './cnn-problem.js';

type Tensor = import('@tensorflow/tfjs-core').Tensor;
type Tensor4D = import('@tensorflow/tfjs-core').Tensor4D;

export type TfCnnVariant = 'stock' | 'custom';

// ---- θ ⇄ TF.js layouts -----------------------------------------------------------------

interface TfParam { p: ParamTensor; tfShape: number[]; /** perm[i] = PyTorch index of TF.js element i. */ perm: Int32Array }

function tfParams(m: Model): TfParam[] {
  const out: TfParam[] = [];
  for (const l of m.layers) {
    if (l instanceof Conv2d) {
      const [co, ci, kh, kw] = l.w.shape;
      const perm = new Int32Array(l.w.size);
      for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) {
        perm[((a * kw + b) * ci + c) * co + o] = ((o * ci + c) * kh + a) * kw + b;
      }
      out.push({ p: l.w, tfShape: [kh, kw, ci, co], perm });
      if (l.bias) out.push({ p: l.bias, tfShape: [co], perm: Int32Array.from({ length: co }, (_, i) => i) });
    } else if (l instanceof Dense) {
      // The Linear layer's input is the flatten of [C, H, W] (PyTorch order c,h,w); TF.js's is (h,w,c).
      const inShape = l.inShape.length === 1 ? flattenSource(m, l.index) : l.inShape;
      const [C, H, W] = inShape.length === 3 ? inShape : [inShape[0], 1, 1];
      const o = l.outDim, perm = new Int32Array(l.w.size);
      for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) for (let j = 0; j < o; j++) {
        perm[((h * W + w) * C + c) * o + j] = j * (C * H * W) + (c * H + h) * W + w;
      }
      out.push({ p: l.w, tfShape: [C * H * W, o], perm });
      if (l.bias) out.push({ p: l.bias, tfShape: [o], perm: Int32Array.from({ length: o }, (_, i) => i) });
    } else if (l.params.length) {
      throw new Error(`cnn-tfjs: no TF.js layout for layer kind ${l.kind}`);
    }
  }
  return out;
}

/** The [C, H, W] shape a Flatten before layer `index` flattened (or [d] if the data was flat). */
function flattenSource(m: Model, index: number): number[] {
  for (let j = index - 1; j >= 0; j--) if (m.layers[j].kind === 'flatten') return m.layers[j].inShape;
  return m.inShape;
}

function toTf(tp: TfParam, flat: Float32Array): Float32Array {
  const out = new Float32Array(tp.perm.length);
  for (let i = 0; i < out.length; i++) out[i] = flat[tp.p.off + tp.perm[i]];
  return out;
}

/** TF.js per-tensor arrays (in tfParams order) → one flat θ-shaped vector (PyTorch layout). */
function fromTf(tps: TfParam[], parts: Float32Array[], P: number): Float32Array {
  const out = new Float32Array(P);
  tps.forEach((tp, k) => { for (let i = 0; i < tp.perm.length; i++) out[tp.p.off + tp.perm[i]] = parts[k][i]; });
  return out;
}

/** CHW examples → HWC. */
function toNhwc(X: Float32Array, N: number, [C, H, W]: number[]): Float32Array {
  const out = new Float32Array(X.length), hw = H * W;
  for (let n = 0; n < N; n++) {
    const base = n * C * hw;
    for (let c = 0; c < C; c++) for (let p = 0; p < hw; p++) out[base + p * C + c] = X[base + c * hw + p];
  }
  return out;
}

// ---- differentiable-to-any-order conv and max pool ---------------------------------------

interface ConvGeom { stride: number; pad: number }

export interface CnnOps {
  /** y = conv(x, w); `xIsData`: x is a data tensor (no gradient wanted at it), so the op is a function of w alone. */
  conv(x: Tensor, w: Tensor, g: ConvGeom, xIsData?: boolean): Tensor;
  maxPool(x: Tensor, k: number): Tensor;
  /** How convW and poolT compute their values on this backend. */
  description: string;
}

function hasKernel(tf: TF, name: string): boolean {
  try {
    return tf.getKernel(name, tf.getBackend()) !== undefined;
  } catch {
    return false;
  }
}

type Fn = (...a: Tensor[]) => Tensor;
type Saver = (ts: Tensor[]) => void;

export function customOps(tf: TF): CnnOps {
  const cg = (f: unknown): Fn => tf.customGrad(f as never) as unknown as Fn;
  const nativeDw = hasKernel(tf, 'Conv2DBackpropFilter');
  const run = (name: string, inputs: Record<string, Tensor>, attrs: Record<string, unknown>) =>
    tf.engine().runKernel(name, inputs as never, attrs as never) as Tensor;

  // customGrad functions take tensors only: geometry (and a constant data input) are closed over.
  const convSets = new Map<string, { conv: Fn; convData: (x: Tensor) => Fn }>();
  const convSet = ({ stride, pad }: ConvGeom) => {
    const key = `${stride}/${pad}`;
    let s = convSets.get(key);
    if (s) return s;
    const convValue = (x: Tensor, w: Tensor) => tf.conv2d(x as Tensor4D, w as Tensor4D, stride, pad);
    // dx = convᵀ(dy, w). tfjs-backend-wasm's Conv2DBackpropInput is a plain loop (~1.3 GFLOP/s here, against
    // ~6 for its XNNPACK conv2d), so on wasm at stride 1 it is the equivalent conv2d of dy with the filter
    // flipped in space and its channels swapped, padding k−1−p.
    const flipT = tf.getBackend() === 'wasm' && stride === 1;
    const convTValue = (dy: Tensor, w: Tensor, xShape: number[]) => flipT
      ? tf.tidy(() => tf.conv2d(dy as Tensor4D, tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]) as Tensor4D, 1, w.shape[0] - 1 - pad))
      : tf.conv2dTranspose(dy as Tensor4D, w as Tensor4D, xShape as [number, number, number, number], stride, pad);
    const convWValue = (x: Tensor, dy: Tensor, wShape: number[]): Tensor => {
      if (nativeDw) return run('Conv2DBackpropFilter', { x, dy }, { strides: [stride, stride], pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: wShape });
      if (stride !== 1) throw new Error('cnn-tfjs: the transposed-conv weight gradient is written for stride 1');
      return tf.tidy(() => {
        const xt = tf.transpose(x, [3, 1, 2, 0]) as Tensor4D; // [Cin, H, W, N]
        const dyt = tf.transpose(dy, [1, 2, 0, 3]) as Tensor4D; // [Ho, Wo, N, Cout]
        return tf.transpose(tf.conv2d(xt, dyt, 1, pad), [1, 2, 0, 3]); // [Cin, kh, kw, Cout] → [kh, kw, Cin, Cout]
      });
    };
    // conv(x, w), its input transpose convT(dy, w) and its weight product convW(x, dy), each
    // differentiated with the others; the *Data forms hold a constant x (the data) and differentiate in w / dy only.
    const conv: Fn = cg((x: Tensor, w: Tensor, save: Saver) => {
      save([x, w]);
      return { value: convValue(x, w), gradFunc: (dy: Tensor, [sx, sw]: Tensor[]) => [convT(sx.shape, w.shape)(dy, sw), convW(sw.shape)(sx, dy)] };
    });
    const convData = (x: Tensor): Fn => cg((w: Tensor, save: Saver) => {
      save([w]);
      return { value: convValue(x, w), gradFunc: (dy: Tensor) => [convWData(x, w.shape)(dy)] };
    });
    const convT = (xShape: number[], wShape: number[]): Fn => cg((dy: Tensor, w: Tensor, save: Saver) => {
      save([dy, w]);
      return { value: convTValue(dy, w, xShape), gradFunc: (ddx: Tensor, [sdy, sw]: Tensor[]) => [conv(ddx, sw), convW(wShape)(ddx, sdy)] };
    });
    const convW = (wShape: number[]): Fn => cg((x: Tensor, dy: Tensor, save: Saver) => {
      save([x, dy]);
      return { value: convWValue(x, dy, wShape), gradFunc: (ddw: Tensor, [sx, sdy]: Tensor[]) => [convT(sx.shape, wShape)(sdy, ddw), conv(sx, ddw)] };
    });
    const convWData = (x: Tensor, wShape: number[]): Fn => cg((dy: Tensor, save: Saver) => {
      save([dy]);
      return { value: convWValue(x, dy, wShape), gradFunc: (ddw: Tensor) => [convData(x)(ddw)] };
    });
    s = { conv, convData };
    convSets.set(key, s);
    return s;
  };

  // Max pooling with k×k windows, stride k, no padding (what the cnn-* ids use).
  const poolSets = new Map<number, Fn>();
  const poolSet = (k: number) => {
    let p = poolSets.get(k);
    if (p) return p;
    if (k !== 2) throw new Error('cnn-tfjs: the max-pool tangent mask is written for 2×2 windows');
    const attrs = { filterSize: [k, k], strides: [k, k], pad: 0, dimRoundingMode: undefined };
    /** First-maximum masks of the four window slots, [N·Ho, 2, Wo, 2, C]. */
    const mask = (x: Tensor): Tensor => tf.tidy(() => {
      const [N, H, W, C] = x.shape, Ho = H / 2, Wo = W / 2;
      const y = tf.reshape(tf.maxPool(x as Tensor4D, 2, 2, 'valid'), [N * Ho, Wo, C]);
      const x5 = tf.reshape(x, [N * Ho, 2, Wo, 2, C]);
      const slot = (a: number, b: number) => tf.reshape(tf.slice(x5, [0, a, 0, b, 0], [N * Ho, 1, Wo, 1, C]), [N * Ho, Wo, C]);
      const is = (a: number, b: number) => tf.sub(1, tf.step(tf.sub(y, slot(a, b)))); // 1 where the slot equals the max
      const e00 = is(0, 0), e01 = is(0, 1), e10 = is(1, 0), e11 = is(1, 1);
      const n00 = tf.sub(1, e00), n01 = tf.sub(1, e01), n10 = tf.sub(1, e10);
      const m01 = tf.mul(e01, n00), m10 = tf.mul(e10, tf.mul(n00, n01)), m11 = tf.mul(e11, tf.mul(tf.mul(n00, n01), n10));
      const row0 = tf.stack([e00, m01], 2), row1 = tf.stack([m10, m11], 2); // [NHo, Wo, 2, C]
      return tf.stack([row0, row1], 1); // [NHo, 2, Wo, 2, C]
    });
    // poolT(x, dy): dy routed back to the window maxima of x; poolTan(x, t): t gathered from them.
    // Each is linear in its second input and the other's transpose; x only picks the routes (zero gradient).
    const poolTan: Fn = cg((x: Tensor, t: Tensor, save: Saver) => {
      save([x]);
      const value = tf.tidy(() => {
        const [N, H, W, C] = x.shape;
        const masked = tf.mul(mask(x), tf.reshape(t, [N * (H / 2), 2, W / 2, 2, C]));
        return tf.reshape(tf.sum(masked, [1, 3]), [N, H / 2, W / 2, C]);
      });
      return { value, gradFunc: (d: Tensor, [sx]: Tensor[]) => [tf.zerosLike(sx), poolT(sx, d)] };
    });
    const poolT: Fn = cg((x: Tensor, dy: Tensor, save: Saver) => {
      save([x]);
      const value = tf.tidy(() => run('MaxPoolGrad', { dy, input: x, output: tf.maxPool(x as Tensor4D, k, k, 'valid') }, attrs));
      return { value, gradFunc: (ddx: Tensor, [sx]: Tensor[]) => [tf.zerosLike(sx), poolTan(sx, ddx)] };
    });
    p = cg((x: Tensor, save: Saver) => {
      save([x]);
      return { value: tf.maxPool(x as Tensor4D, k, k, 'valid'), gradFunc: (dy: Tensor, [sx]: Tensor[]) => [poolT(sx, dy)] };
    });
    poolSets.set(k, p);
    return p;
  };

  return {
    conv: (x, w, g, xIsData) => (xIsData ? convSet(g).convData(x)(w) : convSet(g).conv(x, w)),
    maxPool: (x, k) => poolSet(k)(x),
    description: `custom gradients (conv weight product: ${nativeDw ? 'native Conv2DBackpropFilter' : 'transposed tf.conv2d, no Conv2DBackpropFilter kernel'}; ` +
      `conv input product: ${tf.getBackend() === 'wasm' ? 'flipped-filter tf.conv2d' : 'native Conv2DBackpropInput'}; ` +
      'max-pool backward: native MaxPoolGrad, its transpose: first-maximum mask)',
  };
}

export function stockOps(tf: TF): CnnOps {
  return {
    conv: (x, w, g) => tf.conv2d(x as Tensor4D, w as Tensor4D, g.stride, g.pad),
    maxPool: (x, k) => tf.maxPool(x as Tensor4D, k, k, 'valid'),
    description: 'stock TF.js gradients (tf.conv2d, tf.maxPool, tf.relu, tf.matMul)',
  };
}

/** Whether the stock model's gradient can run on the current backend. */
export function stockGradSupported(tf: TF): boolean {
  return hasKernel(tf, 'Conv2DBackpropFilter') && hasKernel(tf, 'MaxPoolGrad') && hasKernel(tf, 'Conv2DBackpropInput');
}

// ---- the model ------------------------------------------------------------------------------

export interface TfCnn {
  params: Tensor[];
  /** Per physical batch: the loss (1/N) Σ ½‖f − y‖² of its rows, as a function of the params. */
  chunkLoss(k: number, ops: CnnOps): (...ps: Tensor[]) => Tensor;
  chunks: number;
  /** Splits a flat PyTorch-layout vector into TF.js-layout tensors. */
  split(flat: Float32Array): Tensor[];
  /** TF.js-layout arrays → flat PyTorch-layout vector. */
  join(parts: Float32Array[]): Float32Array;
  dispose(): void;
}

export function buildTfCnn(tf: TF, m: Model, X: Float32Array, Y: Float32Array, N: number, theta: Float32Array, B: number): TfCnn {
  const [C, H, W] = m.inShape;
  if (m.inShape.length !== 3 || C !== CNN_IN[0]) throw new Error('cnn-tfjs: expects image inputs');
  const c = m.outShape[0];
  if (c !== CNN_CLASSES) throw new Error('cnn-tfjs: unexpected class count');
  const tps = tfParams(m);
  const params = tps.map((tp) => tf.tensor(toTf(tp, theta), tp.tfShape));
  const Xh = toNhwc(X, N, m.inShape);
  const chunks: { X: Tensor; Y: Tensor }[] = [];
  for (let r0 = 0; r0 < N; r0 += B) {
    const b = Math.min(B, N - r0);
    chunks.push({
      X: tf.tensor4d(Xh.subarray(r0 * C * H * W, (r0 + b) * C * H * W), [b, H, W, C]),
      Y: tf.tensor2d(Y.subarray(r0 * c, (r0 + b) * c), [b, c]),
    });
  }
  const chunkLoss = (k: number, ops: CnnOps) => (...ps: Tensor[]): Tensor => {
    let h: Tensor = chunks[k].X;
    let p = 0;
    for (const l of m.layers) {
      if (l instanceof Conv2d) {
        if (l.shape.kh !== 3 || l.shape.padH !== l.shape.padW) throw new Error('cnn-tfjs: square kernels, symmetric padding');
        h = ops.conv(h, ps[p++], { stride: l.shape.stride, pad: l.shape.padH }, h === chunks[k].X);
        if (l.bias) h = tf.add(h, ps[p++]);
      } else if (l instanceof Activation) {
        if (l.act !== 'relu') throw new Error(`cnn-tfjs: only relu is wired up, not ${l.act}`);
        h = tf.relu(h);
      } else if (l instanceof Pool2d) {
        const s = l.shape;
        if (l.pool !== 'max' || s.kh !== s.kw || s.stride !== s.kh || s.pad !== 0) throw new Error('cnn-tfjs: only MaxPool2d(k) is wired up');
        h = ops.maxPool(h, s.kh);
      } else if (l.kind === 'flatten') {
        h = tf.reshape(h, [h.shape[0], -1]);
      } else if (l instanceof Dense) {
        h = tf.matMul(h, ps[p++]);
        if (l.bias) h = tf.add(h, ps[p++]);
      }
    }
    return tf.mul(tf.sum(tf.square(tf.sub(h, chunks[k].Y))), 0.5 / N);
  };
  return {
    params, chunkLoss, chunks: chunks.length,
    split: (flat) => tps.map((tp) => tf.tensor(toTf(tp, flat), tp.tfShape)),
    join: (parts) => fromTf(tps, parts, m.P),
    dispose: () => tf.dispose([...params, ...chunks.flatMap((ch) => [ch.X, ch.Y])]),
  };
}

/** Accumulates per-chunk (value, grads) over the first `chunks` physical batches. */
function accumulate(tf: TF, n: number, step: (k: number) => { value: Tensor; grads: Tensor[] }): { value: Tensor; grads: Tensor[] } {
  let acc: { value: Tensor; grads: Tensor[] } | null = null;
  for (let k = 0; k < n; k++) {
    const r = step(k);
    if (!acc) { acc = r; continue; }
    const prev: { value: Tensor; grads: Tensor[] } = acc;
    acc = { value: tf.add(prev.value, r.value), grads: prev.grads.map((g, i) => tf.add(g, r.grads[i])) };
    tf.dispose([prev.value, ...prev.grads, r.value, ...r.grads]);
  }
  return acc!;
}

export function tfCnnGrad(tf: TF, net: TfCnn, ops: CnnOps, chunks = net.chunks): { value: Tensor; grads: Tensor[] } {
  return accumulate(tf, chunks, (k) => tf.valueAndGrads(net.chunkLoss(k, ops))(net.params));
}

export function tfCnnHvp(tf: TF, net: TfCnn, ops: CnnOps, vs: Tensor[], chunks = net.chunks): { value: Tensor; grads: Tensor[] } {
  return accumulate(tf, chunks, (k) => tf.valueAndGrads((...ps: Tensor[]) => {
    const gs = tf.grads(net.chunkLoss(k, ops))(ps);
    return tf.addN(gs.map((gi, i) => tf.sum(tf.mul(gi, vs[i]))));
  })(net.params));
}

async function flat(tf: TF, net: TfCnn, ts: Tensor[]): Promise<Float32Array> {
  return net.join(await Promise.all(ts.map((t) => t.data() as Promise<Float32Array>)));
}

/** Small-problem gradient (stock where the backend can, and custom) and HVP, flat in θ's PyTorch layout. */
export async function tfCnnSmall(tf: TF, m: Model, X: Float32Array, Y: Float32Array, N: number, theta: Float32Array, v: Float32Array, B: number):
  Promise<{ grad: Float32Array; gradStock: Float32Array | null; hvp: Float32Array; loss: number }> {
  const net = buildTfCnn(tf, m, X, Y, N, theta, B);
  const vs = net.split(v);
  try {
    const custom = customOps(tf);
    const g = tfCnnGrad(tf, net, custom);
    const h = tfCnnHvp(tf, net, custom, vs);
    const gs = stockGradSupported(tf) ? tfCnnGrad(tf, net, stockOps(tf)) : null;
    const out = {
      grad: await flat(tf, net, g.grads), hvp: await flat(tf, net, h.grads),
      gradStock: gs ? await flat(tf, net, gs.grads) : null, loss: (await g.value.data())[0],
    };
    tf.dispose([g.value, ...g.grads, h.value, ...h.grads, ...(gs ? [gs.value, ...gs.grads] : [])]);
    return out;
  } finally {
    tf.dispose(vs);
    net.dispose();
  }
}

export interface TfCnnBench {
  gradMs: number;
  hvpMs: number;
  gradTimes: number[];
  hvpTimes: number[];
  /** The first call on one physical batch (kernel compilation, XNNPACK packing). */
  gradWarmMs: number;
  hvpWarmMs: number;
  loss: number;
  gradVariant: string;
  hvpVariant: string;
  /** Physical batches actually run per timed rep, and the examples they hold. */
  chunksTimed: number;
  measuredN: number;
  /** N / measuredN: times were multiplied by this (1 = measured at full N). */
  scale: number;
  leakedTensors: number;
}

/**
 * Full-batch gradient and HVP on tf's current backend. One rep = every
 * physical batch's op, accumulated, then the read-back of the loss (and
 * `sync`). Budget: each op runs twice on one physical batch first (the first
 * call compiles kernels / packs XNNPACK weights: the warm-up; the second
 * sizes the runs); when 2 full-N reps of both ops would not fit `budgetMs`,
 * the reps cover fewer physical batches and the times are scaled linearly to
 * N (each batch is the same work), and the result says so (`scale`,
 * `measuredN`).
 */
export async function benchTfCnn(tf: TF, m: Model, X: Float32Array, Y: Float32Array, N: number, theta: Float32Array, v: Float32Array,
                                 opts: { B: number; reps: number; budgetMs: number; log: (s: string) => void; label: string; sync?: () => Promise<unknown> }): Promise<TfCnnBench> {
  const net = buildTfCnn(tf, m, X, Y, N, theta, opts.B);
  const vs = net.split(v);
  const before = tf.memory().numTensors;
  const custom = customOps(tf);
  const stock = stockGradSupported(tf);
  const gradOps = stock ? stockOps(tf) : custom;
  let loss = NaN;
  const run = async (op: () => { value: Tensor; grads: Tensor[] }, keep?: (x: number) => void) => {
    const r = op();
    const val = (await r.value.data())[0];
    await opts.sync?.();
    keep?.(val);
    tf.dispose([r.value, ...r.grads]);
  };
  try {
    // Probe one physical batch of each op twice: the first call compiles/warms (it is the warm-up of
    // the timed reps below), the second sizes the runs.
    const probe = async (op: () => { value: Tensor; grads: Tensor[] }) => {
      let t0 = performance.now();
      await run(op);
      const first = performance.now() - t0;
      t0 = performance.now();
      await run(op);
      return { first, warm: performance.now() - t0 };
    };
    const g1 = await probe(() => tfCnnGrad(tf, net, gradOps, 1));
    const h1 = await probe(() => tfCnnHvp(tf, net, custom, vs, 1));
    // 2 timed reps of each op at full N must fit the budget; else fewer physical batches, scaled.
    const perChunk = g1.warm + h1.warm;
    let chunks = net.chunks;
    if (2 * net.chunks * perChunk > opts.budgetMs) chunks = Math.max(1, Math.min(net.chunks, Math.floor(opts.budgetMs / (2 * perChunk))));
    const measuredN = Math.min(N, chunks * opts.B), scale = N / measuredN;
    opts.log(`    ${opts.label}: one physical batch of ${opts.B}: grad ${g1.first.toFixed(0)} then ${g1.warm.toFixed(0)} ms, ` +
      `HVP ${h1.first.toFixed(0)} then ${h1.warm.toFixed(0)} ms` +
      (chunks < net.chunks ? `; timing ${chunks} of ${net.chunks} physical batches (N = ${measuredN}) and scaling ×${scale.toFixed(2)} to fit the budget` : ''));
    opts.log(`    ${opts.label}: full-batch gradient (${stock ? 'stock' : 'custom'} gradients)…`);
    // Warmed up by the probes: no further warm-up; at least 2 reps, more while within the budget.
    const gr = await timeReps(() => run(() => tfCnnGrad(tf, net, gradOps, chunks), (x) => { loss = x; }), opts.reps, (opts.budgetMs * g1.warm) / perChunk, false);
    opts.log(`    ${opts.label}: full-batch HVP (double backward)…`);
    const hr = await timeReps(() => run(() => tfCnnHvp(tf, net, custom, vs, chunks)), opts.reps, (opts.budgetMs * h1.warm) / perChunk, false);
    const leakedTensors = tf.memory().numTensors - before;
    const sc = (ts: number[]) => ts.map((t) => t * scale);
    return {
      gradTimes: sc(gr.times), hvpTimes: sc(hr.times), gradWarmMs: g1.first, hvpWarmMs: h1.first,
      gradMs: median(gr.times) * scale, hvpMs: median(hr.times) * scale, loss: scale === 1 ? loss : NaN,
      gradVariant: stock ? stockOps(tf).description : custom.description, hvpVariant: custom.description,
      chunksTimed: chunks, measuredN, scale, leakedTensors,
    };
  } finally {
    tf.dispose(vs);
    net.dispose();
  }
}
