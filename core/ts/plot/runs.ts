// A run as the figures see it (metadata.json + metrics.csv), its time axis,
// and the names that tell overlaid runs apart.
import type { RunConfig } from '../run/config.js';
import { canonicalConfig } from '../run/identity.js';
import { thresholdFormula } from '../optim/optimizers.js';
import type { MetricsTable } from './metrics.js';

/** The parts of metadata.json the figures and the report use (the rest is shown as it is). */
export interface PlotMetadata {
  config: RunConfig;
  command?: string;
  status?: string;
  stop_reason?: string | null;
  last_step?: number | null;
  device?: Record<string, string | number>;
  optimizer?: string | Record<string, string | number | boolean>;
  dataset_source?: string;
  eoslab_version?: string;
  started_at?: string;
  finished_at?: string | null;
  [k: string]: unknown;
}

export interface PlotRun {
  /** Where it came from (the run directory), used when nothing in the configurations tells runs apart. */
  name: string;
  meta: PlotMetadata;
  table: MetricsTable;
}

export type XAxis = 'step' | 'time';

/** Throws one line naming `name` (the file) when metadata.json lacks what the figures read. */
export function checkPlotMetadata(m: unknown, name: string): PlotMetadata {
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw new Error(`${name}: not a JSON object: not an eoslab metadata.json`);
  const c = (m as { config?: unknown }).config as Partial<RunConfig> | undefined;
  if (!c || typeof c !== 'object') throw new Error(`${name}: no "config" object: not an eoslab metadata.json`);
  if (c.kind !== 'train' && c.kind !== 'flow') throw new Error(`${name}: config.kind must be "train" or "flow", got ${JSON.stringify(c.kind)}`);
  if (c.kind === 'train' && !(c.opt && typeof c.opt === 'object' && typeof c.opt.name === 'string')) {
    throw new Error(`${name}: config.opt.name is missing: not an eoslab metadata.json`);
  }
  return m as PlotMetadata;
}

/**
 * The x value of each row. `time` is step × η: the flow's own `time` column,
 * and for a run of steps Σ η over the updates before the row, so learning-rate
 * drops bend the axis as they bend the trajectory.
 */
export function xValues(run: PlotRun, axis: XAxis): number[] {
  const rows = run.table.rows;
  if (axis === 'step') return rows.map((r) => r.step as number);
  if (run.meta.config.kind === 'flow') return rows.map((r) => r.time ?? NaN);
  const out: number[] = [];
  let t = 0;
  rows.forEach((r, i) => {
    if (i > 0) {
      const prev = rows[i - 1];
      t += (prev.lr ?? run.meta.config.lr) * ((r.step as number) - (prev.step as number));
    }
    out.push(t);
  });
  return out;
}

export function xTitle(runs: PlotRun[], axis: XAxis): string {
  const flows = runs.filter((r) => r.meta.config.kind === 'flow').length;
  if (axis === 'step') return flows === runs.length ? 'tick' : flows ? 'step (flow: tick)' : 'step';
  return flows === runs.length ? 'time t' : flows ? 'time: Σ η over steps (flow: t)' : 'time: Σ η over steps';
}

/** The threshold's formula (null for gradient flow, which has none). */
export function thresholdName(run: PlotRun): string | null {
  return run.meta.config.kind === 'flow' ? null : thresholdFormula(run.meta.config.opt);
}

/** One line saying what ran: data, model, loss, and the optimizer with η (or the flow's tick). */
export function describeRun(run: PlotRun): string {
  const c = run.meta.config;
  const how = c.kind === 'flow' ? `gradient flow, tick ${c.tick}` : `${c.opt.name}${c.batchSize > 0 ? ` (batch ${c.batchSize})` : ''}, η = ${c.lr}`;
  return `${c.dataset} · ${c.arch} · ${c.loss} · ${how}`;
}

/** Adam and RMSProp: the threshold bounds λ_A, not λ₁. */
export function preconditioned(run: PlotRun): boolean {
  const n = run.meta.config.opt?.name;
  return run.meta.config.kind === 'train' && (n === 'adam' || n === 'rmsprop');
}

const SHORT: Record<string, string> = { lr: 'η', batchSize: 'batch', maxSteps: 'steps', lrDrops: 'lr drops', beta: 'β', beta1: 'β1', beta2: 'β2', eps: 'ε' };

/**
 * One label per run naming the settings in which the runs differ (η = 0.1,
 * adam, flow …), and a legend title listing them. Runs whose configurations
 * are equal are named by their directories.
 */
export function runLabels(runs: PlotRun[]): { labels: string[]; title: string } {
  const flat = runs.map((r) => flatten(canonicalConfig(r.meta.config)));
  const differs = (k: string, among: number[]) => new Set(among.map((i) => JSON.stringify(flat[i][k]))).size > 1;
  const all = runs.map((_, i) => i);
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].filter((k) => {
    if (!k.startsWith('opt.') || k === 'opt.name') return differs(k, all);
    // A hyper-parameter tells runs apart only among runs of the same optimizer (gd has no β1 to differ in).
    const byName = new Map<unknown, number[]>();
    all.forEach((i) => byName.set(flat[i]['opt.name'], [...(byName.get(flat[i]['opt.name']) ?? []), i]));
    return [...byName.values()].some((group) => differs(k, group));
  });
  const show = (k: string, v: unknown, run: PlotRun) => {
    if (v === undefined) return '';
    if (IRRELEVANT[run.meta.config.kind].some((p) => k === p || k.startsWith(`${p}.`))) return '';
    if (k === 'kind' || k === 'opt.name') return String(v);
    if (k === 'lrDrops') return (v as { step: number; lr: number }[]).map((d) => `→${d.lr} at ${d.step}`).join(' ');
    const key = k.replace(/^opt\./, '');
    return `${SHORT[key] ?? key}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
  };
  let labels = runs.map((r, i) => keys.map((k) => show(k, flat[i][k], r)).filter(Boolean).join(' '));
  if (labels.some((l) => !l) || new Set(labels).size < labels.length) labels = labels.map((l, i) => (l ? `${l} (${runs[i].name})` : runs[i].name));
  const name = (k: string) => (k === 'kind' ? 'train/flow' : k === 'opt.name' ? 'optimizer' : SHORT[k.replace(/^opt\./, '')] ?? k.replace(/^opt\./, ''));
  return { labels, title: keys.length ? keys.map(name).join(', ') : 'run' };
}

/** Settings one kind of run does not use: a flow has no η or optimizer, a run of steps no tick. */
const IRRELEVANT: Record<RunConfig['kind'], string[]> = {
  flow: ['lr', 'opt', 'batchSize', 'lrDrops'],
  train: ['tick', 'alpha', 'maxStepSize'],
};

function flatten(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === 'opt' && v && typeof v === 'object') for (const [ok, ov] of Object.entries(v)) out[`opt.${ok}`] = ov;
    else out[k] = v;
  }
  return out;
}
