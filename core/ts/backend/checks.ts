// Argument checks shared by every backend: a bad view or a missing operand is
// a one-line error at enqueue time, not a device fault later.
import type {
  ActOp, ColsumOp, ConvOp, ConvShape, LossOp, MatmulOp, OptimOp, PoolOp, PoolShape, RandomOp, ReduceOp, ToyOp, VectorOp, View,
} from './types.js';

export function checkView(what: string, v: View, perModel: number, K: number): void {
  const need = v.off + (K - 1) * v.bs + perModel;
  if (!Number.isInteger(v.off) || v.off < 0 || need > v.buf.length) {
    throw new Error(`${what}: view of '${v.buf.label}' (offset ${v.off}, stride ${v.bs}, ${K}×${perModel}) exceeds its length ${v.buf.length}`);
  }
}

const OPTIM_NEEDS: Record<OptimOp['mode'], (keyof OptimOp)[]> = {
  polyak: ['grad', 'v'], nesterov: ['grad', 'v'], adam: ['grad', 'm', 'v'], rmsprop: ['grad', 'v'], precond: ['v'], scale: ['grad'],
};

export function checkOptim(op: OptimOp): void {
  for (const k of OPTIM_NEEDS[op.mode]) if (!op[k]) throw new Error(`optim ${op.mode}: needs ${k}`);
  const off = op.off ?? 0;
  for (const [b, o] of [[op.theta, off], [op.grad, off], [op.m, 0], [op.v, 0]] as const) {
    if (b && b.length < o + op.n) throw new Error(`optim ${op.mode}: '${b.label}' is shorter than ${o + op.n}`);
  }
}

export function checkMatmul(op: MatmulOp): void {
  checkView('matmul A', op.a, op.layout === 'atb' ? op.L * op.M : op.M * op.L, op.K);
  checkView('matmul B', op.b, op.L * op.N, op.K);
  checkView('matmul C', op.c, op.M * op.N, op.K);
  if (op.bias) checkView('matmul bias', op.bias, op.N, op.K);
  if (op.out2) checkView('matmul out2', op.out2, op.M * op.N, op.K);
  if (op.dact) checkView('matmul aux', op.dact, op.M * op.N, op.K);
  if (op.dactOut) {
    if (!op.dact) throw new Error('matmul: dactOut comes with dact (it holds σ of dact)');
    checkView('matmul aux output', op.dactOut, op.M * op.N, op.K);
  }
  if ((op.applyAct || op.dact) && !op.act) throw new Error('matmul: applyAct/dact need an activation');
}

export function checkLoss(op: LossOp): void {
  checkView('loss outputs', op.f, op.B * op.c, op.K);
  checkView('loss targets', { ...op.y, bs: 0 }, op.B * op.c, 1);
  checkView('loss gradient', op.d, op.B * op.c, op.K);
  if (op.mode === 'grad' && !(op.pe && op.acc)) throw new Error('loss grad mode needs per-example loss and accuracy views');
  if (op.pe && op.acc && op.pe.buf.id !== op.acc.buf.id) throw new Error('loss: pe and acc must view the same buffer');
  if (op.mode !== 'grad' && !op.rf) throw new Error(`loss ${op.mode} mode needs the output tangent rf`);
  if (op.pe) checkView('loss per-example', op.pe, op.B, op.K);
  if (op.acc) checkView('loss accuracy', op.acc, op.B, op.K);
  if (op.rf) checkView('loss tangent', op.rf, op.B * op.c, op.K);
}

export function checkColsum(op: ColsumOp): void {
  checkView('colsum input', op.d, op.M * op.N, op.K);
  checkView('colsum output', op.out, op.N, op.K);
}

export function checkReduce(op: ReduceOp, scalars: number): void {
  checkView('reduce x', op.x, op.n, op.K);
  if (op.y) checkView('reduce y', op.y, op.n, op.K);
  if (op.slot + op.K > scalars) throw new Error(`reduce: scalar slots ${op.slot}..${op.slot + op.K} exceed ${scalars}`);
}

export function checkVector(op: VectorOp): void {
  const yOff = op.yOff ?? 0, xOff = op.xOff ?? 0;
  if (yOff + op.n > op.y.length) throw new Error(`vector op on '${op.y.label}': range exceeds its length`);
  if (op.x && xOff + op.n > op.x.length) throw new Error(`vector op on '${op.x.label}': range exceeds its length`);
  if (op.x && op.x.id === op.y.id) throw new Error('vector op: x and y must be different buffers');
}

export function checkRandom(op: RandomOp): void {
  if ((op.off ?? 0) + op.n > op.out.length) throw new Error(`random fill of '${op.out.label}': range exceeds its length`);
}

/** Returns the toy model's parameter count P. */
export function checkToy(op: ToyOp, scalars: number): number {
  const P = op.model === 'xyzw' ? 4 : 2;
  for (const b of [op.theta, op.out, op.v]) if (b && b.length < op.K * P) throw new Error(`toy ${op.model}: '${b.label}' needs K×P = ${op.K}×${P} values`);
  if (op.mode === 'hvp' && !op.v) throw new Error('toy hvp needs a direction v');
  if (op.slot + 2 * op.K > scalars) throw new Error(`toy: scalar slots exceed ${scalars}`);
  return P;
}

