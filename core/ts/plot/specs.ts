// Vega-Lite specs of a run's figures, or of several runs overlaid: the one
// chart layer Node (SVG), Deno and the page (vega-embed) all render. Data go
// in long form, one point per (run, x, series), with unmeasured and
// non-finite cells left out.
import type { TopLevelSpec } from 'vega-lite';
import { lambdaColumns } from './metrics.js';
import { describeRun, preconditioned, runLabels, thresholdName, xTitle, xValues, type PlotRun, type XAxis } from './runs.js';

export interface Figure {
  /** File stem: figures/<name>.svg. */
  name: string;
  title: string;
  spec: TopLevelSpec;
}

interface Point { run: string; x: number; series: string; value: number }

/** A line on a figure: measured (solid, points where sparse) or a threshold (dashed, a step function of the row). */
interface Series { name: string; threshold?: boolean; dash?: number[]; points?: boolean }

const SUB = '₀₁₂₃₄₅₆₇₈₉';
const subscript = (n: number) => String(n).replace(/\d/g, (d) => SUB[Number(d)]);
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];
const DASHED = [6, 4];
const WIDTH = 520, HEIGHT = 260;

/** Every figure the runs support: loss, accuracy (classification), λ₁..λ_k, λ_A and the edge ratio (when tracked). */
export function figures(runs: PlotRun[], axis: XAxis = 'step'): Figure[] {
  if (!runs.length) throw new Error('no runs to plot: name at least one run directory');
  const { labels, title: runTitle } = runLabels(runs);
  const xs = runs.map((r) => xValues(r, axis));
  const ctx: Ctx = { runs, labels, runTitle, xs, xTitle: xTitle(runs, axis), overlay: runs.length > 1 };
  const out = [lossFigure(ctx)];
  const acc = accuracyFigure(ctx);
  if (acc) out.push(acc);
  const sharp = sharpnessFigure(ctx);
  if (sharp) out.push(sharp);
  out.push(...lambdaAFigures(ctx));
  return out;
}

interface Ctx { runs: PlotRun[]; labels: string[]; runTitle: string; xs: number[][]; xTitle: string; overlay: boolean }

/** The points of one column of every run (`keep` filters the values a scale can show: a log axis takes > 0). */
function column(ctx: Ctx, col: string, series: string, keep: (v: number) => boolean = Number.isFinite, runs = ctx.runs.map((_, i) => i)): Point[] {
  const out: Point[] = [];
  for (const i of runs) {
    const r = ctx.runs[i];
    r.table.rows.forEach((row, j) => {
      const v = row[col];
      const x = ctx.xs[i][j];
      if (v !== null && v !== undefined && Number.isFinite(v) && keep(v) && Number.isFinite(x)) out.push({ run: ctx.labels[i], x, series, value: v });
    });
  }
  return out;
}

function lossFigure(ctx: Ctx): Figure {
  const pos = (v: number) => v > 0;
  const data = [...column(ctx, 'train_loss', 'train', pos), ...column(ctx, 'test_loss', 'test', pos)];
  const dropped = ctx.runs.some((r) => r.table.rows.some((row) => row.train_loss !== null && !(row.train_loss! > 0 && Number.isFinite(row.train_loss!))));
  return {
    name: 'loss', title: 'Loss',
    spec: chart(ctx, {
      title: 'train and test loss', subtitle: dropped ? 'rows with a non-finite or zero loss are left out (log scale)' : undefined,
      yTitle: 'loss (log scale)', yScale: { type: 'log', nice: false }, data,
      series: [{ name: 'train' }, { name: 'test', dash: ctx.overlay ? DASHED : undefined }],
    }),
  };
}

function accuracyFigure(ctx: Ctx): Figure | null {
  const data = [...column(ctx, 'train_acc', 'train'), ...column(ctx, 'test_acc', 'test')];
  // Regression runs record no accuracy: no figure rather than an empty one.
  if (!data.length) return null;
  return {
    name: 'accuracy', title: 'Accuracy',
    spec: chart(ctx, {
      title: 'train and test accuracy', yTitle: 'accuracy', yScale: { domain: [0, 1] }, data,
      series: [{ name: 'train' }, { name: 'test', dash: ctx.overlay ? DASHED : undefined }],
    }),
  };
}

