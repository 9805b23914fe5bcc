// What a sweep is made of: value lists and ranges as the command line writes
// them, the Cartesian product of the axes, and the groups that can run as
// batched models. Pure functions: the CLI, a config file and (later) a
// cluster array all describe members the same way.
import { MAX_GROUP_K, sweepGroupKey } from './sweep.js';
import type { RunConfig } from './config.js';

// Plain decimal notation only, as the train command takes numbers.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function decimal(flag: string, s: string, whole: string): number {
  const x = Number(s);
  if (!DECIMAL.test(s) || !Number.isFinite(x)) throw new Error(syntaxError(flag, whole));
  return x;
}

function syntaxError(flag: string, s: string): string {
  return `${flag} takes a value, a list or a range (0.01,0.02,0.04 | 0..4 | 2^0:4:0.25), got '${s}'`;
}

/**
 * A list of comma-separated items, each a decimal, an integer range `a..b`
 * (inclusive), or a power-of-two grid `2^a:b:s` (2^x for x = a, a+s, …, b).
 * Throws one line naming the flag.
 */
export function parseValues(flag: string, s: string): number[] {
  const items = s.split(',').map((x) => x.trim());
  if (items.some((x) => x === '')) throw new Error(syntaxError(flag, s));
  const out: number[] = [];
  for (const it of items) {
    const range = /^([+-]?\d+)\.\.([+-]?\d+)$/.exec(it);
    const pow = /^2\^([^:]+):([^:]+):([^:]+)$/.exec(it);
    if (range) {
      const a = Number(range[1]), b = Number(range[2]);
      if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || b < a || b - a > 100_000) throw new Error(`${flag}: range '${it}' needs integers a ≤ b (at most 100000 apart)`);
      for (let x = a; x <= b; x++) out.push(x);
    } else if (pow) {
      const a = decimal(flag, pow[1], s), b = decimal(flag, pow[2], s), st = decimal(flag, pow[3], s);
      if (!(st > 0) || b < a) throw new Error(`${flag}: grid '${it}' needs a start ≤ end and a positive step`);
      // Counted, not accumulated: a + i·s hits b exactly where s divides the span (0:4:0.25 gives 17 points).
      const n = Math.floor((b - a) / st + 1e-9);
      if (n > 100_000) throw new Error(`${flag}: grid '${it}' has more than 100000 points`);
      for (let i = 0; i <= n; i++) out.push(2 ** (a + i * st));
    } else {
      out.push(decimal(flag, it, s));
    }
  }
  return out;
}

export interface SweepAxis {
  /** The CLI name without dashes (lr, seed, beta, dataset_seed, …): sweep.csv's column. */
  name: string;
  values: (number | string)[];
}

/** Every combination of the axes' values, the first axis varying slowest. */
export function cartesian(axes: SweepAxis[]): Record<string, number | string>[] {
  let rows: Record<string, number | string>[] = [{}];
  for (const a of axes) rows = rows.flatMap((r) => a.values.map((v) => ({ ...r, [a.name]: v })));
  return rows;
}

/**
 * Members by group: equal group keys run together (first-seen order), each
 * group cut into chunks of at most maxK (and MAX_GROUP_K) members.
 */
export function groupMembers(cfgs: RunConfig[], maxK: number): number[][] {
  const byKey = new Map<string, number[]>();
  cfgs.forEach((c, i) => {
    const k = sweepGroupKey(c);
    if (!byKey.has(k)) byKey.set(k, []);
    byKey.get(k)!.push(i);
  });
  const cap = Math.max(1, Math.min(maxK, MAX_GROUP_K));
  const out: number[][] = [];
  for (const idx of byKey.values()) for (let i = 0; i < idx.length; i += cap) out.push(idx.slice(i, i + cap));
  return out;
}

/** Splits a group into chunks of at most k members (memory planning). */
export function chunk<T>(xs: T[], k: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += Math.max(1, k)) out.push(xs.slice(i, i + Math.max(1, k)));
  return out;
}
