// The WebGPU implementation of the op set. Ops are encoded into one compute
// pass of one command encoder; their parameters go into one uniform arena
// (bound with dynamic offsets) that is uploaded once per submission. Buffers
// are pooled, pipelines and bind groups cached. Only read-backs wait.
import { noAlias } from './no-alias.js';
import type {
  ActOp, Backend, BatchNormOp, Buf, ColsumOp, ConvOp, LossOp, MatmulOp, OptimOp, PoolOp, PoolShape, RandomOp, RDeltaOp, ReduceOp, ToyOp, VectorOp, View,
} from '../types.js';
import { LOSS_MODES } from '../types.js';
import { ACTIVATION_IDS } from '../activations.js';
import { seedKey } from '../../rng/philox.js';
import { checkBatchnorm } from '../batchnorm-check.js';
import {
  checkAct, checkColsum, checkConv, checkLoss, checkMatmul, checkOptim, checkPool, checkRandom, checkReduce, checkToy, checkVector,
  poolShape,
} from '../checks.js';
import { DeviceErrors } from './device-errors.js';
import { KERNELS, kernelSource, type ConstValue, type KernelName } from './kernels.js';
import { MatmulTuner, variantConsts, variantEligible, variantGrid, type MatmulVariant } from './matmul-variants.js';
import { ConvTuner, convGemm, convKernel, convModels, convModelsPerDispatch, convSplit, convTile, convVariantConsts, type ConvVariant } from './conv-variants.js';

const ARENA_BYTES = 256 * 1024;
const BLOCK = 256; // minUniformBufferOffsetAlignment, the largest the spec allows
// Scalar slots (f32, 256 KiB): a run alone uses < 4096, a sweep's concurrent solvers sit above (measure/lockstep.ts).
const SCALARS = 65536;
const BUF_USAGE = 0x80 /* STORAGE */ | 0x4 /* COPY_SRC */ | 0x8; /* COPY_DST */

class GpuBuf implements Buf {
  constructor(readonly id: number, readonly length: number, readonly label: string, readonly gpu: GPUBuffer) {}
}

export interface WebGPUBackendOptions {
  /** Adapter description for logs/metadata (hosts read GPUAdapterInfo). */
  description?: string;
  /** True for software adapters (SwiftShader, lavapipe): picks CPU-friendly default kernels. */
  cpuLike?: boolean;
  /** Persisted autotune choices, keyed per adapter by the host. */
  tuneCache?: Map<string, string>;
  /** Skip autotuning and use this matmul variant everywhere (tests). */
  forceMatmul?: string;
  /** Skip autotuning and use this conv variant everywhere (tests). */
  forceConv?: string;
}

export class WebGPUBackend implements Backend {
  readonly kind = 'webgpu' as const;
  readonly description: string;
  readonly scalarCapacity = SCALARS;
  readonly errors: DeviceErrors;
  readonly tuner: MatmulTuner;
  readonly convTuner: ConvTuner;

  private nextId = 1;
  private freeBufs = new Map<number, GPUBuffer[]>();
  private pipelines = new Map<string, GPUComputePipeline>();
  private layouts = new Map<KernelName, GPUBindGroupLayout>();
  private bindGroups = new Map<string, GPUBindGroup>();
  private arena: GPUBuffer;
  private arenaCpu = new ArrayBuffer(ARENA_BYTES);
  private arenaUsed = 0;
  private enc: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private scalars: GpuBuf;
  get scalarsBuf(): Buf { return this.scalars; }
  private partials: GpuBuf;
  /** Split conv dweight partial sums (conv-variants.ts convSplit), grown on demand. */
  private convScratch: GpuBuf | null = null;
  private dummyRead: GpuBuf;
  /** One per binding slot: two unused writable bindings must not alias. */
  private dummyRw: GpuBuf[] = [];
  private destroyed = false;

