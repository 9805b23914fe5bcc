// Shared bench helpers: synthetic CIFAR-shaped data, timing, error measures.

import { renameSync, writeFileSync } from 'node:fs';
import { rand, relErr } from '../tests/helpers/numeric.js';
export { rand, relErr };

export function signedArray(n: number, seed: number, scale = 1): Float32Array {
  const r = rand(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * r() - 1) * scale;
  return out;
}

/** N synthetic CIFAR-shaped examples: X in [-1, 1]^(N×d), one-hot Y over c classes. */
export function syntheticData(N: number, d: number, c: number, seed: number): { X: Float32Array; Y: Float32Array } {
  const X = signedArray(N * d, seed);
  const r = rand(seed + 7919);
  const Y = new Float32Array(N * c);
  for (let i = 0; i < N; i++) Y[i * c + Math.floor(r() * c)] = 1;
  return { X, Y };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Runs `fn` once as a warm-up, then `reps` timed times (fewer when one run
 * is slow, so the bench stays within its budget); returns all times in ms.
 */
export async function timeReps(fn: () => Promise<unknown>, reps: number, budgetMs: number, warmup = true): Promise<{ warmMs: number; times: number[] }> {
  let t0 = performance.now();
  if (warmup) await fn();
  const warmMs = performance.now() - t0;
  const times: number[] = [];
  const start = performance.now();
  for (let r = 0; r < reps; r++) {
    t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
    // Always at least 2 timed reps; stop early once over budget.
    if (times.length >= 2 && performance.now() - start + times[times.length - 1] > budgetMs) break;
  }
  return { warmMs, times };
}

export const MiB = 2 ** 20;
export const fmt = (x: number | null | undefined, digits = 1): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);

/** Gradient and HVP timings of one implementation (ms; medians of the reps after a warm-up). */
export interface GradHvpTimes {
  gradTimes: number[];
  hvpTimes: number[];
  gradWarmMs: number;
  hvpWarmMs: number;
  gradMs: number;
  hvpMs: number;
  loss: number;
}

/** A bench target: its report key, what it says, whether it was met (null: not measurable here), the measured value. */
export type Target = [key: string, name: string, met: boolean | null, value: string];

export function targetLines(targets: Target[]): string[] {
  return targets.map(([, name, met, value]) => `  ${met === null ? 'n/a ' : met ? 'MET ' : 'MISS'}  ${name}: ${value}`);
}

/** A report value: a figure, or why a whole half of the bench has none. */
export type ReportValue = string | number | boolean | null | { skipped: string };

/**
 * The `--json` report, rewritten whole after every stage (and on a crash), so
 * a failure later in the bench never loses figures already measured.
 */
export class JsonReport {
  readonly data: Record<string, ReportValue> = {};
  constructor(readonly file: string | undefined) {}

  save(): void {
    if (!this.file) return;
    // Through a temporary file: a reader (or a kill mid-write) never sees half a report.
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 2) + '\n');
    renameSync(tmp, this.file);
  }

  /** On an error nothing caught: save what was measured, say it in one line, exit 1 (no stack trace). */
  saveOnCrash(log: (s: string) => void): void {
    const die = (e: unknown) => {
      try {
        this.save();
      } catch { /* the report's own write failing must not hide the first error */ }
      log(`bench: ${oneLine(e)}${this.file ? `; figures measured so far are in ${this.file}` : ''}`);
      process.exit(1);
    };
    process.on('uncaughtException', die);
    process.on('unhandledRejection', die);
  }
}

/** An error's first line, for one-line reports. */
export function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}
