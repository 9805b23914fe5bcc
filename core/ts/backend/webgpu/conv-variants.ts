// Conv2d kernel variants (core/shaders/conv_gemm_*.wgsl over the implicit-GEMM
// views of conv_forward / conv_dinput / conv_dweight) and their per-adapter
// autotuner, as matmul-variants.ts does for matmul. The naive kernel (one
// invocation per output) is the correctness baseline; 'reg' blocks in
// registers without shared memory (CPU drivers), 'tiled' stages gathered
// tiles in shared memory (real GPUs). Choices share the matmul tuner's map
// (keys start with 'conv:'), so hosts persist both with one tuneCache.
import type { Buf, ConvOp, View } from '../types.js';
import type { ConstValue, KernelName } from './kernels.js';

export type ConvMode = ConvOp['mode'];

export interface ConvVariant {
  id: string;
  kernel: 'naive' | 'reg' | 'tiled';
  /** Workgroup shape: x along GEMM columns N, y along rows M. */
  wgx: number;
  wgy: number;
  /** tiled: reduction step. */
  tk?: number;
  /** reg: rows and vec4 column groups per invocation. */
  rm?: number;
  rn4?: number;
}

export const CONV_VARIANTS: ConvVariant[] = [
  { id: 'naive-8x8', kernel: 'naive', wgx: 8, wgy: 8 },
  // reg<rows>x<columns per invocation>-<workgroup>. On lavapipe large blocks
  // in small workgroups win (the tap decode and the gathers of one operand
  // are shared by more products): reg16x8-4x8 ran the cnn-relu convs at
  // 7-10 GFLOP/s against 1-2 for reg4x4-8x8 and 3-4 for reg8x8-4x8.
  { id: 'reg4x4-8x8', kernel: 'reg', wgx: 8, wgy: 8, rm: 4, rn4: 1 },
  { id: 'reg8x8-4x8', kernel: 'reg', wgx: 4, wgy: 8, rm: 8, rn4: 2 },
  { id: 'reg16x8-4x8', kernel: 'reg', wgx: 4, wgy: 8, rm: 16, rn4: 2 },
  { id: 'reg16x8-4x4', kernel: 'reg', wgx: 4, wgy: 4, rm: 16, rn4: 2 },
  { id: 'reg8x16-2x16', kernel: 'reg', wgx: 2, wgy: 16, rm: 8, rn4: 4 },
  { id: 'tiled-8x8-k16', kernel: 'tiled', wgx: 8, wgy: 8, tk: 16 },
  { id: 'tiled-16x16-k16', kernel: 'tiled', wgx: 16, wgy: 16, tk: 16 },
  // 128 positions × 32 channels: conv forward's tall, narrow GEMM.
  { id: 'tiled-8x32-k16', kernel: 'tiled', wgx: 8, wgy: 32, tk: 16 },
];

for (const v of CONV_VARIANTS) {
  if (v.kernel === 'tiled' && (v.wgx % 4 || v.wgy % 4)) throw new Error(`conv variant ${v.id}: tiled workgroups need sides that are multiples of 4`);
}

export function convVariantById(id: string): ConvVariant {
  const v = CONV_VARIANTS.find((x) => x.id === id);
  if (!v) throw new Error(`unknown conv variant '${id}': use one of ${CONV_VARIANTS.map((x) => x.id).join(', ')}`);
  return v;
}

export function convKernel(mode: ConvMode, v: ConvVariant): KernelName {
  return `conv_${mode}_${v.kernel}` as KernelName;
}

export function convVariantConsts(v: ConvVariant): Record<string, ConstValue> {
  if (v.kernel === 'reg') return { WG_X: v.wgx, WG_Y: v.wgy, RM: v.rm!, RN4: v.rn4! };
  if (v.kernel === 'tiled') return { WG_X: v.wgx, WG_Y: v.wgy, TK: v.tk! };
  return { WG_X: v.wgx, WG_Y: v.wgy };
}

/** Rows × columns of the GEMM view one workgroup computes. */
export function convTile(v: ConvVariant): [number, number] {
  if (v.kernel === 'reg') return [v.rm! * v.wgy, 4 * v.rn4! * v.wgx];
  if (v.kernel === 'tiled') return [4 * v.wgy, 4 * v.wgx];
  return [v.wgy, v.wgx];
}

