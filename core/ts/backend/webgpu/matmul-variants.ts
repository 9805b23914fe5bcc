// Matmul kernel variants and the per-adapter autotuner. The best shape
// differs by device: CPU Vulkan drivers prefer register blocking without
// shared memory (fastest with vec4 loads and large blocks, matmul_vec4, where
// the operands' alignment allows), real GPUs prefer shared-memory tiles. The
// tuner times each variant once per (layout, size class) on scratch buffers
// and remembers the winner; hosts may persist the choices per adapter via
// `tuneCache`.
import type { Buf, MatmulOp } from '../types.js';
import type { ConstValue, KernelName } from './kernels.js';

export interface MatmulVariant {
  id: string;
  kernel: KernelName & ('matmul_naive' | 'matmul_reg' | 'matmul_tiled' | 'matmul_vec4' | 'matmul_vec4_8x8');
  wgx: number;
  wgy: number;
  tk?: number;
  /** The vec4 kernels: rows and columns of C per invocation (multiples of 4; 8 and 8 for matmul_vec4_8x8). */
  rm?: number;
  rn?: number;
}

export const MATMUL_VARIANTS: MatmulVariant[] = [
  { id: 'naive-16x16', kernel: 'matmul_naive', wgx: 16, wgy: 16 },
  { id: 'reg4x4-8x8', kernel: 'matmul_reg', wgx: 8, wgy: 8 },
  { id: 'reg4x4-16x4', kernel: 'matmul_reg', wgx: 16, wgy: 4 },
  { id: 'reg4x4-4x16', kernel: 'matmul_reg', wgx: 4, wgy: 16 },
  { id: 'tiled-8x8-k16', kernel: 'matmul_tiled', wgx: 8, wgy: 8, tk: 16 },
  { id: 'tiled-16x16-k16', kernel: 'matmul_tiled', wgx: 16, wgy: 16, tk: 16 },
  // vec4[u]-<rows>x<columns of C per invocation>-wg<workgroup>. Only for ops
  // matmulVec4Eligible accepts; elsewhere choose() falls back. On SwiftShader
  // the unrolled 8×8 (vec4u) wins everywhere (listed first, so the tuner cuts
  // the slower ones short there); on lavapipe the 8×8 block wins for abt,
  // 16×8 for ab, 8×16 for atb.
  { id: 'vec4u-8x8-wg4x8', kernel: 'matmul_vec4_8x8', wgx: 4, wgy: 8, rm: 8, rn: 8 },
  { id: 'vec4-8x8-wg4x8', kernel: 'matmul_vec4', wgx: 4, wgy: 8, rm: 8, rn: 8 },
  { id: 'vec4-16x8-wg4x4', kernel: 'matmul_vec4', wgx: 4, wgy: 4, rm: 16, rn: 8 },
  { id: 'vec4-8x16-wg8x4', kernel: 'matmul_vec4', wgx: 8, wgy: 4, rm: 8, rn: 16 },
];

export function variantById(id: string): MatmulVariant {
  const v = MATMUL_VARIANTS.find((x) => x.id === id);
  if (!v) throw new Error(`unknown matmul variant '${id}': use one of ${MATMUL_VARIANTS.map((x) => x.id).join(', ')}`);
  return v;
}

/** The kernels that read A and B as vec4 (core/shaders/matmul_vec4_common.wgsl). */
const isVec4 = (v: MatmulVariant) => v.kernel === 'matmul_vec4' || v.kernel === 'matmul_vec4_8x8';

export function variantConsts(v: MatmulVariant): Record<string, ConstValue> {
  if (v.kernel === 'matmul_vec4') return { WG_X: v.wgx, WG_Y: v.wgy, RM: v.rm!, RN4: v.rn! / 4 };
  if (v.kernel === 'matmul_vec4_8x8') return { WG_X: v.wgx, WG_Y: v.wgy };
  return v.tk ? { WG_X: v.wgx, WG_Y: v.wgy, TK: v.tk } : { WG_X: v.wgx, WG_Y: v.wgy };
}

export function variantGrid(v: MatmulVariant, op: { M: number; N: number; K: number }): [number, number, number] {
  if (isVec4(v)) return [Math.ceil(op.N / (v.rn! * v.wgx)), Math.ceil(op.M / (v.rm! * v.wgy)), op.K];
  const per = v.kernel === 'matmul_naive' ? 1 : 4;
  return [Math.ceil(op.N / (per * v.wgx)), Math.ceil(op.M / (per * v.wgy)), op.K];
}

type EligibilityOp = Pick<MatmulOp, 'layout' | 'M' | 'N' | 'L' | 'K' | 'a' | 'b'>;

