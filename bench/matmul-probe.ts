// Child process of bench/matmul.ts: times one matmul variant on one layout
// and prints `RESULT {json}`. A separate process so a variant that hangs the
// driver (large shared-memory tiles have hung SwiftShader) can be killed.
import { createNodeGpu } from '../hosts/node/device.js';
import { variantById, variantEligible } from '../core/ts/backend/webgpu/matmul-variants.js';
import type { Layout, MatmulOp } from '../core/ts/backend/types.js';
import { median, timeReps } from './common.js';

export interface ProbeArgs {
  layout: Layout;
  M: number;
  N: number;
  L: number;
  variant: string;
  reps: number;
  budgetMs: number;
}

export interface ProbeResult {
  variant: string;
  layout: Layout;
  adapter: string;
  ms: number | null;
  times: number[];
  gflops: number | null;
  error?: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ProbeArgs;
const { backend } = await createNodeGpu({ backend: { tuneCache: new Map() } });
const out: ProbeResult = { variant: args.variant, layout: args.layout, adapter: backend.description, ms: null, times: [], gflops: null };
try {
  const v = variantById(args.variant);
  const { M, N, L, layout } = args;
  const a = backend.alloc(M * L, 'A'), b = backend.alloc(L * N, 'B'), c = backend.alloc(M * N, 'C');
  backend.random({ out: a, n: M * L, seed: 1, stream: 0, dist: 'signed' });
  backend.random({ out: b, n: L * N, seed: 1, stream: 1, dist: 'signed' });
  const op: MatmulOp = { layout, M, N, L, K: 1, a: { buf: a, off: 0, bs: 0 }, b: { buf: b, off: 0, bs: 0 }, c: { buf: c, off: 0, bs: 0 } };
  // backend.matmul would quietly run another variant.
  if (!variantEligible(v, op)) throw new Error(`${v.id} cannot run ${layout} ${M}×${N}×${L} (operand alignment)`);
  // Compile on a small problem (pipelines depend on the variant and flags, not the shape).
  backend.matmul({ ...op, M: 64, N: 64, L: 64 }, v);
  await backend.flush();
  const run = async () => { backend.matmul(op, v); await backend.flush(); };
  // A slow variant (the naive kernel) is timed once, on its first full-size run.
  const t0 = performance.now();
  await run();
  const first = performance.now() - t0;
  out.times = first * 2 > args.budgetMs ? [first] : (await timeReps(run, args.reps, args.budgetMs, false)).times;
  out.ms = median(out.times);
  out.gflops = (2 * M * N * L) / (out.ms * 1e6);
} catch (e) {
  out.error = (e as Error).message;
}
backend.destroy();
console.log(`RESULT ${JSON.stringify(out)}`);