/** The GEMM view C (M×N) = A (M×L) · B (L×N) of one model (core/shaders/conv_common.wgsl). */
export function convGemm(op: Pick<ConvOp, 'mode' | 'shape' | 'B' | 'bias'>): { M: number; N: number; L: number } {
  const s = op.shape, khw = s.kh * s.kw, P = s.Ho * s.Wo;
  if (op.mode === 'forward') return { M: op.B * P, N: s.Cout, L: s.Cin * khw };
  if (op.mode === 'dinput') return { M: op.B * s.H * s.W, N: s.Cin, L: s.Cout * khw };
  return { M: s.Cout, N: s.Cin * khw + (op.bias ? 1 : 0), L: op.B * P };
}

/** Partial sums a split dweight may keep at once (floats). */
const SPLIT_SCRATCH = 1 << 23;

/**
 * How dweight's reduction over B·Ho·Wo is cut: S chunks of `chunk` summed by
 * separate workgroups into partials, then added in order by
 * conv_dweight_sum (deterministic: S is a function of one model's shape and
 * the variant, never of K, so a model batched sums in the order it does
 * alone). Enough chunks to give the device ~2048 workgroups per model, none
 * shorter than 512 terms. The naive kernel never splits.
 */
export function convSplit(op: Pick<ConvOp, 'mode' | 'shape' | 'B' | 'bias'>, v: ConvVariant): { S: number; chunk: number } {
  const { M, N, L } = convGemm(op);
  if (op.mode !== 'dweight' || v.kernel === 'naive') return { S: 1, chunk: L };
  const [tm, tn] = convTile(v);
  const tiles = Math.ceil(M / tm) * Math.ceil(N / tn);
  let S = Math.min(Math.ceil(L / 512), Math.ceil(2048 / tiles), Math.floor(SPLIT_SCRATCH / (M * N)), 65535);
  S = Math.max(1, S);
  const chunk = Math.ceil(L / S / 64) * 64;
  return { S: Math.ceil(L / chunk), chunk };
}

/** Models one split dweight dispatch takes: its partials fit SPLIT_SCRATCH and its K·S workgroups the grid's z (65535). */
export function convModelsPerDispatch(op: Pick<ConvOp, 'mode' | 'shape' | 'B' | 'K' | 'bias'>, S: number): number {
  if (S === 1) return op.K;
  const { M, N } = convGemm(op);
  return Math.max(1, Math.min(op.K, Math.floor(SPLIT_SCRATCH / (S * M * N)), Math.floor(65535 / S)));
}

/** Models k0 … k0 + k − 1 of `op` (its views moved on by k0 strides), without the unpool step: the caller ran it for all. */
export function convModels(op: ConvOp, k0: number, k: number): ConvOp {
  const at = (v: View): View => ({ ...v, off: v.off + k0 * v.bs });
  return { mode: op.mode, shape: op.shape, B: op.B, K: k, x: at(op.x), w: at(op.w), y: at(op.y), ...(op.bias ? { bias: at(op.bias) } : {}),
    ...(op.accumulate ? { accumulate: true } : {}) };
}

/** Size class: the geometry exactly, the batch rounded up to a power of two. */
export function convShapeKey(op: Pick<ConvOp, 'mode' | 'shape' | 'B'>): string {
  const s = op.shape, p2 = 2 ** Math.ceil(Math.log2(Math.max(1, op.B)));
  return `conv:${op.mode}:${s.Cin}x${s.H}x${s.W}>${s.Cout}:k${s.kh}x${s.kw}s${s.stride}p${s.padH}x${s.padW}:b${p2}`;
}

interface ConvTunerHost {
  alloc(length: number, label: string): Buf;
  release(buf: Buf): void;
  write(buf: Buf, data: Float32Array, offset?: number): void;
  conv(op: ConvOp, variant?: ConvVariant): void;
  flush(): Promise<void>;
}

export class ConvTuner {
  readonly choices: Map<string, string>;
  /** Timings (ms per call) from the last tune(), for bench reports. */
  readonly timings = new Map<string, Record<string, number>>();