function sharpnessFigure(ctx: Ctx): Figure | null {
  const all = ctx.runs.map((_, i) => i);
  const lambdaSeries: Series[] = [];
  const data: Point[] = [];
  // Overlaid runs show λ₁ each (as Cohen et al. Fig. 1); one run shows all k.
  const k = ctx.overlay ? 1 : Math.max(0, ...ctx.runs.map((r) => lambdaColumns(r.table).length));
  for (let j = 1; j <= k; j++) {
    const name = `λ${subscript(j)}`;
    const pts = column(ctx, `lambda_${j}`, name);
    if (pts.length) { lambdaSeries.push({ name, points: true }); data.push(...pts); }
  }
  if (!data.length) return null;
  // Adam/RMSProp's threshold bounds λ_A: with λ_A tracked it goes on that figure, not against λ₁.
  const withThreshold = all.filter((i) => thresholdName(ctx.runs[i]) !== null && !(preconditioned(ctx.runs[i]) && ctx.runs[i].table.columns.includes('lambda_A')));
  const formulas = [...new Set(withThreshold.map((i) => thresholdName(ctx.runs[i]) + (preconditioned(ctx.runs[i]) ? ' (bounds λ_A)' : '')))];
  const thrName = ctx.overlay ? `threshold ${formulas.join(', ')}` : formulas[0];
  const thr = withThreshold.length ? column(ctx, 'threshold', thrName, Number.isFinite, withThreshold) : [];
  const range = robustRange(data, thr, ctx.overlay);
  return {
    name: 'sharpness', title: 'Sharpness',
    spec: chart(ctx, {
      title: `top Hessian eigenvalues${thr.length ? ' and the stability threshold' : ''}`, subtitle: range.note, yTitle: 'sharpness λ',
      yScale: { domain: range.domain }, clip: true, data: [...range.kept, ...thr],
      series: [...lambdaSeries, ...(thr.length ? [{ name: thrName, threshold: true }] : [])],
    }),
  };
}

function lambdaAFigures(ctx: Ctx): Figure[] {
  const tracked = ctx.runs.map((_, i) => i).filter((i) => ctx.runs[i].table.columns.includes('lambda_A'));
  const lam = column(ctx, 'lambda_A', 'λ_A', Number.isFinite, tracked);
  if (!lam.length) return [];
  const formulas = [...new Set(tracked.map((i) => thresholdName(ctx.runs[i])).filter((f) => f !== null))];
  const limName = `λ_lim = ${formulas.join(', ')}`;
  const lim = column(ctx, 'threshold', limName, Number.isFinite, tracked);
  const ratio: Point[] = [];
  const edge: Point[] = [];
  for (const i of tracked) {
    ctx.runs[i].table.rows.forEach((row, j) => {
      const a = row.lambda_A, t = row.threshold, x = ctx.xs[i][j];
      if (!Number.isFinite(x) || t === null || !(t > 0) || !Number.isFinite(t)) return;
      edge.push({ run: ctx.labels[i], x, series: 'edge (ratio 1)', value: 1 });
      if (a !== null && Number.isFinite(a)) ratio.push({ run: ctx.labels[i], x, series: 'λ_A / λ_lim', value: a / t });
    });
  }
  const out: Figure[] = [];
  const a = robustRange(lam, lim, ctx.overlay);
  const r = robustRange(ratio, edge, ctx.overlay);
  out.push({
    name: 'lambda-a', title: 'Preconditioned sharpness λ_A',
    spec: chart(ctx, {
      title: 'preconditioned sharpness λ_A and its threshold λ_lim', subtitle: a.note, yTitle: 'λ_A', yScale: { domain: a.domain }, clip: true,
      data: [...a.kept, ...lim], series: [{ name: 'λ_A', points: true }, ...(lim.length ? [{ name: limName, threshold: true }] : [])],
    }),
  });
  if (ratio.length) {
    out.push({
      name: 'edge-ratio', title: 'Edge ratio λ_A / λ_lim',
      spec: chart(ctx, {
        title: 'edge ratio λ_A / λ_lim (1: at the edge of stability)', subtitle: r.note, yTitle: 'λ_A / λ_lim', yScale: { domain: r.domain }, clip: true,
        data: [...r.kept, ...edge], series: [{ name: 'λ_A / λ_lim', points: true }, { name: 'edge (ratio 1)', threshold: true }],
      }),
    });
  }
  return out;
}

/**
 * A y range for the bulk of the points. λ_A at step 0 is ~λ₁/ε (no update
 * has filled v yet), 10⁶–10⁸ times the rest: on a linear axis it would flatten
 * everything else. Points above 10× the median are left off the axis and
 * named in the subtitle instead, as the terminal chart does.
 */
