// Matmul throughput of every variant on the three products a dense layer
// 3072→200 does on a batch of Nb examples (Nb = 5000 by default), each in the
// layout's own (M, N, L) terms, C = op(A)·op(B) with op(A) M×L, op(B) L×N:
//   forward       X·Wᵀ   abt  M = Nb,  N = 200,  L = 3072
//   backward      δ·W    ab   M = Nb,  N = 3072, L = 200
//   weight grad   δᵀ·X   atb  M = 200, N = 3072, L = Nb
// flops = 2·M·N·L. Each (layout, variant) runs in its own child process
// (bench/matmul-probe.ts) under a timeout, so a variant that hangs a CPU
// driver is killed and reported as skipped instead of stalling the bench.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MATMUL_VARIANTS } from '../core/ts/backend/webgpu/matmul-variants.js';
import type { Layout } from '../core/ts/backend/types.js';
import type { ProbeArgs, ProbeResult } from './matmul-probe.js';

export interface MatmulShape { layout: Layout; M: number; N: number; L: number; role: string }

export function matmulShapes(Nb: number): MatmulShape[] {
  return [
    { layout: 'abt', M: Nb, N: 200, L: 3072, role: 'forward X·Wᵀ' },
    { layout: 'ab', M: Nb, N: 3072, L: 200, role: 'backward δ·W' },
    { layout: 'atb', M: 200, N: 3072, L: Nb, role: 'weight grad δᵀ·X' },
  ];
}

export interface VariantTiming {
  variant: string;
  ms: number | null;
  gflops: number | null;
  times: number[];
  /** Why there is no time: 'timeout after …', an error, or a skip reason. */
  skipped?: string;
}

export interface LayoutResult extends MatmulShape {
  variants: VariantTiming[];
  best: VariantTiming | null;
}

const PROBE = join(dirname(fileURLToPath(import.meta.url)), 'matmul-probe.ts');

function probe(args: ProbeArgs, timeoutMs: number): Promise<ProbeResult | { timeout: true } | { error: string }> {
  return new Promise((resolve) => {
    // Own process group, so a timeout also ends any re-exec'd grandchild (hosts/node/reexec.ts).
    const child = spawn(process.execPath, [...process.execArgv, PROBE, JSON.stringify(args)], {
      stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) return resolve({ timeout: true });
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) return resolve(JSON.parse(line.slice(7)) as ProbeResult);
      const msg = stderr.split('\n').filter((l) => l.trim() && !/^Warning: /.test(l)).slice(-3).join(' | ');
      resolve({ error: `probe exited with ${code}: ${msg || 'no output'}` });
    });
  });
}

export async function benchMatmul(opts: {
  Nb: number; reps: number; budgetMs: number; timeoutMs: number; log: (s: string) => void;
}): Promise<{ layouts: LayoutResult[]; adapter: string | null }> {
  const layouts: LayoutResult[] = [];
  let adapter: string | null = null;
  const hung = new Map<string, string>();
  for (const shape of matmulShapes(opts.Nb)) {
    const variants: VariantTiming[] = [];
    for (const v of MATMUL_VARIANTS) {
      // A variant that hung once (it would again) is not retried on the other layouts.
      const prior = hung.get(v.id);
      if (prior) {
        variants.push({ variant: v.id, ms: null, gflops: null, times: [], skipped: `skipped: timed out on ${prior}` });
        continue;
      }
      opts.log(`  ${shape.layout} ${shape.M}×${shape.N}×${shape.L}: ${v.id}…`);
      const r = await probe({ layout: shape.layout, M: shape.M, N: shape.N, L: shape.L, variant: v.id, reps: opts.reps, budgetMs: opts.budgetMs }, opts.timeoutMs);
      if ('timeout' in r) {
        variants.push({ variant: v.id, ms: null, gflops: null, times: [], skipped: `timeout after ${(opts.timeoutMs / 1000).toFixed(0)} s` });
        hung.set(v.id, shape.layout);
      } else if ('error' in r && !('variant' in r)) {
        variants.push({ variant: v.id, ms: null, gflops: null, times: [], skipped: r.error });
      } else {
        const p = r as ProbeResult;
        adapter ??= p.adapter;
        variants.push({ variant: v.id, ms: p.ms, gflops: p.gflops, times: p.times, skipped: p.error });
      }
    }
    const timed = variants.filter((x) => x.gflops !== null);
    const best = timed.length ? timed.reduce((a, b) => (b.gflops! > a.gflops! ? b : a)) : null;
    layouts.push({ ...shape, variants, best });
  }
  return { layouts, adapter };
}