  constructor(private readonly host: ConvTunerHost, private readonly cpuLike: boolean,
              choices: Map<string, string>, private readonly forced?: string) {
    this.choices = choices;
    if (forced) convVariantById(forced);
  }

  defaultVariant(): ConvVariant {
    return convVariantById(this.cpuLike ? 'reg16x8-4x8' : 'tiled-16x16-k16');
  }

  /** The forced or tuned variant for `op`, or the default. */
  choose(op: ConvOp): ConvVariant {
    const id = this.forced ?? this.choices.get(convShapeKey(op));
    // A cached choice may name a variant a newer version dropped.
    return (id && CONV_VARIANTS.find((x) => x.id === id)) || this.defaultVariant();
  }

  /**
   * Times every variant on each new size class among `ops`, on scratch
   * buffers for one model and a batch cut down to a fixed amount of work
   * (relative speed settles well before the full physical batch).
   */
  async tune(ops: ConvOp[], reps = 3): Promise<void> {
    if (this.forced) return;
    const todo = new Map<string, ConvOp>();
    for (const op of ops) {
      const k = convShapeKey(op);
      if (!this.choices.has(k) && !todo.has(k)) todo.set(k, op);
    }
    const budget = this.cpuLike ? 2 ** 26 : 2 ** 30; // multiply-adds per probe (~30 ms on lavapipe)
    for (const [key, op] of todo) {
      const s = op.shape;
      const perExample = s.Ho * s.Wo * s.Cout * s.Cin * s.kh * s.kw;
      const B = Math.max(1, Math.min(op.B, Math.floor(budget / perExample)));
      const nx = B * s.Cin * s.H * s.W, nw = s.Cout * s.Cin * s.kh * s.kw, ny = B * s.Cout * s.Ho * s.Wo;
      const x = this.host.alloc(nx, 'tune conv x'), w = this.host.alloc(nw, 'tune conv w');
      const y = this.host.alloc(ny, 'tune conv y'), b = this.host.alloc(s.Cout, 'tune conv bias');
      // Zeros would do for timing, but fresh pooled buffers hold garbage (NaN is slow on some CPUs).
      for (const [buf, n] of [[x, nx], [w, nw], [y, ny], [b, s.Cout]] as const) this.host.write(buf, new Float32Array(n).fill(0.5));
      const probe: ConvOp = { mode: op.mode, shape: s, B, K: 1, x: { buf: x, off: 0, bs: 0 }, w: { buf: w, off: 0, bs: 0 },
        y: { buf: y, off: 0, bs: 0 }, bias: op.bias && op.mode !== 'dinput' ? { buf: b, off: 0, bs: 0 } : undefined };
      const times: Record<string, number> = {};
      let best = this.defaultVariant().id, bestT = Infinity;
      for (const v of CONV_VARIANTS) {
        // The naive kernel is the correctness baseline, never a contender.
        if (v.kernel === 'naive') continue;
        // CPU adapters: shared-memory tiles run 3-5× slower than register
        // blocks on lavapipe (and large ones have hung SwiftShader), and so
        // do small blocks; each candidate costs ~1 s of compiling per mode
        // and geometry there, so only the large register blocks are tried.
        if (this.cpuLike && (v.kernel === 'tiled' || v.rm! * v.rn4! < 8)) continue;
        this.host.conv(probe, v); // compile + warm up
        await this.host.flush();
        let t0 = performance.now();
        this.host.conv(probe, v);
        await this.host.flush();
        let t = performance.now() - t0;
        // A clear loser (slow CPU drivers make each rep costly) gets no more reps.
        if (t < 2 * bestT && reps > 1) {
          t0 = performance.now();
          for (let r = 1; r < reps; r++) this.host.conv(probe, v);
          await this.host.flush();
          t = (t + performance.now() - t0) / reps;
        }
        times[v.id] = t;
        if (t < bestT) { bestT = t; best = v.id; }
      }
      for (const buf of [x, w, y, b]) this.host.release(buf);
      this.timings.set(key, times);
      this.choices.set(key, best);
    }
  }
}