/** Conv2d geometry with PyTorch's output size; `pad` is a number or 'same' (stride 1, odd kernels). */
export function convShape(g: { Cin: number; H: number; W: number; Cout: number; kh: number; kw?: number; stride?: number; pad?: number | 'same' }): ConvShape {
  const kw = g.kw ?? g.kh, stride = g.stride ?? 1;
  let padH: number, padW: number;
  if (g.pad === 'same') {
    if (stride !== 1 || g.kh % 2 === 0 || kw % 2 === 0) throw new Error(`conv padding 'same' needs stride 1 and odd kernels, got ${g.kh}×${kw} stride ${stride}`);
    padH = (g.kh - 1) / 2; padW = (kw - 1) / 2;
  } else {
    padH = padW = g.pad ?? 0;
  }
  for (const [k, v] of Object.entries({ Cin: g.Cin, H: g.H, W: g.W, Cout: g.Cout, kh: g.kh, kw, stride })) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`conv ${k} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(padH) || padH < 0) throw new Error(`conv padding must be a non-negative integer or 'same', got ${g.pad}`);
  const Ho = Math.floor((g.H + 2 * padH - g.kh) / stride) + 1, Wo = Math.floor((g.W + 2 * padW - kw) / stride) + 1;
  if (Ho <= 0 || Wo <= 0) throw new Error(`conv ${g.kh}×${kw} (stride ${stride}, padding ${padH}) does not fit a ${g.H}×${g.W} input`);
  return { Cin: g.Cin, H: g.H, W: g.W, Cout: g.Cout, kh: g.kh, kw, stride, padH, padW, Ho, Wo };
}

/** Pooling geometry with PyTorch's output size (ceil_mode off). */
export function poolShape(g: { C: number; H: number; W: number; kh: number; kw?: number; stride?: number; pad?: number }): PoolShape {
  const kw = g.kw ?? g.kh, stride = g.stride ?? g.kh, pad = g.pad ?? 0;
  for (const [k, v] of Object.entries({ C: g.C, H: g.H, W: g.W, kh: g.kh, kw, stride })) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`pool ${k} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(pad) || pad < 0 || 2 * pad > Math.min(g.kh, kw)) throw new Error(`pool padding must be an integer in [0, kernel/2], got ${pad}`);
  const Ho = Math.floor((g.H + 2 * pad - g.kh) / stride) + 1, Wo = Math.floor((g.W + 2 * pad - kw) / stride) + 1;
  if (Ho <= 0 || Wo <= 0) throw new Error(`pool ${g.kh}×${kw} (stride ${stride}) does not fit a ${g.H}×${g.W} input`);
  return { C: g.C, H: g.H, W: g.W, kh: g.kh, kw, stride, pad, Ho, Wo };
}

export function checkConv(op: ConvOp): void {
  const s = op.shape;
  const nx = op.B * s.Cin * s.H * s.W, nw = s.Cout * s.Cin * s.kh * s.kw, ny = op.B * s.Cout * s.Ho * s.Wo;
  checkView(`conv ${op.mode} x`, op.x, nx, op.K);
  checkView(`conv ${op.mode} w`, op.w, nw, op.K);
  checkView(`conv ${op.mode} y`, op.y, ny, op.K);
  if (op.bias) checkView(`conv ${op.mode} bias`, op.bias, s.Cout, op.K);
  if (op.bias && op.mode === 'dinput') throw new Error('conv dinput takes no bias');
  if (op.act && op.mode !== 'forward') throw new Error(`conv ${op.mode} takes no activation epilogue: only forward applies one`);
  const np = op.B * s.Cout * (s.Ho >> 1) * (s.Wo >> 1);
  if (op.pool) {
    if (op.mode !== 'forward' || op.act !== 'relu' || op.accumulate) throw new Error('conv pool epilogue: only a forward with act relu and no accumulate pools');
    checkView('conv pool dst', op.pool.dst, np, op.K);
    checkView('conv pool route', op.pool.route, np, op.K);
  }
  if (op.unpool) {
    if (op.mode !== 'dweight') throw new Error(`conv ${op.mode} takes no unpool: only dweight gathers its dy from routes`);
    checkView('conv unpool src', op.unpool.src, np, op.K);
    checkView('conv unpool route', op.unpool.route, np, op.K);
  }
}

export function checkPool(op: PoolOp): void {
  const s = op.shape;
  const nin = op.B * s.C * s.H * s.W, nout = op.B * s.C * s.Ho * s.Wo;
  checkView(`${op.kind}pool ${op.mode} x`, op.x, nin, op.K);
  if (op.mode !== 'forward' && !op.src) throw new Error(`${op.kind}pool ${op.mode} needs src`);
  if (op.src) checkView(`${op.kind}pool ${op.mode} src`, op.src, op.mode === 'backward' ? nout : nin, op.K);
  checkView(`${op.kind}pool ${op.mode} dst`, op.dst, op.mode === 'backward' ? nin : nout, op.K);
  if (op.reluMask && (op.kind !== 'max' || op.mode === 'forward' || op.accumulate)) {
    throw new Error(`${op.kind}pool ${op.mode}: reluMask is for max pooling's tangent and backward without accumulate`);
  }
  if (op.route) {
    if (op.kind !== 'max' || op.mode === 'forward' || op.accumulate || s.kh !== 2 || s.kw !== 2 || s.stride !== 2 || s.pad !== 0) {
      throw new Error(`${op.kind}pool ${op.mode}: routes are for 2×2 stride-2 max pooling's tangent and backward without accumulate`);
    }
    checkView(`maxpool ${op.mode} route`, op.route, nout, op.K);
  }
}

export function checkAct(op: ActOp): void {
  checkView(`activation ${op.mode} x`, op.x, op.perModel, op.K);
  checkView(`activation ${op.mode} out`, op.out, op.perModel, op.K);
  if (op.mode === 'dmul') {
    if (!op.a) throw new Error('activation dmul needs the pre-activation a');
    checkView('activation dmul a', op.a, op.perModel, op.K);
    if (op.aOut) checkView('activation dmul σ(a)', op.aOut, op.perModel, op.K);
  }
}
