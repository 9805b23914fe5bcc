// Memory planning for sweep groups: what one group of K members needs on the
// device (or in the Wasm core's memory), and the largest K that fits the
// adapter's limits, so a sweep is split instead of failing mid-run.
import type { Backend } from '../backend/types.js';
import { boundarySize } from '../nn/model.js';
import { alignedStride, type ModelObjective } from '../objective/model-objective.js';
import type { RunConfig } from './config.js';
import { lanczosMaxIter } from '../measure/lanczos.js';
import { buildProblem, type RunData } from './problem.js';

export interface MemoryLimits {
  /** Bytes of the largest single buffer the backend can bind. */
  maxBuffer: number;
  /** Bytes all buffers together may take (null: the adapter does not say; WebGPU reports no total). */
  total: number | null;
  what: string;
}

/** The Wasm core addresses 4 GiB; what its own tables and scratch take comes off the top. */
const WASM_BYTES = 4 * 2 ** 30 - 2 ** 26;

export function backendLimits(backend: Backend): MemoryLimits {
  if (backend.kind === 'wasm') return { maxBuffer: WASM_BYTES, total: WASM_BYTES, what: 'the 4 GiB Wasm memory' };
  const lim = (backend as unknown as { device?: { limits?: { maxStorageBufferBindingSize: number; maxBufferSize: number } } }).device?.limits;
  const maxBuffer = lim ? Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize) : 128 * 2 ** 20;
  return { maxBuffer, total: null, what: `the adapter's ${(maxBuffer / 2 ** 20).toFixed(0)} MiB buffer limit` };
}

export interface GroupMemory {
  /**
   * Bytes each member adds: its share of the batched scratch, θ_K and ∇_K, its own θ, ∇, optimizer state and eigenvectors,
   * and (with neigs > 0) its eigen-solver, which runs beside the other members' in lockstep (lockstepSolverBytes).
   */
  perMember: number;
  /** Bytes the group needs whatever K is: data, the K = 1 objectives the eigen-solves use, solver vectors. */
  fixed: number;
  /** Bytes of the largest buffer per member (a batched buffer of K members is K times this). */
  largestPerMember: number;
}

const STATE_VECTORS: Record<string, number> = { polyak: 1, nesterov: 1, adam: 2, rmsprop: 1 };

/** Measured on this backend from the K = 1 problem: batched scratch scales linearly in K. */
export function groupMemory(backend: Backend, cfg: RunConfig, data: RunData, neigs: number): GroupMemory {
  const problem = buildProblem(backend, cfg, data);
  try {
    // θ_K and ∇_K hold a member per alignedStride(P) values (sweep.ts).
    const P = problem.P, S = alignedStride(P), model = problem.model!, f = 4;
    const scratch = (o: unknown) => (o as ModelObjective).scratchBytes();
    const batched = scratch(problem.full) + (problem.test === problem.full ? 0 : scratch(problem.test)) + (problem.mini ? scratch(problem.mini.obj) : 0) +
      (problem.measure === problem.full ? 0 : scratch(problem.measure));
    const k1 = problem.tunable.reduce((s, o) => s + o.scratchBytes(), 0);
    const rows = (n: number) => n * (data.d + data.c) * f;
    const dataBytes = rows(data.train.N) + (data.test === data.train ? 0 : rows(data.test.N)) + (cfg.batchSize > 0 ? rows(cfg.batchSize) : 0);
    const B = Math.min(cfg.physicalBatchSize, data.train.N);
    let widest = 0;
    for (let i = 0; i <= model.layers.length; i++) widest = Math.max(widest, boundarySize(model, i));
    return {
      perMember: batched + 2 * S * f + P * f * (2 + (STATE_VECTORS[cfg.opt.name] ?? 0) + 2 * neigs) + lockstepSolverBytes(P, S, neigs),
      // Lanczos keeps its Krylov basis (≤ ~40 + k vectors); LOBPCG 3k blocks and products.
      fixed: dataBytes + k1 + (40 + 4 * neigs) * P * f,
      largestPerMember: Math.max(S * f, B * widest * f),
    };
  } finally {
    problem.dispose();
  }
}

/**
 * Bytes one member's Hessian solve holds while it runs in lockstep with the
 * others' (run/sweep.ts): the larger of Lanczos's Krylov basis and LOBPCG's
 * blocks (S, AS: 3k vectors each; P, AP, R, two update targets, the operator's
 * in and out: 7k), the retry's fresh start and the result vectors (2k), and
 * its share of the batched directions and products (2k vectors of the
 * member stride S).
 */
export function lockstepSolverBytes(P: number, S: number, neigs: number): number {
  if (neigs <= 0) return 0;
  const lanczos = lanczosMaxIter(neigs, P) + 2 + neigs, lobpcg = 13 * neigs;
  return 4 * (P * (Math.max(lanczos, lobpcg) + 2 * neigs) + S * 2 * neigs);
}

/** The most members of one group that fit the limits (at least 1: a single member is what `train` would run). */
export function maxMembers(mem: GroupMemory, lim: MemoryLimits): number {
  let k = Math.floor(lim.maxBuffer / mem.largestPerMember);
  if (lim.total !== null) k = Math.min(k, Math.floor((lim.total - mem.fixed) / mem.perMember));
  return Math.max(1, k);
}

/** Bytes for a log line: KiB below a MiB, so a tiny group does not read as 0. */
export function mib(bytes: number): string {
  return bytes < 2 ** 20 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
