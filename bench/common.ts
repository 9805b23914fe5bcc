// Shared bench helpers: synthetic CIFAR-shaped data, timing, error measures.

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
