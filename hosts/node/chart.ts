// A terminal chart of λ₁ against the optimizer's threshold from a run's
// metrics.csv, so the main job shows sharpening and the edge of stability
// without a plotting stack.
import { readFileSync } from 'node:fs';

export function sharpnessChart(metricsCsv: string, width = 64, height = 14): string {
  const lines = readFileSync(metricsCsv, 'utf8').trim().split('\n');
  const head = lines[0].split(',');
  const col = (name: string) => head.indexOf(name);
  const [iStep, iLam, iLamA, iThr] = [col('step'), col('lambda_1'), col('lambda_A'), col('threshold')];
  const useA = iLamA >= 0;
  const iY = useA ? iLamA : iLam;
  if (iY < 0) return '(no eigenvalues measured)';
  const pts: { x: number; y: number; thr: number }[] = [];
  for (const l of lines.slice(1)) {
    const c = l.split(',');
    if (c[iY] !== '' && Number.isFinite(Number(c[iY]))) pts.push({ x: Number(c[iStep]), y: Number(c[iY]), thr: iThr >= 0 && c[iThr] !== '' ? Number(c[iThr]) : NaN });
  }
  if (pts.length < 2) return '(too few eigenvalue measurements for a chart)';
  const xs = pts.map((p) => p.x), ys = pts.flatMap((p) => (Number.isFinite(p.thr) ? [p.y, p.thr] : [p.y]));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [lo, hi] = [Math.min(...ys), Math.max(...ys)];
  const [y0, y1] = [lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)];
  const grid = Array.from({ length: height }, () => Array(width).fill(' '));
  const cx = (x: number) => Math.round(((x - x0) / (x1 - x0 || 1)) * (width - 1));
  const cy = (y: number) => height - 1 - Math.round(((y - y0) / (y1 - y0 || 1)) * (height - 1));
  for (const p of pts) if (Number.isFinite(p.thr)) grid[cy(p.thr)][cx(p.x)] = '-';
  for (const p of pts) grid[cy(p.y)][cx(p.x)] = '*';
  const label = (r: number) => (y1 - ((y1 - y0) * r) / (height - 1)).toPrecision(3).padStart(8);
  const body = grid.map((row, r) => `${r % 3 === 0 ? label(r) : ' '.repeat(8)} |${row.join('')}`);
  const name = useA ? 'λ_A' : 'λ₁';
  return [
    `${name} (*) against the stability threshold (-), by step`,
    ...body,
    `${' '.repeat(8)} +${'-'.repeat(width)}`,
    `${' '.repeat(9)}${String(x0).padEnd(width - String(x1).length)}${x1}`,
  ].join('\n');
}