  constructor(readonly device: GPUDevice, opts: WebGPUBackendOptions = {}) {
    this.description = opts.description ?? 'WebGPU adapter';
    this.errors = new DeviceErrors(device);
    this.tuner = new MatmulTuner(this, opts.cpuLike ?? false, opts.tuneCache, opts.forceMatmul);
    this.convTuner = new ConvTuner(this, opts.cpuLike ?? false, this.tuner.choices, opts.forceConv);
    this.arena = device.createBuffer({ size: ARENA_BYTES, usage: 0x40 /* UNIFORM */ | 0x8, label: 'uniform arena' });
    this.scalars = this.alloc(SCALARS, 'scalars') as GpuBuf;
    this.partials = this.alloc(256 * 64, 'reduce partials') as GpuBuf;
    this.dummyRead = this.alloc(4, 'unused read binding') as GpuBuf;
    for (let i = 0; i < 8; i++) this.dummyRw.push(this.alloc(4, `unused write binding ${i}`) as GpuBuf);
  }

  // ---- memory ---------------------------------------------------------------

  alloc(length: number, label: string): Buf {
    if (!Number.isInteger(length) || length <= 0) throw new Error(`alloc '${label}': length must be a positive integer, got ${length}`);
    const bytes = Math.ceil((length * 4) / 256) * 256;
    const max = this.device.limits.maxStorageBufferBindingSize;
    if (bytes > max) {
      throw new Error(`buffer '${label}' needs ${(bytes / 2 ** 20).toFixed(1)} MiB, over this adapter's ${(max / 2 ** 20).toFixed(0)} MiB storage binding limit: use a smaller --physical-batch-size, fewer models or less data`);
    }
    const free = this.freeBufs.get(bytes);
    const gpu = free?.pop() ?? this.errors.scoped(`allocating '${label}'`, () =>
      this.device.createBuffer({ size: bytes, usage: BUF_USAGE, label }));
    return new GpuBuf(this.nextId++, length, label, gpu);
  }

  release(buf: Buf): void {
    const g = (buf as GpuBuf).gpu;
    for (const k of [...this.bindGroups.keys()]) if (k.includes(`#${buf.id}#`)) this.bindGroups.delete(k);
    const list = this.freeBufs.get(g.size) ?? [];
    list.push(g);
    this.freeBufs.set(g.size, list);
  }

  write(buf: Buf, data: Float32Array, offset = 0): void {
    if (offset + data.length > buf.length) throw new Error(`write to '${buf.label}': ${data.length} values at ${offset} exceed its length ${buf.length}`);
    // Queued ops must run before this write lands: submit them first.
    this.submit();
    this.device.queue.writeBuffer((buf as GpuBuf).gpu, offset * 4, data.buffer, data.byteOffset, data.byteLength);
  }

  async read(buf: Buf, offset = 0, length = buf.length - offset): Promise<Float32Array> {
    if (offset + length > buf.length) throw new Error(`read from '${buf.label}': range exceeds its length ${buf.length}`);
    return this.readRaw((buf as GpuBuf).gpu, offset * 4, length * 4).then((b) => new Float32Array(b));
  }

  private async readRaw(src: GPUBuffer, byteOffset: number, bytes: number): Promise<ArrayBuffer> {
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.errors.scoped('read-back buffer', () =>
      this.device.createBuffer({ size: Math.max(size, 4), usage: 0x1 /* MAP_READ */ | 0x8, label: 'staging' }));
    this.endPass();
    this.encoder().copyBufferToBuffer(src, byteOffset, staging, 0, size);
    this.submit();
    await this.errors.check();
    try {
      await staging.mapAsync(0x1 /* READ */);
    } catch (e) {
      this.errors.assertAlive();
      throw new Error(`WebGPU read-back failed: ${(e as Error).message}`);
    }
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    return out;
  }

  // ---- encoding -------------------------------------------------------------