/**
 * Whether the vec4 kernels can run `op`: the axes they read as vec4 must be
 * whole (core/shaders/matmul_vec4_common.wgsl) and A's and B's views must
 * start on a multiple of 4 elements (their per-model strides too, when K > 1).
 */
export function matmulVec4Eligible(op: EligibilityOp): boolean {
  const q = (x: number) => x % 4 === 0;
  if (!(q(op.a.off) && q(op.b.off) && (op.K <= 1 || (q(op.a.bs) && q(op.b.bs))))) return false;
  if (op.layout === 'ab') return q(op.L) && q(op.N);
  if (op.layout === 'abt') return q(op.L);
  return q(op.M) && q(op.N);
}

export function variantEligible(v: MatmulVariant, op: EligibilityOp): boolean {
  return !isVec4(v) || matmulVec4Eligible(op);
}

/** Size class: each dimension rounded up to a power of two. */
export function shapeKey(op: Pick<MatmulOp, 'layout' | 'M' | 'N' | 'L'>): string {
  const p2 = (x: number) => 2 ** Math.ceil(Math.log2(Math.max(1, x)));
  return `${op.layout}:${p2(op.M)}x${p2(op.N)}x${p2(op.L)}`;
}

interface TunerHost {
  alloc(length: number, label: string): Buf;
  release(buf: Buf): void;
  matmul(op: MatmulOp, variant?: MatmulVariant): void;
  flush(): Promise<void>;
}

export class MatmulTuner {
  readonly choices: Map<string, string>;
  /** Timings (ms per call) from the last tune(), for bench reports. */
  readonly timings = new Map<string, Record<string, number>>();

  constructor(private readonly host: TunerHost, private readonly cpuLike: boolean,
              cache?: Map<string, string>, private readonly forced?: string) {
    this.choices = cache ?? new Map();
    if (forced) variantById(forced);
  }

  defaultVariant(): MatmulVariant {
    return variantById(this.cpuLike ? 'reg4x4-8x8' : 'tiled-16x16-k16');
  }

  /** The forced or tuned variant for `op`, or the default where there is none or it cannot run `op`. */
  choose(op: MatmulOp): MatmulVariant {
    const id = this.forced ?? this.choices.get(shapeKey(op));
    // A cached choice may name a variant a newer version dropped.
    const v = id ? MATMUL_VARIANTS.find((x) => x.id === id) : undefined;
    return v && variantEligible(v, op) ? v : this.defaultVariant();
  }

  /** Times every variant on each new size class among `ops`. */
  async tune(ops: MatmulOp[], reps = 3): Promise<void> {
    if (this.forced) return;
    const todo = new Map<string, MatmulOp>();
    for (const op of ops) {
      const k = shapeKey(op);
      if (!this.choices.has(k) && !todo.has(k)) todo.set(k, op);
    }
    for (const [key, op] of todo) {
      const sizeA = op.M * op.L, sizeB = op.L * op.N, sizeC = op.M * op.N;
      const a = this.host.alloc(sizeA, 'tune A'), b = this.host.alloc(sizeB, 'tune B'), c = this.host.alloc(sizeC, 'tune C');
      const probe: MatmulOp = { layout: op.layout, M: op.M, N: op.N, L: op.L, K: 1,
        a: { buf: a, off: 0, bs: 0 }, b: { buf: b, off: 0, bs: 0 }, c: { buf: c, off: 0, bs: 0 } };
      const times: Record<string, number> = {};
      let best = this.defaultVariant().id, bestT = Infinity;
      for (const v of MATMUL_VARIANTS) {
        // The naive kernel is the correctness baseline, never a contender.
        if (v.kernel === 'matmul_naive') continue;
        // Large shared-memory tiles have hung SwiftShader: CPU adapters skip them.
        if (this.cpuLike && v.kernel === 'matmul_tiled' && v.wgx * v.wgy > 64) continue;
        // The probe's offsets are 0: only the shape can rule a variant out here.
        if (!variantEligible(v, probe)) continue;
        this.host.matmul(probe, v); // compile + warm up
        await this.host.flush();
        let t0 = performance.now();
        this.host.matmul(probe, v);
        await this.host.flush();
        let t = performance.now() - t0;
        // A clear loser (slow CPU drivers make each rep costly) gets no more reps.
        if (t < 2 * bestT && reps > 1) {
          t0 = performance.now();
          for (let r = 1; r < reps; r++) this.host.matmul(probe, v);
          await this.host.flush();
          t = (t + performance.now() - t0) / reps;
        }
        times[v.id] = t;
        if (t < bestT) { bestT = t; best = v.id; }
      }
      this.host.release(a); this.host.release(b); this.host.release(c);
      this.timings.set(key, times);
      this.choices.set(key, best);
    }
  }
}
