// What a run emits: metric rows (one per measured step; row t measures θ_t
// before update t), checkpoints, and projections. Hosts decide where they
// go (files, a page); the engine never touches storage.
import type { RunningValues } from '../nn/bn-running.js';
import type { RunConfig } from './config.js';
import { MEASURES } from '../measure/registry.js';
import type { Model } from '../nn/model.js';
import { paramBlocks } from './problem.js';

export interface MetricsRow {
  step: number;
  /** Flow: integration time of this row. */
  time?: number;
  train_loss: number;
  /** null for regression (one output): accuracy has no meaning there. */
  train_acc: number | null;
  /** null where --test-freq did not fire this step. */
  test_loss: number | null;
  test_acc: number | null;
  /** Top-k eigenvalues; null where no measurement fired this step. */
  lambdas: (number | null)[];
  lambda_A: number | null;
  /** The optimizer's stability threshold (null for gradient flow). */
  threshold: number | null;
  /** null for gradient flow. */
  lr: number | null;
  grad_norm: number;
  wall_s: number;
  /** --neigs auto: eigenvalues above F × threshold at this measurement (null: none this step). */
  neigs_tracked?: number | null;
  /** Solver diagnostics of this step's Hessian measurement (null: none this step): operator applications, */
  eig_hvps?: number | null;
  /** the largest relative residual ‖Hv − λv‖/|λ| of the returned pairs, */
  eig_residual?: number | null;
  /** and 1 when the solver met its tolerance (after at most one fresh restart), else 0. */
  eig_converged?: number | null;
  /** The measurement suite's values of this row by column name (absent or null: did not fire). */
  extra?: Record<string, number | null>;
}

export interface Checkpoint {
  step: number;
  time?: number;
  /** θ_step, the parameters row `step` measured. */
  theta: Float32Array;
  /** Optimizer state vectors by name, and its update count. */
  optTensors: Record<string, Float32Array>;
  optStep: number;
  /** Eigenvectors of the last measurement (LOBPCG warm start), and λ̂ (flow step size). */
  eigvecs: Float32Array[];
  sharpness: number | null;
  /** wall_s of row `step`: a resumed run's clock continues from it (absent in checkpoints of older versions: 0). */
  wall_s?: number;
  /** BatchNorm running statistics after this step's training gradient (train runs of BatchNorm models). */
  bnRunning?: RunningValues;
}

/** 'stopped': the host asked the run to end (RunOptions.stopRequested). */
export type StopReason = 'max_steps' | 'max_time' | 'acc_goal' | 'loss_goal' | 'diverged' | 'stopped';

export interface RunSink {
  row(r: MetricsRow): void | Promise<void>;
  checkpoint(c: Checkpoint): void | Promise<void>;
  projection?(step: number, coords: Float32Array): void | Promise<void>;
  /** A measure's table at a step (e.g. a spectral density), written as `<name>/step_<t>.csv`. */
  table?(t: MeasureTable): void | Promise<void>;
}

export interface MeasureTable {
  /** Folder name in the run directory, e.g. 'density'. */
  name: string;
  step: number;
  columns: string[];
  rows: number[][];
}

/** A table as CSV (header, then rows; f64 values in full, non-finite spelled as pandas reads them). */
export function tableCsv(t: MeasureTable): string {
  return [t.columns.join(','), ...t.rows.map((r) => r.map((x) => cell(x, String)).join(','))].join('\n') + '\n';
}

type ColumnConfig = Pick<RunConfig, 'kind' | 'neigs' | 'lambdaA'> & Partial<Pick<RunConfig, 'measures' | 'eigFreq' | 'neigsAuto'>>;

/** The loop's own columns before wall_s: auto tracking's count, then the eigen-solver's diagnostics (whenever λ's are measured). */
function eigColumns(c: ColumnConfig): string[] {
  if (!((c.eigFreq ?? 0) > 0)) return [];
  return [...(c.neigsAuto != null ? ['neigs_tracked'] : []), 'eig_hvps', 'eig_residual', 'eig_converged'];
}

/** What columns depend on beyond the configuration: the model's layer names (per-layer measures). */
export interface ColumnLayout {
  blocks?: string[];
}

/** The column layout of a run on this model (null: a data-free objective, no layers). */
export function columnLayout(model: Model | null): ColumnLayout {
  return { blocks: model ? paramBlocks(model).map((b) => b.name) : [] };
}

/** metrics.csv columns for a configuration: the loop's own, then each requested measure's (registry order). */
export function metricsColumns(c: ColumnConfig, layout: ColumnLayout = {}): string[] {
  return [
    'step', ...(c.kind === 'flow' ? ['time'] : []), 'train_loss', 'train_acc', 'test_loss', 'test_acc',
    ...Array.from({ length: c.neigs }, (_, i) => `lambda_${i + 1}`), ...(c.lambdaA ? ['lambda_A'] : []),
    'threshold', 'lr', 'grad_norm', ...eigColumns(c), 'wall_s', ...measureColumns(c, layout),
  ];
}

/** The measurement suite's columns, in registry order. */
export function measureColumns(c: ColumnConfig, layout: ColumnLayout = {}): string[] {
  const m = c.measures ?? {};
  return MEASURES.filter((d) => m[d.name]).flatMap((d) => d.columns(m[d.name], { neigs: c.neigs, blocks: layout.blocks ?? [] }));
}

/** One CSV line in metricsColumns order; an empty cell where a measure did not fire. */
export function metricsLine(c: ColumnConfig, r: MetricsRow, layout: ColumnLayout = {}, header?: string[]): string {
  // Measured quantities are f32 on the device: the shortest decimal that reads back as the same f32.
  // The learning rate, threshold and time are exact host float64s and keep every digit.
  const m = (x: number | null | undefined) => cell(x, shortestF32);
  const f = (x: number | null | undefined) => cell(x, String);
  const cells = [
    String(r.step), ...(c.kind === 'flow' ? [f(r.time)] : []), m(r.train_loss), m(r.train_acc), m(r.test_loss), m(r.test_acc),
    ...Array.from({ length: c.neigs }, (_, i) => m(r.lambdas[i])), ...(c.lambdaA ? [m(r.lambda_A)] : []),
    f(r.threshold), f(r.lr), m(r.grad_norm),
    ...eigColumns(c).map((col) => (col === 'eig_residual' ? m : f)(r[col as 'eig_hvps'])), r.wall_s.toFixed(3),
    ...measureColumns(c, layout).map((col) => m(r.extra?.[col])),
  ];
  if (!header) return cells.join(',');
  // A run recorded by an earlier version keeps its own header: its columns, by name, in its order.
  const names = metricsColumns(c, layout);
  const byName = new Map(names.map((n, i) => [n, cells[i]]));
  return header.map((n) => byName.get(n) ?? '').join(',');
}

/** Not measured → empty; measured but not finite → nan/inf, as pandas and numpy spell them. */
function cell(x: number | null | undefined, fmt: (x: number) => string): string {
  if (x === null || x === undefined) return '';
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  return fmt(x);
}

/** The shortest decimal whose nearest f32 is fround(x) (at most 9 significant digits suffice). */
export function shortestF32(x: number): string {
  const target = Math.fround(x);
  for (let p = 1; p < 9; p++) {
    const s = Number(target.toPrecision(p));
    if (Math.fround(s) === target) return String(s);
  }
  return String(Number(target.toPrecision(9)));
}