  private encoder(): GPUCommandEncoder {
    this.errors.assertAlive();
    if (this.destroyed) throw new Error('backend used after destroy()');
    return (this.enc ??= this.device.createCommandEncoder());
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private submit(): void {
    if (!this.enc) return;
    this.endPass();
    const enc = this.enc;
    this.enc = null;
    this.errors.scoped('submitting kernels', () => {
      if (this.arenaUsed > 0) this.device.queue.writeBuffer(this.arena, 0, this.arenaCpu, 0, this.arenaUsed);
      this.device.queue.submit([enc.finish()]);
    });
    this.arenaUsed = 0;
  }

  async flush(): Promise<void> {
    this.submit();
    await this.device.queue.onSubmittedWorkDone();
    await this.errors.check();
  }

  /** Reserves a uniform block; returns u32 and f32 views of its `bytes`. */
  private params(bytes: number): { u: Uint32Array; f: Float32Array; offset: number } {
    if (this.arenaUsed + BLOCK > ARENA_BYTES) this.submit();
    const offset = this.arenaUsed;
    this.arenaUsed += BLOCK;
    const u = new Uint32Array(this.arenaCpu, offset, bytes / 4);
    u.fill(0);
    return { u, f: new Float32Array(this.arenaCpu, offset, bytes / 4), offset };
  }

  private layout(name: KernelName): GPUBindGroupLayout {
    let l = this.layouts.get(name);
    if (!l) {
      const def = KERNELS[name];
      l = this.device.createBindGroupLayout({
        label: name,
        entries: def.bindings.map((b, i) => ({
          binding: i,
          visibility: 0x4, // COMPUTE
          buffer: b === 'uniform'
            ? { type: 'uniform' as const, hasDynamicOffset: true, minBindingSize: def.paramBytes }
            : { type: b === 'read' ? 'read-only-storage' as const : 'storage' as const },
        })),
      });
      this.layouts.set(name, l);
    }
    return l;
  }

  private pipeline(name: KernelName, consts: Record<string, ConstValue>): GPUComputePipeline {
    const key = name + JSON.stringify(consts);
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.errors.scoped(`compiling kernel ${name} ${JSON.stringify(consts)}`, () => {
        const module = this.device.createShaderModule({ code: kernelSource(name, consts), label: name });
        return this.device.createComputePipeline({
          label: name,
          layout: this.device.createPipelineLayout({ bindGroupLayouts: [this.layout(name)] }),
          compute: { module, entryPoint: 'main' },
        });
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  private dispatch(name: KernelName, consts: Record<string, ConstValue>, paramOffset: number,
                   bufs: (Buf | undefined)[], groups: [number, number, number]): void {
    if (groups[0] === 0 || groups[1] === 0 || groups[2] === 0) return;
    const maxG = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (groups.some((g) => g > maxG)) throw new Error(`kernel ${name}: dispatch ${groups.join('×')} exceeds ${maxG} workgroups per dimension`);
    const def = KERNELS[name];
    const gpuBufs = bufs.map((b, i) => (b ?? (def.bindings[i + 1] === 'rw' ? this.dummyRw[i] : this.dummyRead)) as GpuBuf);
    const key = `${name}#${gpuBufs.map((b) => b.id).join('#')}#`;
    let bg = this.bindGroups.get(key);
    if (!bg) {
      bg = this.device.createBindGroup({
        layout: this.layout(name),
        entries: [
          { binding: 0, resource: { buffer: this.arena, offset: 0, size: def.paramBytes } },
          ...gpuBufs.map((b, i) => ({ binding: i + 1, resource: { buffer: b.gpu } })),
        ],
      });
      this.bindGroups.set(key, bg);
    }
    const pipe = this.pipeline(name, consts);
    this.encoder();
    this.pass ??= this.enc!.beginComputePass();
    this.pass.setPipeline(pipe);
    this.pass.setBindGroup(0, bg, [paramOffset]);
    this.pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
  }

  /** A 2-D grid of 256-wide workgroups covering n elements; returns [x, y, pitch]. */
  private grid(n: number): [number, number, number] {
    const wgs = Math.max(1, Math.ceil(n / 256));
    const x = Math.min(wgs, this.device.limits.maxComputeWorkgroupsPerDimension);
    return [x, Math.ceil(wgs / x), x * 256];
  }

  // ---- ops ------------------------------------------------------------------

  matmul(op: MatmulOp, variant?: MatmulVariant): void {
    checkMatmul(op);
    // An explicit variant that cannot run this op (matmul_vec4 on unaligned
    // operands) gives way to the tuner's choice, which always can.
    const v = variant && variantEligible(variant, op) ? variant : this.tuner.choose(op);
    const p = this.params(80);
    p.u.set([op.M, op.N, op.L, op.K, op.a.off, op.a.bs, op.b.off, op.b.bs, op.c.off, op.c.bs,
      op.bias?.off ?? 0, op.bias?.bs ?? 0, op.dact?.off ?? 0, op.dact?.bs ?? 0, op.out2?.off ?? 0, op.out2?.bs ?? 0]);
    p.f[16] = op.alpha ?? 1;
    const consts = {
      ...variantConsts(v),
      LAYOUT: { ab: 0, abt: 1, atb: 2 }[op.layout],
      ACT: ACTIVATION_IDS[op.act ?? 'identity'],
      ACCUM: !!op.accumulate,
      HAS_BIAS: !!op.bias,
      HAS_OUT2: !!op.out2,
      APPLY_ACT: !!op.applyAct,
      HAS_DACT: !!op.dact,
    };
    this.dispatch(v.kernel, consts, p.offset,
      [op.a.buf, op.b.buf, op.c.buf, op.bias?.buf, op.dact?.buf, op.out2?.buf], variantGrid(v, op));
  }

  rdelta(op: RDeltaOp): void {
    const n = op.perModel * op.K;
    const [x, y, pitch] = this.grid(n);
    const p = this.params(64);
    p.u.set([n, op.perModel, op.K, pitch, op.a.off, op.a.bs, op.ra.off, op.ra.bs, op.g.off, op.g.bs,
      op.s.off, op.s.bs, op.out.off, op.out.bs]);
    this.dispatch('rdelta', { ACT: ACTIVATION_IDS[op.act] }, p.offset,
      [op.a.buf, op.ra.buf, op.g.buf, op.s.buf, op.out.buf], [x, y, 1]);
  }

  loss(op: LossOp): void {
    checkLoss(op);
    const p = this.params(64);
    p.u.set([op.B, op.c, op.K, 0, op.f.off, op.f.bs, op.y.off, op.d.off, op.d.bs,
      op.pe?.off ?? 0, op.pe?.bs ?? 0, op.rf?.off ?? 0, op.rf?.bs ?? 0, 0, op.acc?.off ?? 0, op.acc?.bs ?? 0]);
    p.f[13] = op.scale;
    this.dispatch('loss', { LOSS: op.loss === 'mse' ? 0 : 1, MODE: LOSS_MODES[op.mode] }, p.offset,
      [op.f.buf, op.y.buf, op.d.buf, op.pe?.buf, op.rf?.buf], [Math.ceil(op.B / 64), op.K, 1]);
  }

  colsum(op: ColsumOp): void {
    checkColsum(op);
    const p = this.params(32);
    p.u.set([op.M, op.N, op.K, 0, op.d.off, op.d.bs, op.out.off, op.out.bs]);
    this.dispatch('colsum', { ACCUM: op.accumulate }, p.offset, [op.d.buf, op.out.buf], [Math.ceil(op.N / 64), op.K, 1]);
  }

  reduce(op: ReduceOp): void {
    checkReduce(op, SCALARS);
    // Fixed chunking (a function of n only) keeps the summation order, hence
    // the bits, identical from run to run.
    const nchunks = Math.min(256, Math.max(1, Math.ceil(op.n / 4096)));
    const chunk = Math.ceil(op.n / nchunks);
    if (nchunks * op.K > this.partials.length) {
      this.partials = this.alloc(nchunks * op.K, 'reduce partials') as GpuBuf; // the old one stays referenced by queued work
    }
    for (const stage of [1, 2]) {
      const p = this.params(48);
      p.u.set([op.n, chunk, nchunks, op.K, op.x.off, op.x.bs, op.y?.off ?? 0, op.y?.bs ?? 0, op.slot]);
      p.f[9] = op.scale ?? 1;
      this.dispatch('reduce', { STAGE: stage, DOT: !!op.y, ACCUM: !!op.accumulate }, p.offset,
        [op.x.buf, op.y?.buf, this.partials, this.scalars], stage === 1 ? [nchunks, op.K, 1] : [op.K, 1, 1]);
    }
  }

  vector(op: VectorOp): void {
    checkVector(op);
    const yOff = op.yOff ?? 0, xOff = op.xOff ?? 0;
    const [x, y, pitch] = this.grid(op.n);
    const p = this.params(32);
    p.u.set([op.n, pitch, xOff, yOff]);
    p.f[4] = op.alpha ?? 1; p.f[5] = op.beta ?? 0; p.f[6] = op.gamma ?? 0;
    this.dispatch('vector', { HAS_X: !!op.x }, p.offset, [op.x, op.y], [x, y, 1]);
  }

  random(op: RandomOp): void {
    checkRandom(op);
    const off = op.off ?? 0;
    const [k0, k1] = seedKey(op.seed);
    const [x, y, pitch] = this.grid(op.n);
    const p = this.params(32);
    p.u.set([op.n, pitch, off, op.index0 ?? 0, k0, k1, op.stream >>> 0]);
    p.f[7] = op.scale ?? 1;
    const dist = { bits: 0, uniform: 1, signed: 2, normal: 3, rademacher: 4 }[op.dist];
    this.dispatch('rng', { DIST: dist }, p.offset, [op.out], [x, y, 1]);
  }

  optim(op: OptimOp): void {
    checkOptim(op);
    const [x, y, pitch] = this.grid(op.n);
    const p = this.params(48);
    p.u.set([op.n, pitch, op.off ?? 0]);
    p.f.set([op.lr ?? 0, op.beta ?? 0, op.beta2 ?? 0, op.eps ?? 0, op.c1 ?? 1, op.c2 ?? 1], 4);
    const mode = { polyak: 0, nesterov: 1, adam: 2, rmsprop: 3, precond: 4, scale: 5 }[op.mode];
    this.dispatch('optim', { MODE: mode }, p.offset, [op.theta, op.grad, op.m, op.v], [x, y, 1]);
  }

  toy(op: ToyOp): void {
    const P = checkToy(op, SCALARS);
    const p = this.params(16);
    p.u.set([op.K, P, op.slot]);
    const model = { xyzw: 0, x2y2: 1, xy: 2 }[op.model];
    this.dispatch('toy', { MODEL: model, MODE: op.mode === 'grad' ? 0 : 1 }, p.offset, [op.theta, op.v, op.out, this.scalars], [Math.ceil(op.K / 64), 1, 1]);
  }

  /**
   * Conv2d (ConvOp in types.ts) as an implicit GEMM (core/shaders/conv_common.wgsl),
   * with the tuned variant for its size class, or `variant` (tests).
   */
  conv(op: ConvOp, variant?: ConvVariant): void {
    checkConv(op);
    const s = op.shape;
    // dweight from routes: unpool into y (scratch by the contract), then the plain dweight.
    if (op.unpool) {
      const ps = poolShape({ C: s.Cout, H: s.Ho, W: s.Wo, kh: 2 });
      this.pool({ kind: 'max', mode: 'backward', shape: ps, B: op.B, K: op.K, x: op.y, src: op.unpool.src, dst: op.y, route: op.unpool.route });
    }
    const [rd1, rd2, wr] = op.mode === 'forward' ? [op.x, op.w, op.y] : op.mode === 'dinput' ? [op.y, op.w, op.x] : [op.y, op.x, op.w];
    noAlias(`conv ${op.mode}`, wr.buf, [rd1.buf, rd2.buf, ...(op.bias && op.mode === 'forward' ? [op.bias.buf] : [])]);
    if (op.bias && op.mode === 'dweight') noAlias('conv dweight bias', op.bias.buf, [rd1.buf, rd2.buf]);
    const v = variant ?? this.convTuner.choose(op);
    const { M, N, L } = convGemm(op);
    const { S, chunk } = convSplit(op, v), per = convModelsPerDispatch(op, S);
    // dweight (no epilogue) in groups of models: the split is per model, and K of them may not fit at once.
    if (per < op.K) { for (let k0 = 0; k0 < op.K; k0 += per) this.conv(convModels(op, k0, Math.min(per, op.K - k0)), v); return; }
    const split = S > 1;
    const nOut = op.K * M * N;
    const [sx, sy, pitch] = this.grid(nOut);
    // Weights and bias gradients are often views of one flat gradient: one writable binding.
    const biasInW = op.mode === 'dweight' && !!op.bias && op.bias.buf.id === op.w.buf.id;
    const flags = (op.accumulate ? 1 : 0) | (op.bias && op.mode === 'forward' ? 2 : 0) | (split ? 4 : 0) | (biasInW ? 8 : 0);
    const p = this.params(112);
    p.u.set([M, N, L, S, s.Cin, s.H, s.W, s.Cout, s.Ho, s.Wo, s.padH, s.padW,
      op.x.off, op.x.bs, op.w.off, op.w.bs, op.y.off, op.y.bs, op.bias?.off ?? 0, op.bias?.bs ?? 0,
      chunk, s.Cin * s.kh * s.kw, nOut, pitch, flags]);
    // The geometry is compiled in; the epilogue switches are runtime flags (conv_common.wgsl).
    const consts = { KH: s.kh, KW: s.kw, STRIDE: s.stride, ...convVariantConsts(v) };
    let bufs: (Buf | undefined)[];
    if (op.mode === 'forward') bufs = [op.x.buf, op.w.buf, op.y.buf, op.bias?.buf];
    else if (op.mode === 'dinput') bufs = [op.y.buf, op.w.buf, op.x.buf];
    else if (!split) bufs = [op.y.buf, op.x.buf, op.w.buf, biasInW ? undefined : op.bias?.buf];
    else {
      if (!this.convScratch || this.convScratch.length < nOut * S) {
        // Queued work still using the old one runs first: the queue is ordered.
        if (this.convScratch) this.release(this.convScratch);
        this.convScratch = this.alloc(nOut * S, 'conv dweight partials') as GpuBuf;
      }
      bufs = [op.y.buf, op.x.buf, this.convScratch, undefined];
    }
    // Tiles numbered over x and y: any M·N fits maxComputeWorkgroupsPerDimension.
    const [tm, tn] = convTile(v);
    const tiles = Math.ceil(M / tm) * Math.ceil(N / tn);
    const gx = Math.min(tiles, this.device.limits.maxComputeWorkgroupsPerDimension);
    this.dispatch(convKernel(op.mode, v), consts, p.offset, bufs, [gx, Math.ceil(tiles / gx), op.K * S]);
    if (split) {
      // flags' F_SPLIT only steers the first pass; the sum reads F_ACCUM and F_BIAS_IN_W.
      this.dispatch('conv_dweight_sum', { KH: 1, KW: 1 }, p.offset,
        [this.convScratch!, op.w.buf, biasInW ? undefined : op.bias?.buf], [sx, sy, 1]);
    }
    // The activation epilogue as a second dispatch in place (the Wasm core fuses it): the same values.
    if (op.act) this.activation({ act: op.act, mode: 'apply', perModel: op.B * s.Cout * s.Ho * s.Wo, K: op.K, x: op.y, out: op.y });
    // The max-pool epilogue as two more passes over y (the Wasm core pools from cache): pooled values, then routes.
    if (op.pool) {
      const ps = poolShape({ C: s.Cout, H: s.Ho, W: s.Wo, kh: 2 });
      this.pool({ kind: 'max', mode: 'forward', shape: ps, B: op.B, K: op.K, x: op.y, dst: op.pool.dst });
      this.poolDispatch(ps, op.B, op.K, 2, op.y, op.y, op.pool.route, false, false);
    }
  }

  /** Max / average pooling (PoolOp in types.ts, core/shaders/pool.wgsl). */
  pool(op: PoolOp): void {
    checkPool(op);
    const s = op.shape;
    // forward is tangent along x's own routes; route codes are bound in x's place.
    const src = op.mode === 'forward' ? op.x : op.src!;
    this.poolDispatch(s, op.B, op.K, op.mode === 'backward' ? 1 : 0, op.route ?? op.x, src, op.dst, !!op.accumulate, !!op.reluMask,
      op.kind === 'max', !!op.route);
  }

  /** pool.wgsl: MODE 0 forward/tangent, 1 backward, 2 route codes (ConvOp.pool's second pass). */
  private poolDispatch(s: PoolShape, B: number, K: number, mode: 0 | 1 | 2, x: View, src: View, dst: View, accumulate: boolean,
                       reluMask: boolean, max = true, route = false): void {
    noAlias(`pool mode ${mode}`, dst.buf, [x.buf, src.buf]);
    const per = B * s.C * (mode === 1 ? s.H * s.W : s.Ho * s.Wo);
    const n = K * per;
    const [gx, gy, pitch] = this.grid(n);
    const p = this.params(64);
    p.u.set([n, per, pitch, s.C, s.H, s.W, s.Ho, s.Wo, x.off, x.bs, src.off, src.bs, dst.off, dst.bs]);
    const consts = { MAX: max, MODE: mode, ACCUM: accumulate, RELU_MASK: reluMask, ROUTE: route,
      KH: s.kh, KW: s.kw, STRIDE: s.stride, PAD: s.pad };
    this.dispatch('pool', consts, p.offset, [x.buf, src.buf, dst.buf], [gx, gy, 1]);
  }

  /** A standalone activation (ActOp in types.ts, core/shaders/act_map.wgsl); x or a may share out's buffer. */
  activation(op: ActOp): void {
    checkAct(op);
    const n = op.perModel * op.K;
    const [x, y, pitch] = this.grid(n);
    const p = this.params(48);
    const a = op.mode === 'dmul' ? op.a! : undefined;
    p.u.set([n, op.perModel, pitch, 0, op.x.off, op.x.bs, a?.off ?? 0, a?.bs ?? 0, op.out.off, op.out.bs]);
    const xIn = op.x.buf.id === op.out.buf.id, aIn = !!a && a.buf.id === op.out.buf.id;
    this.dispatch('act_map', { ACT: ACTIVATION_IDS[op.act], MODE: op.mode === 'apply' ? 0 : 1, X_IN_OUT: xIn, A_IN_OUT: aIn }, p.offset,
      [xIn ? undefined : op.x.buf, aIn ? undefined : a?.buf, op.out.buf], [x, y, 1]);
  }

  /** BatchNorm (BatchNormOp in types.ts, core/shaders/batchnorm.wgsl): one workgroup per (channel, model). */
  batchnorm(op: BatchNormOp): void {
    checkBatchnorm(op);
    const p = this.params(80);
    // In 'forward' the G binding carries the running statistics (G is unused there).
    const vs = [op.x, op.w, op.v, op.dy, op.rx, op.rdy, op.out, op.g ?? op.running];
    p.u.set([op.B, op.C, op.S, 0, ...vs.flatMap((v) => [v?.off ?? 0, v?.bs ?? 0])]);
    p.f[3] = op.eps;
    const consts = { MODE: { forward: 0, backward: 1, tangent: 2, rbackward: 3 }[op.mode], GN: !!op.gaussNewton, ACCUM: !!op.accumulate,
      HAS_RX: !!op.rx, HAS_OUT: !!op.out, HAS_G: !!(op.g ?? op.running) };
    this.dispatch('batchnorm', consts, p.offset, vs.map((v) => v?.buf), [op.C, op.K, 1]);
  }

  async tuneConv(ops: ConvOp[]): Promise<void> {
    await this.convTuner.tune(ops);
  }

  clearScalars(slot: number, n: number): void {
    this.vector({ n, y: this.scalars, yOff: slot, beta: 0, gamma: 0 });
  }

  async readScalars(slot: number, n: number): Promise<Float64Array> {
    const b = await this.readRaw(this.scalars.gpu, slot * 4, n * 4);
    return Float64Array.from(new Float32Array(b));
  }

  async tune(ops: MatmulOp[]): Promise<void> {
    await this.tuner.tune(ops);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.enc = null;
    this.pass = null;
    // Dawn busy-polls a core until the device is destroyed.
    this.device.destroy();
  }
}
