// What resume reads, checked before it is trusted: metadata.json's shape,
// metrics.csv's rows, and each checkpoint's tensors. Every error names the
// file (and the field or line) and how to go on; nothing here writes.
import { metricsColumns, type Checkpoint } from '../../core/ts/run/records.js';
import type { RunConfig } from '../../core/ts/run/config.js';
import type { Backend } from '../../core/ts/backend/types.js';
import { makeOptimizer } from '../../core/ts/optim/optimizers.js';
import type { RunMetadata } from './run-metadata.js';

const FIX = 'restore it from a backup, or start over with `eoslab train … --force`';

type Kind = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'int';

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return typeof v;
}

function is(v: unknown, k: Kind): boolean {
  switch (k) {
    case 'array': return Array.isArray(v);
    case 'object': return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'int': return Number.isSafeInteger(v) && (v as number) >= 0;
    default: return typeof v === k;
  }
}

function bad(path: string, field: string, want: string, v: unknown): Error {
  let shown = '';
  try { shown = JSON.stringify(v) ?? String(v); } catch { shown = String(v); }
  if (shown.length > 40) shown = shown.slice(0, 40) + '…';
  return new Error(`${path}: field '${field}' must be ${want}, got ${kindOf(v)}${v !== undefined && v !== null && typeof v !== 'object' ? ` ${shown}` : ''}: ${FIX}`);
}

/** The fields resume reads, with their kinds; `?` marks ones that may be null. */
const META_FIELDS: [string, Kind, boolean][] = [
  ['config', 'object', false], ['status', 'string', false], ['last_step', 'number', true], ['device', 'object', false],
  ['matmul_variants', 'object', false], ['columns', 'array', false], ['resumes', 'array', false], ['stop_reason', 'string', true],
];

const CONFIG_FIELDS: [string, Kind, boolean][] = [
  ['kind', 'string', false], ['dataset', 'string', false], ['arch', 'string', false], ['loss', 'string', false],
  ['lr', 'number', false], ['maxSteps', 'number', false], ['tick', 'number', false], ['alpha', 'number', false],
  ['maxStepSize', 'number', false], ['opt', 'object', false], ['batchSize', 'int', false], ['seed', 'int', false],
  ['datasetSeed', 'int', false], ['physicalBatchSize', 'int', false], ['neigs', 'int', false], ['eigFreq', 'int', false],
  ['eigSolver', 'string', false], ['lambdaA', 'boolean', false], ['abridgedSize', 'int', false], ['accGoal', 'number', true],
  ['lossGoal', 'number', true], ['lrDrops', 'array', false], ['nproj', 'int', false], ['iterateFreq', 'int', false],
  ['checkpointEvery', 'int', false], ['divergeLoss', 'number', false], ['init', 'array', true],
];

function fields(path: string, prefix: string, o: Record<string, unknown>, spec: [string, Kind, boolean][]): void {
  for (const [k, kind, nullable] of spec) {
    const v = o[k];
    if (nullable && v === null) continue;
    if (!is(v, kind)) throw bad(path, prefix + k, kind === 'int' ? 'a non-negative integer' : `${kind === 'array' || kind === 'object' ? 'an' : 'a'} ${kind}${nullable ? ' or null' : ''}`, v);
  }
}

/** metadata.json's text → the run's metadata, or one line naming the file. */
export function parseMetadata(text: string, path: string): RunMetadata {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`cannot read ${path} (${(e as Error).message.split('\n')[0]}): ${FIX}`);
  }
  return checkMetadata(v, path);
}

/** metadata.json as parsed JSON → the run's metadata, or one line naming the file and the first wrong field. */
export function checkMetadata(v: unknown, path: string): RunMetadata {
  if (!is(v, 'object')) throw new Error(`${path} is ${kindOf(v)}, not an eoslab run's metadata object: ${FIX}`);
  const m = v as Record<string, unknown>;
  fields(path, '', m, META_FIELDS);
  if (m.status !== 'running' && m.status !== 'finished') throw bad(path, 'status', "'running' or 'finished'", m.status);
  const cfg = m.config as Record<string, unknown>;
  fields(path, 'config.', cfg, CONFIG_FIELDS);
  if (cfg.kind !== 'train' && cfg.kind !== 'flow') throw bad(path, 'config.kind', "'train' or 'flow'", cfg.kind);
  if (!is((cfg.opt as Record<string, unknown>).name, 'string')) throw bad(path, 'config.opt.name', 'a string', (cfg.opt as Record<string, unknown>).name);
  (cfg.lrDrops as unknown[]).forEach((d, i) => {
    if (!is(d, 'object')) throw bad(path, `config.lrDrops[${i}]`, 'an object {step, lr}', d);
    const o = d as Record<string, unknown>;
    if (!is(o.step, 'int')) throw bad(path, `config.lrDrops[${i}].step`, 'a non-negative integer', o.step);
    if (!is(o.lr, 'number')) throw bad(path, `config.lrDrops[${i}].lr`, 'a number', o.lr);
  });
  if (cfg.init) (cfg.init as unknown[]).forEach((x, i) => { if (!is(x, 'number')) throw bad(path, `config.init[${i}]`, 'a number', x); });
  (m.resumes as unknown[]).forEach((r, i) => { if (!is(r, 'object')) throw bad(path, `resumes[${i}]`, 'an object', r); });
  for (const [k, x] of Object.entries(m.matmul_variants as object)) if (typeof x !== 'string') throw bad(path, `matmul_variants.${k}`, 'a string', x);
  // Layer names are the model's, which the metadata does not spell out: the check takes them from the per-layer columns.
  const blocks = (m.columns as unknown[]).flatMap((c) => (typeof c === 'string' && c.startsWith('lambda_1_layer') ? [c.slice(14)] : []));
  const want = metricsColumns(cfg as unknown as Parameters<typeof metricsColumns>[0], { blocks }).join(',');
  // A run started by an earlier version may lack columns added since (it keeps its header); any other difference is damage.
  const wanted = new Set(want.split(','));
  const cols = m.columns as unknown[];
  const older = cols.every((c) => typeof c === 'string' && wanted.has(c)) && ['step', 'train_loss', 'wall_s'].every((c) => cols.includes(c));
  if (cols.join(',') !== want && !older) throw bad(path, 'columns', `the run's columns [${want}]`, m.columns);
  return v as RunMetadata;
}

