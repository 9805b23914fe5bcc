// The WebAssembly implementation of the op set (core/wasm, AssemblyScript).
// Every buffer lives in the module's linear memory for its whole life; ops
// run synchronously when called (the CPU is the device), so read-backs are
// plain copies and flush has nothing to wait for. Matmuls are split over the
// host-injected worker threads, and so are conv, pooling, the standalone
// activation and rdelta (large ones); the other ops (loss head, colsum,
// reduce, vector, optim) touch at most a layer's parameters or the logits
// and run on the calling thread.
import type {
  ActOp, Backend, BatchNormOp, Buf, ColsumOp, ConvOp, LossOp, MatmulOp, OptimOp, PoolOp, RandomOp, RDeltaOp, ReduceOp, ToyOp, VectorOp, View,
} from '../types.js';
import { LOSS_MODES } from '../types.js';
import {
  checkAct, checkColsum, checkConv, checkLoss, checkMatmul, checkOptim, checkPool, checkRandom, checkReduce, checkToy, checkVector, checkView,
} from '../checks.js';
import { ACTIVATION_IDS } from '../activations.js';
import { seedKey } from '../../rng/philox.js';
import { checkBatchnorm } from '../batchnorm-check.js';
import { coreShared, createCoreMemory, instantiateModule, type CoreFlavour, type WasmCore } from './module.js';
import { CoreThreads, type SpawnCoreWorker } from './threads.js';

/**
 * Scalar slots (f32, 256 KiB). A run alone uses fewer than 4096; a sweep lays
 * its members' concurrent eigen-solvers side by side above that (measure/lockstep.ts).
 */
const SCALARS = 65536;
/**
 * Below this much work (flops) a matmul runs on the calling thread. Waking a
 * sleeping worker costs ~10–50 µs, one that is still polling (threads.ts
 * SPIN_MS) ~1 µs; 1e5 flops take ~3 µs on one thread.
 */
const PARALLEL_MIN_FLOPS = 1e5;
/** What the matmul epilogue's activation (or its derivative) costs per output, in flops. */
const EPILOGUE_FLOPS = 30;
/** Below this many elements pooling, activations and rdelta run on the calling thread. */
const PARALLEL_MIN_ELEMENTS = 1 << 16;

class WasmBuf implements Buf {
  constructor(readonly id: number, readonly length: number, readonly label: string, readonly ptr: number, readonly bytes: number) {}
}

export interface WasmBackendOptions {
  /** The compiled core (build/eoslab*.wasm) and which build it is ('threads' and 'relaxed' share memory). */
  module: WebAssembly.Module;
  flavour: CoreFlavour;
  /** Threads to use, the calling one included (needs the 'threads' build and `spawn`). */
  threads?: number;
  spawn?: SpawnCoreWorker;
  /** For logs and metadata, e.g. the CPU model. */
  description?: string;
}

type Exports = {
  alloc(bytes: number): number;
  mm(params: number, tid: number, nthreads: number): void;
  mmScratchBytes(): number;
  loss(lossId: number, mode: number, B: number, c: number, K: number, f: number, fBs: number, y: number, d: number, dBs: number,
       pe: number, peBs: number, acc: number, accBs: number, rf: number, rfBs: number, scale: number): void;
  colsum(M: number, N: number, K: number, d: number, dBs: number, out: number, outBs: number, accumulate: number): void;
  reduce(n: number, K: number, x: number, xBs: number, y: number, yBs: number, out: number, accumulate: number, scale: number): void;
  vector(n: number, y: number, x: number, alpha: number, beta: number, gamma: number): void;
  optim(mode: number, n: number, theta: number, grad: number, m: number, v: number, lr: number, beta: number, beta2: number,
        eps: number, c1: number, c2: number): void;
  toy(model: number, mode: number, K: number, theta: number, v: number, out: number, scal: number): void;
  random(dist: number, out: number, n: number, index0: number, stream: number, k0: number, k1: number, scale: number): void;
  conv(params: number, tid: number, nthreads: number): void;
  convScratchBytes(params: number): number;
  pool(params: number, tid: number, nthreads: number): void;
  poolScratchBytes(params: number): number;
  actOp(params: number, tid: number, nthreads: number): void;
  rdeltaOp(params: number, tid: number, nthreads: number): void;
  batchnorm(params: number): void;
  batchnormOp(params: number, tid: number, nthreads: number): void;
};