function robustRange(measured: Point[], reference: Point[], overlay = false): { domain: [number, number]; kept: Point[]; note?: string } {
  const vals = measured.map((p) => p.value).sort((a, b) => a - b);
  const median = vals[Math.floor(vals.length / 2)];
  const off = median > 0 ? measured.filter((p) => p.value > 10 * median) : [];
  const kept = measured.filter((p) => !off.includes(p));
  const all = [...kept, ...reference].map((p) => p.value);
  const hi = Math.max(...all), lo = Math.min(0, ...all);
  const where = (p: Point) => `${p.series} ${p.value.toPrecision(3)} at ${+p.x.toPrecision(6)}${overlay ? ` (${p.run})` : ''}`;
  const note = off.length ? `off the axis: ${off.slice(0, 3).map(where).join('; ')}${off.length > 3 ? ` and ${off.length - 3} more` : ''}` : undefined;
  return { domain: [lo, hi > lo ? hi * 1.06 : lo + 1], kept, note };
}

interface ChartOptions {
  title: string;
  subtitle?: string;
  yTitle: string;
  yScale?: Record<string, unknown>;
  clip?: boolean;
  data: Point[];
  series: Series[];
}

/**
 * One run: colour names the series (thresholds black and dashed). Several
 * runs: colour names the run, dash the series, so each run's threshold shares
 * its colour.
 */
function chart(ctx: Ctx, o: ChartOptions): TopLevelSpec {
  const names = o.series.map((s) => s.name);
  const dashOf = (s: Series) => (s.threshold ? DASHED : s.dash ?? [1, 0]);
  const dash = { field: 'series', type: 'nominal', title: null, scale: { domain: names, range: o.series.map(dashOf) }, legend: { symbolType: 'stroke', symbolStrokeColor: '#444', symbolStrokeWidth: 1.5 } };
  const color = ctx.overlay
    ? { field: 'run', type: 'nominal', title: ctx.runTitle, scale: { domain: ctx.labels, range: PALETTE }, legend: { labelLimit: 320, symbolType: 'stroke' } }
    : { field: 'series', type: 'nominal', title: null, scale: { domain: names, range: colours(o.series) }, legend: { labelLimit: 320, symbolType: 'stroke' } };
  const enc = {
    x: { field: 'x', type: 'quantitative', title: ctx.xTitle },
    y: { field: 'value', type: 'quantitative', title: o.yTitle, axis: { labelOverlap: 'greedy', tickCount: 6 }, scale: o.yScale?.type === 'log' ? o.yScale : { zero: false, ...o.yScale } },
    color, strokeDash: dash, detail: { field: 'run' },
    tooltip: [{ field: 'run' }, { field: 'series' }, { field: 'x', title: ctx.xTitle }, { field: 'value', format: '.6g' }],
  };
  const subset = (pred: (s: Series) => boolean) => `indexof(${JSON.stringify(o.series.filter(pred).map((s) => s.name))}, datum.series) >= 0`;
  const layers: Record<string, unknown>[] = [];
  const { strokeDash: _, ...noDash } = enc;
  layers.push({ transform: [{ filter: subset((s) => !s.threshold) }], mark: { type: 'line', clip: o.clip }, encoding: enc });
  // Sparse measurements (λ every --eig-freq steps) get a dot each; a layer of its own keeps the dash legend drawn as lines.
  if (o.series.some((s) => s.points)) layers.push({ transform: [{ filter: subset((s) => !!s.points) }], mark: { type: 'point', filled: true, size: 16, opacity: 1, clip: o.clip }, encoding: noDash });
  if (o.series.some((s) => s.threshold)) layers.push({ transform: [{ filter: subset((s) => !!s.threshold) }], mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5, clip: o.clip }, encoding: enc });
  // Drag to pan, wheel to zoom in the interactive report; inert in the SVG.
  layers[0].params = [{ name: 'zoom', select: 'interval', bind: 'scales' }];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: o.title, subtitle: o.subtitle ?? (ctx.overlay ? undefined : describeRun(ctx.runs[0])) },
    width: WIDTH, height: HEIGHT,
    data: { values: o.data },
    layer: layers,
    config: { legend: { orient: 'right' }, title: { anchor: 'start', subtitleColor: '#555' } },
  } as unknown as TopLevelSpec;
}

function colours(series: Series[]): string[] {
  let k = 0;
  return series.map((s) => (s.threshold ? '#000000' : PALETTE[k++ % PALETTE.length]));
}