/** metrics.csv as resume will keep it: complete rows only, steps strictly increasing. */
export interface MetricsPlan {
  /** Complete, valid row lines (no header), in order. */
  rows: string[];
  steps: number[];
  /** What was repaired (a torn last line dropped, a missing file recreated), for the log. */
  notes: string[];
}

const CELL = /^(-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|nan|-?inf|)$/;

/** text null: the file is missing. Repairs what a crash can cause; any other damage is an error naming the line. */
export function planMetrics(text: string | null, columns: string[], path: string): MetricsPlan {
  const header = columns.join(',');
  if (text === null || text.length === 0) return { rows: [], steps: [], notes: [`${path} ${text === null ? 'missing' : 'empty'}: recreated from its header`] };
  const notes: string[] = [];
  const lines = text.split('\n');
  // A crash mid-append leaves the last line without its newline: only complete lines count.
  const torn = lines.pop()!;
  if (torn.length > 0) notes.push(`${path}: torn last line dropped (${torn.length} bytes without a newline)`);
  if (lines.length === 0) {
    if (!header.startsWith(torn)) throw new Error(`${path} does not start with the run's header [${header}]: ${FIX}`);
    return { rows: [], steps: [], notes: [`${path} holds a torn header: recreated from its header`] };
  }
  if (lines[0] !== header) throw new Error(`${path} line 1 is not the run's header [${header}]: ${FIX}`);
  const rows: string[] = [], steps: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = lines[i].split(',');
    const why = cells.length !== columns.length ? `has ${cells.length} cells, the header ${columns.length}`
      : !/^\d{1,15}$/.test(cells[0]) ? `step '${cells[0].slice(0, 20)}' is not an integer`
      : steps.length > 0 && Number(cells[0]) <= steps[steps.length - 1] ? `step ${cells[0]} does not follow step ${steps[steps.length - 1]}`
      : cells.findIndex((c) => !CELL.test(c)) >= 0 ? `cell '${cells.find((c) => !CELL.test(c))!.slice(0, 20)}' is not a number`
      : null;
    if (why !== null) throw new Error(`${path} line ${i + 1} ${why}: ${FIX}`);
    rows.push(lines[i]);
    steps.push(Number(cells[0]));
  }
  return { rows, steps, notes };
}

/** The state vectors the run's optimizer keeps (none for gradient flow), as its checkpoints name them. */
export function optimizerStateNames(cfg: RunConfig): string[] {
  if (cfg.kind !== 'train') return [];
  // The optimizer's own init says which vectors it keeps; a backend that allocates nothing is enough to ask it.
  const probe = { alloc: () => ({}), vector: () => {} } as unknown as Backend;
  return Object.keys(makeOptimizer(cfg.opt).init(probe, 1).tensors).sort();
}

/** Why a decoded checkpoint is not a good one to continue from (null: good). `optNames`: optimizerStateNames of the run. */
export function checkpointProblem(c: Checkpoint, P: number, kind: 'train' | 'flow', optNames: string[]): string | null {
  if (c.theta.length !== P) return `θ has ${c.theta.length} values, the model ${P}`;
  if (!allFinite(c.theta)) return 'θ holds NaN or Inf';
  const names = Object.keys(c.optTensors).sort();
  if (names.join() !== optNames.join()) return `optimizer state [${names}] is not the run's [${optNames}]`;
  for (const [name, t] of Object.entries(c.optTensors)) {
    if (t.length !== P) return `optimizer state '${name}' has ${t.length} values, the model ${P}`;
    if (!allFinite(t)) return `optimizer state '${name}' holds NaN or Inf`;
  }
  for (const [i, v] of c.eigvecs.entries()) {
    if (v.length !== P) return `eigenvector ${i} has ${v.length} values, the model ${P}`;
    if (!allFinite(v)) return `eigenvector ${i} holds NaN or Inf`;
  }
  if (!Number.isSafeInteger(c.optStep) || c.optStep < 0) return `optimizer step '${c.optStep}' is not a non-negative integer`;
  if (c.sharpness !== null && !Number.isFinite(c.sharpness)) return `sharpness ${c.sharpness} is not finite`;
  if (kind === 'flow' && !(c.time !== undefined && Number.isFinite(c.time) && c.time >= 0)) return 'a flow checkpoint without a finite time';
  if (c.wall_s !== undefined && !(Number.isFinite(c.wall_s) && c.wall_s >= 0)) return `wall_s ${c.wall_s} is not a finite time`;
  return null;
}

function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}