// Word offsets of the matmul params block (core/wasm/matmul.ts).
const MM_WORDS = 26;
/** Words of the params block of conv, pool, actOp and rdeltaOp (core/wasm/conv-common.ts, pool.ts, ops.ts). */
const OP_WORDS = 40;

export class WasmBackend implements Backend {
  readonly kind = 'wasm' as const;
  readonly description: string;
  readonly scalarCapacity = SCALARS;
  readonly threads: number;
  private nextId = 1;
  private freeBufs = new Map<number, WasmBuf[]>();
  private x: Exports;
  private scalars: WasmBuf;
  get scalarsBuf(): Buf { return this.scalars; }
  private mmParams: number;
  private opParams: number;
  private scratch: number;
  private scratchStride: number;
  /** Per-thread scratch of conv and pool (padded images, tables), grown on demand. */
  private opScratch = 0;
  private opScratchStride = 0;
  private destroyed = false;
  private view: Float32Array;

  private constructor(private core: WasmCore, readonly flavour: CoreFlavour, private threadPool: CoreThreads | null, description: string) {
    this.x = core.exports as unknown as Exports;
    this.threads = threadPool?.count ?? 1;
    this.description = description;
    this.view = new Float32Array(core.memory.buffer);
    this.scratchStride = this.x.mmScratchBytes();
    this.scratch = this.x.alloc(this.scratchStride * this.threads) >>> 0;
    this.mmParams = this.x.alloc(MM_WORDS * 4) >>> 0;
    this.opParams = this.x.alloc(OP_WORDS * 4) >>> 0;
    this.scalars = this.alloc(SCALARS, 'scalars') as WasmBuf;
  }

  static async create(opts: WasmBackendOptions): Promise<WasmBackend> {
    const shared = coreShared(opts.flavour);
    const memory = createCoreMemory(shared);
    const core = await instantiateModule(opts.module, memory);
    const want = Math.max(1, Math.floor(opts.threads ?? 1));
    let pool: CoreThreads | null = null;
    if (want > 1) {
      if (!shared) throw new Error(`--threads ${want} needs the threads build of the Wasm core (SharedArrayBuffer); this host runs the ${opts.flavour} build: use --threads 1`);
      if (!opts.spawn) throw new Error('Wasm threads need a worker factory from the host');
      pool = await CoreThreads.start(opts.module, memory, want, opts.spawn);
    }
    const simd = opts.flavour === 'scalar' ? 'scalar' : opts.flavour === 'relaxed' ? 'f32x4 relaxed SIMD' : 'f32x4 SIMD';
    const desc = `WebAssembly (${simd}, ${want} thread${want > 1 ? 's' : ''})${opts.description ? ` on ${opts.description}` : ''}`;
    return new WasmBackend(core, opts.flavour, pool, desc);
  }

  // ---- memory ---------------------------------------------------------------

  /** The f32 view of all of memory, re-created after growth. */
  private mem(): Float32Array {
    const b = this.core.memory.buffer;
    if (this.view.buffer !== b || this.view.byteLength !== b.byteLength) this.view = new Float32Array(b);
    return this.view;
  }

  private live(): void {
    if (this.destroyed) throw new Error('backend used after destroy()');
  }

  alloc(length: number, label: string): Buf {
    this.live();
    if (!Number.isInteger(length) || length <= 0) throw new Error(`alloc '${label}': length must be a positive integer, got ${length}`);
    const bytes = Math.ceil((length * 4) / 64) * 64;
    const free = this.freeBufs.get(bytes)?.pop();
    let ptr = free?.ptr;
    if (ptr === undefined) {
      const have = this.core.memory.buffer.byteLength;
      if (have + bytes > 4 * 2 ** 30 - 2 ** 26) {
        throw new Error(`buffer '${label}' needs ${(bytes / 2 ** 20).toFixed(1)} MiB, past the 4 GiB Wasm memory: use fewer models or less data`);
      }
      try {
        ptr = this.x.alloc(bytes) >>> 0;
      } catch {
        throw new Error(`out of memory allocating '${label}' (${(bytes / 2 ** 20).toFixed(1)} MiB) in the Wasm core: use fewer models or less data`);
      }
    }
    const buf = new WasmBuf(this.nextId++, length, label, ptr, bytes);
    // Fresh buffers are zero on WebGPU; recycled ones must be too.
    if (free) this.mem().fill(0, ptr / 4, (ptr + bytes) / 4);
    return buf;
  }

