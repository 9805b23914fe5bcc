// A terminal chart of λ₁ (or λ_A) against the optimizer's threshold from a
// run's metrics.csv, so the main job shows sharpening and the edge of
// stability without a plotting stack.
import { readFileSync } from 'node:fs';

interface Point { x: number; y: number; thr: number }

/**
 * The y range that shows the bulk of the curve: values more than OUTLIER×
 * the median magnitude away are left off the axis (drawn as ^ or v on the
 * edge and listed under the chart). Adam's step-0 λ_A is the case in point:
 * v = 0 there, so P = ε and λ_A ≈ λ₁/ε (~1e8) would flatten every later
 * point onto the bottom row.
 */
const OUTLIER = 20;

export function robustRange(ys: number[]): [number, number] {
  const mags = ys.map(Math.abs).sort((a, b) => a - b);
  const med = mags[Math.floor(mags.length / 2)];
  const inside = med > 0 ? ys.filter((y) => Math.abs(y) <= OUTLIER * med) : ys;
  const kept = inside.length > 0 ? inside : ys;
  return [Math.min(...kept), Math.max(...kept)];
}

export function readChartPoints(metricsCsv: string): { name: string; pts: Point[] } | null {
  const lines = readFileSync(metricsCsv, 'utf8').trim().split('\n');
  const head = lines[0].split(',');
  const col = (name: string) => head.indexOf(name);
  const [iStep, iLam, iLamA, iThr] = [col('step'), col('lambda_1'), col('lambda_A'), col('threshold')];
  const useA = iLamA >= 0;
  const iY = useA ? iLamA : iLam;
  if (iY < 0) return null;
  const pts: Point[] = [];
  for (const l of lines.slice(1)) {
    const c = l.split(',');
    if (c[iY] !== '' && Number.isFinite(Number(c[iY]))) pts.push({ x: Number(c[iStep]), y: Number(c[iY]), thr: iThr >= 0 && c[iThr] !== '' ? Number(c[iThr]) : NaN });
  }
  return { name: useA ? 'λ_A' : 'λ₁', pts };
}

export function sharpnessChart(metricsCsv: string, width = 64, height = 14): string {
  const read = readChartPoints(metricsCsv);
  if (!read) return '(no eigenvalues measured)';
  const { name, pts } = read;
  if (pts.length < 2) return '(too few eigenvalue measurements for a chart)';
  const xs = pts.map((p) => p.x), ys = pts.flatMap((p) => (Number.isFinite(p.thr) ? [p.y, p.thr] : [p.y]));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [lo, hi] = robustRange(ys);
  const pad = 0.05 * (hi - lo || Math.abs(hi) || 1);
  const [y0, y1] = [lo - pad, hi + pad];
  const grid = Array.from({ length: height }, () => Array(width).fill(' '));
  const cx = (x: number) => Math.round(((x - x0) / (x1 - x0 || 1)) * (width - 1));
  const row = (y: number) => height - 1 - Math.round(((y - y0) / (y1 - y0)) * (height - 1));
  const off: string[] = [];
  const plot = (y: number, x: number, mark: string, what: string) => {
    if (y > y1 || y < y0) {
      grid[y > y1 ? 0 : height - 1][cx(x)] = y > y1 ? '^' : 'v';
      off.push(`${what} ${y.toPrecision(3)} at step ${x}`);
    } else grid[row(y)][cx(x)] = mark;
  };
  for (const p of pts) if (Number.isFinite(p.thr)) plot(p.thr, p.x, '-', 'threshold');
  for (const p of pts) plot(p.y, p.x, '*', name);
  const label = (r: number) => (y1 - ((y1 - y0) * r) / (height - 1)).toPrecision(3).padStart(8);
  const body = grid.map((line, r) => `${r % 3 === 0 ? label(r) : ' '.repeat(8)} |${line.join('')}`);
  const offNote = off.length === 0 ? [] : [`${' '.repeat(9)}off the axis (^ above, v below): ${off.slice(0, 3).join('; ')}${off.length > 3 ? `; and ${off.length - 3} more` : ''}`];
  return [
    `${name} (*) against the stability threshold (-), by step`,
    ...body,
    `${' '.repeat(8)} +${'-'.repeat(width)}`,
    `${' '.repeat(9)}${String(x0).padEnd(width - String(x1).length)}${x1}`,
    ...offNote,
  ].join('\n');
}