  release(buf: Buf): void {
    const b = buf as WasmBuf;
    const list = this.freeBufs.get(b.bytes) ?? [];
    list.push(b);
    this.freeBufs.set(b.bytes, list);
  }

  write(buf: Buf, data: Float32Array, offset = 0): void {
    this.live();
    if (offset + data.length > buf.length) throw new Error(`write to '${buf.label}': ${data.length} values at ${offset} exceed its length ${buf.length}`);
    this.mem().set(data, (buf as WasmBuf).ptr / 4 + offset);
  }

  async read(buf: Buf, offset = 0, length = buf.length - offset): Promise<Float32Array> {
    this.live();
    if (offset + length > buf.length) throw new Error(`read from '${buf.label}': range exceeds its length ${buf.length}`);
    return this.mem32(buf, offset, length);
  }

  /** A copy of `length` values of `buf` from `offset`, synchronously (the CPU is the device). */
  mem32(buf: Buf, offset: number, length: number): Float32Array {
    const p = (buf as WasmBuf).ptr / 4 + offset;
    return this.mem().slice(p, p + length);
  }

  /** Byte address of element `off` of a view. */
  private at(v: View | undefined): number {
    return v ? (v.buf as WasmBuf).ptr + 4 * v.off : 0;
  }

  private ptr(b: Buf | undefined, off = 0): number {
    return b ? (b as WasmBuf).ptr + 4 * off : 0;
  }

  // ---- ops ------------------------------------------------------------------

  matmul(op: MatmulOp): void {
    this.live();
    checkMatmul(op);
    const p = new Int32Array(this.core.memory.buffer, this.mmParams, MM_WORDS);
    p.set([{ ab: 0, abt: 1, atb: 2 }[op.layout], op.M, op.N, op.L, op.K,
      this.at(op.a), op.a.bs, this.at(op.b), op.b.bs, this.at(op.c), op.c.bs,
      this.at(op.bias), op.bias?.bs ?? 0, this.at(op.dact), op.dact?.bs ?? 0, this.at(op.out2), op.out2?.bs ?? 0,
      0, op.accumulate ? 1 : 0, ACTIVATION_IDS[op.act ?? 'identity'], op.applyAct ? 1 : 0, this.scratch, this.scratchStride,
      this.at(op.dactOut), op.dactOut?.bs ?? 0]);
    new Float32Array(p.buffer, p.byteOffset, MM_WORDS)[17] = op.alpha ?? 1;
    // A tanh-like epilogue costs as much as ~30 flops an output: an L = 1 input layer is all epilogue.
    const epilogue = op.applyAct || op.dact ? EPILOGUE_FLOPS * op.M * op.N * op.K : 0;
    const work = 2 * op.M * op.N * op.L * op.K + epilogue;
    const n = this.threadPool && work >= PARALLEL_MIN_FLOPS ? this.threads : 1;
    if (n > 1) this.threadPool!.mm((tid, nt) => this.x.mm(this.mmParams, tid, nt), this.mmParams, n);
    else this.x.mm(this.mmParams, 0, 1);
  }

  rdelta(op: RDeltaOp): void {
    this.live();
    for (const [w, v] of [['a', op.a], ['ra', op.ra], ['g', op.g], ['s', op.s], ['out', op.out], ['aOut', op.aOut]] as const) {
      if (v) checkView(`rdelta ${w}`, v, op.perModel, op.K);
    }
    this.params([ACTIVATION_IDS[op.act], op.perModel, op.K, this.at(op.a), op.a.bs, this.at(op.ra), op.ra.bs,
      this.at(op.g), op.g.bs, this.at(op.s), op.s.bs, this.at(op.out), op.out.bs, this.at(op.aOut), op.aOut?.bs ?? 0]);
    this.parallel('rdeltaOp', op.K * op.perModel >= PARALLEL_MIN_ELEMENTS);
  }

  loss(op: LossOp): void {
    this.live();
    checkLoss(op);
    this.x.loss(op.loss === 'mse' ? 0 : 1, LOSS_MODES[op.mode], op.B, op.c, op.K, this.at(op.f), op.f.bs, this.at(op.y),
      this.at(op.d), op.d.bs, this.at(op.pe), op.pe?.bs ?? 0, this.at(op.acc), op.acc?.bs ?? 0, this.at(op.rf), op.rf?.bs ?? 0, op.scale);
  }

  colsum(op: ColsumOp): void {
    this.live();
    checkColsum(op);
    this.x.colsum(op.M, op.N, op.K, this.at(op.d), op.d.bs, this.at(op.out), op.out.bs, op.accumulate ? 1 : 0);
  }

  reduce(op: ReduceOp): void {
    this.live();
    checkReduce(op, SCALARS);
    this.x.reduce(op.n, op.K, this.at(op.x), op.x.bs, this.at(op.y), op.y?.bs ?? 0, this.ptr(this.scalars, op.slot),
      op.accumulate ? 1 : 0, op.scale ?? 1);
  }

  vector(op: VectorOp): void {
    this.live();
    checkVector(op);
    this.x.vector(op.n, this.ptr(op.y, op.yOff ?? 0), this.ptr(op.x, op.xOff ?? 0), op.alpha ?? 1, op.beta ?? 0, op.gamma ?? 0);
  }

  random(op: RandomOp): void {
    this.live();
    checkRandom(op);
    const [k0, k1] = seedKey(op.seed);
    const dist = { bits: 0, uniform: 1, signed: 2, normal: 3, rademacher: 4 }[op.dist];
    this.x.random(dist, this.ptr(op.out, op.off ?? 0), op.n, op.index0 ?? 0, op.stream >>> 0, k0, k1, op.scale ?? 1);
  }

  optim(op: OptimOp): void {
    this.live();
    checkOptim(op);
    const mode = { polyak: 0, nesterov: 1, adam: 2, rmsprop: 3, precond: 4, scale: 5 }[op.mode];
    this.x.optim(mode, op.n, this.ptr(op.theta, op.off ?? 0), this.ptr(op.grad, op.off ?? 0), this.ptr(op.m), this.ptr(op.v),
      op.lr ?? 0, op.beta ?? 0, op.beta2 ?? 0, op.eps ?? 0, op.c1 ?? 1, op.c2 ?? 1);
  }

  toy(op: ToyOp): void {
    this.live();
    checkToy(op, SCALARS);
    const model = { xyzw: 0, x2y2: 1, xy: 2 }[op.model];
    this.x.toy(model, op.mode === 'grad' ? 0 : 1, op.K, this.ptr(op.theta), this.ptr(op.v), this.ptr(op.out), this.ptr(this.scalars, op.slot));
  }

  /** Writes the op params block. */
  private params(words: number[]): void {
    const p = new Int32Array(this.core.memory.buffer, this.opParams, OP_WORDS);
    p.fill(0);
    p.set(words);
  }

  /** Makes the per-thread op scratch at least `bytes` a thread; returns [address, stride]. */
  private opScratchFor(bytes: number): [number, number] {
    if (bytes > this.opScratchStride) {
      const stride = Math.max(Math.ceil(bytes / 64) * 64, 2 * this.opScratchStride);
      const total = stride * this.threads;
      if (this.core.memory.buffer.byteLength + total > 4 * 2 ** 30 - 2 ** 26) {
        throw new Error(`conv/pool scratch needs ${(total / 2 ** 20).toFixed(1)} MiB, past the 4 GiB Wasm memory: use smaller images or fewer threads`);
      }
      this.opScratch = this.x.alloc(total) >>> 0;
      this.opScratchStride = stride;
    }
    return [this.opScratch, this.opScratchStride];
  }

  /** Runs a parallel kernel of the core on enough threads for `work`. */
  private parallel(kernel: 'conv' | 'pool' | 'actOp' | 'rdeltaOp' | 'batchnormOp', parallel: boolean): void {
    const run = this.x[kernel];
    const n = this.threadPool && parallel ? this.threads : 1;
    if (n > 1) this.threadPool!.call(kernel, (tid, nt) => run(this.opParams, tid, nt), this.opParams, n);
    else run(this.opParams, 0, 1);
  }

  conv(op: ConvOp): void {
    this.live();
    checkConv(op);
    const s = op.shape;
    const pp = op.pool ? [op.pool.dst, op.pool.route] : op.unpool ? [op.unpool.src, op.unpool.route] : null;
    const poolWords = pp ? [op.pool ? 1 : 2, this.at(pp[0]), pp[0].bs, this.at(pp[1]), pp[1].bs] : [0];
    this.params([{ forward: 0, dinput: 1, dweight: 2 }[op.mode], op.B, op.K, s.Cin, s.H, s.W, s.Cout, s.kh, s.kw, s.stride,
      s.padH, s.padW, s.Ho, s.Wo, this.at(op.x), op.x.bs, this.at(op.w), op.w.bs, this.at(op.y), op.y.bs,
      this.at(op.bias), op.bias?.bs ?? 0, op.accumulate ? 1 : 0, this.scratch, this.scratchStride, 0, 0,
      op.act ? ACTIVATION_IDS[op.act] + 1 : 0, ...poolWords]);
    // Scratch may grow memory (detaching p's buffer when unshared): a fresh view.
    const [cs, stride] = this.opScratchFor(this.x.convScratchBytes(this.opParams));
    new Int32Array(this.core.memory.buffer, this.opParams, OP_WORDS).set([cs, stride], 25);
    const flops = 2 * op.K * op.B * s.Cout * s.Cin * s.kh * s.kw * s.Ho * s.Wo;
    this.parallel('conv', flops >= PARALLEL_MIN_FLOPS);
  }

  pool(op: PoolOp): void {
    this.live();
    checkPool(op);
    const s = op.shape;
    this.params([op.kind === 'max' ? 0 : 1, { forward: 0, tangent: 1, backward: 2 }[op.mode], op.B, op.K, s.C, s.H, s.W,
      s.kh, s.kw, s.stride, s.pad, s.Ho, s.Wo, this.at(op.x), op.x.bs, this.at(op.src), op.src?.bs ?? 0,
      this.at(op.dst), op.dst.bs, op.accumulate ? 1 : 0]);
    const [cs, stride] = this.opScratchFor(this.x.poolScratchBytes(this.opParams));
    new Int32Array(this.core.memory.buffer, this.opParams, OP_WORDS).set([cs, stride, op.reluMask ? 1 : 0, this.at(op.route), op.route?.bs ?? 0], 20);
    this.parallel('pool', op.K * op.B * s.C * s.H * s.W >= PARALLEL_MIN_ELEMENTS);
  }

  activation(op: ActOp): void {
    this.live();
    checkAct(op);
    this.params([ACTIVATION_IDS[op.act], op.mode === 'apply' ? 0 : 1, op.perModel, op.K, this.at(op.x), op.x.bs,
      this.at(op.a), op.a?.bs ?? 0, this.at(op.out), op.out.bs, this.at(op.aOut), op.aOut?.bs ?? 0]);
    this.parallel('actOp', op.K * op.perModel >= PARALLEL_MIN_ELEMENTS);
  }

  /** BatchNorm (core/wasm/batchnorm.ts): whole channels per thread (a channel's sums are one serial reduction, so any split gives the same bits). */
  batchnorm(op: BatchNormOp): void {
    this.live();
    checkBatchnorm(op);
    const f = new Float32Array([op.eps]);
    this.params([{ forward: 0, backward: 1, tangent: 2, rbackward: 3 }[op.mode], op.B, op.C, op.S, op.K, new Int32Array(f.buffer)[0],
      this.at(op.x), op.x.bs, this.at(op.w), op.w.bs, this.at(op.v), op.v?.bs ?? 0, this.at(op.dy), op.dy?.bs ?? 0,
      this.at(op.rx), op.rx?.bs ?? 0, this.at(op.rdy), op.rdy?.bs ?? 0, this.at(op.out), op.out?.bs ?? 0,
      this.at(op.g ?? op.running), (op.g ?? op.running)?.bs ?? 0, op.accumulate ? 1 : 0, op.gaussNewton ? 1 : 0]);
    this.parallel('batchnormOp', op.K * op.C > 1 && op.K * op.C * op.B * op.S >= PARALLEL_MIN_ELEMENTS);
  }

  clearScalars(slot: number, n: number): void {
    this.live();
    if (slot + n > SCALARS) throw new Error(`clearScalars: slots ${slot}..${slot + n} exceed ${SCALARS}`);
    const p = this.scalars.ptr / 4 + slot;
    this.mem().fill(0, p, p + n);
  }

  async readScalars(slot: number, n: number): Promise<Float64Array> {
    this.live();
    const p = this.scalars.ptr / 4 + slot;
    return Float64Array.from(this.mem().subarray(p, p + n));
  }

  async flush(): Promise<void> {
    this.live();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.threadPool?.stop();
  }
}
