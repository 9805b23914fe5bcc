// A run directory on disk: metadata.json, metrics.csv (appended row by row),
// checkpoints/step_<t>.safetensors (θ_t with nn.Sequential keys, so PyTorch's
// load_state_dict takes it) with step_<t>.optim.safetensors beside it, and
// projections.npy (rows appended, header rewritten in place) with
// projections_steps.npy beside it (float64 rows: step, time), so it reads
// alone. Every
// whole-file write goes to a temporary name first, then is renamed: a crash
// never leaves a half-written record under the real name.
import { appendFileSync, existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync, ftruncateSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, type TensorEntry } from '../../core/ts/io/safetensors.js';
import { runningFromStateDict, stateDictFromTheta, thetaFromStateDict } from '../../core/ts/io/torch-state-dict.js';
import { npyHeader, NPY_HEADER_BYTES } from '../../core/ts/io/npy.js';
import type { Model } from '../../core/ts/nn/model.js';
import { lrAt, type RunConfig } from '../../core/ts/run/config.js';
import { metricsLine, tableCsv, type Checkpoint, type ColumnLayout, type MeasureTable, type MetricsRow } from '../../core/ts/run/records.js';
import type { RunMetadata } from './run-metadata.js';
import { removeRunFiles } from './run-clean.js';
import { parseMetadata } from './run-check.js';

export type { RunMetadata } from './run-metadata.js';

/**
 * The writes that put records on disk. Tests swap these for failing ones (a
 * full disk, a read-only directory) to check that what was written survives:
 * as root, chmod cannot make a directory read-only.
 */
export const runDirIO = { writeFileSync, appendFileSync, renameSync };

/** A failed write as one line: the file, the reason, the fix. */
function writeError(path: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  const why = err.code === 'ENOSPC' ? 'no space left on the device' : err.code === 'EROFS' || err.code === 'EACCES' || err.code === 'EPERM' ? 'the file system refuses writes here'
    : (err.message ?? String(e)).split('\n')[0];
  return new Error(`cannot write ${path} (${err.code ? err.code + ': ' : ''}${why}): free space or make it writable`);
}

export function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    runDirIO.writeFileSync(tmp, data);
    runDirIO.renameSync(tmp, path);
  } catch (e) {
    // The record under the real name is untouched; the half-written temporary goes.
    rmSync(tmp, { force: true });
    throw writeError(path, e);
  }
}

export class RunDir {
  constructor(readonly dir: string) {}

  get metaPath() { return join(this.dir, 'metadata.json'); }
  get metricsPath() { return join(this.dir, 'metrics.csv'); }
  get ckptDir() { return join(this.dir, 'checkpoints'); }
  get projPath() { return join(this.dir, 'projections.npy'); }
  get projStepsPath() { return join(this.dir, 'projections_steps.npy'); }

  exists(): boolean {
    return existsSync(this.metaPath);
  }

  readMeta(): RunMetadata {
    let text: string;
    try {
      text = readFileSync(this.metaPath, 'utf8');
    } catch (e) {
      throw new Error(`cannot read ${this.metaPath} (${(e as Error).message.split('\n')[0]}): is ${this.dir} an eoslab run directory?`);
    }
    return parseMetadata(text, this.metaPath);
  }

  writeMeta(m: RunMetadata): void {
    writeAtomic(this.metaPath, JSON.stringify(m, null, 2) + '\n');
  }

  /** Starts a fresh record: removes what a previous attempt left, writes the header. */
  create(meta: RunMetadata): void {
    mkdirSync(this.dir, { recursive: true });
    removeRunFiles(this.dir);
    mkdirSync(this.ckptDir, { recursive: true });
    writeAtomic(this.metricsPath, meta.columns.join(',') + '\n');
    this.writeMeta(meta);
  }

  /** `header`: the run's recorded columns (a run started by an earlier version keeps them). */
  appendRow(cfg: RunConfig, r: MetricsRow, layout: ColumnLayout = {}, header?: string[]): void {
    // One write per line: a crash leaves at most a torn last line, which resume drops.
    try { runDirIO.appendFileSync(this.metricsPath, metricsLine(cfg, r, layout, header) + '\n'); } catch (e) { throw writeError(this.metricsPath, e); }
  }

  /** metrics.csv as it is on disk, or null when it is missing. */
  readMetricsText(): string | null {
    try {
      return readFileSync(this.metricsPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`cannot read ${this.metricsPath} (${(e as Error).message.split('\n')[0]}): check its permissions`);
    }
  }

  /** Replaces metrics.csv with the header and these complete rows, atomically. */
  writeMetrics(columns: string[], rows: string[]): void {
    writeAtomic(this.metricsPath, [columns.join(','), ...rows].join('\n') + '\n');
  }

  /** A measure's table (e.g. density/step_<t>.csv), written atomically; a resumed run rewrites it identically. */
  writeTable(t: MeasureTable): void {
    const dir = join(this.dir, safeTableName(t.name));
    mkdirSync(dir, { recursive: true });
    writeAtomic(join(dir, `step_${t.step}.csv`), tableCsv(t));
  }

  /** `at`: the row's step and time, appended to projections_steps.npy (skipped when that file does not line up, as for runs of older versions). */
  appendProjection(coords: Float32Array, at?: { step: number; time: number }): void {
    const exists = existsSync(this.projPath);
    const before = exists ? this.projectionRows(coords.length) : 0;
    if (at && stepRows(this.projStepsPath) === before) appendF64Row(this.projStepsPath, Float64Array.of(at.step, at.time), '<f8', before);
    const fd = openSync(this.projPath, exists ? 'r+' : 'w+');
    try {
      const rows = exists ? (fstatSync(fd).size - NPY_HEADER_BYTES) / (4 * coords.length) : 0;
      if (!Number.isInteger(rows)) throw new Error(`${this.projPath} does not hold rows of ${coords.length} floats: was --nproj changed? Use --force to start over`);
      writeSync(fd, new Uint8Array(coords.buffer, coords.byteOffset, coords.byteLength), 0, coords.byteLength, NPY_HEADER_BYTES + rows * coords.byteLength);
      // Header last: a reader never sees a shape larger than the data.
      writeSync(fd, npyHeader([rows + 1, coords.length]), 0, NPY_HEADER_BYTES, 0);
    } finally {
      closeSync(fd);
    }
  }

  /** Whole rows of `nproj` floats projections.npy holds (0 when it is missing). */
  projectionRows(nproj: number): number {
    if (!existsSync(this.projPath)) return 0;
    return Math.max(0, Math.floor((statSync(this.projPath).size - NPY_HEADER_BYTES) / (4 * nproj)));
  }

  truncateProjections(rows: number, nproj: number): void {
    if (existsSync(this.projStepsPath) && stepRows(this.projStepsPath) >= rows) truncateRows(this.projStepsPath, rows, 2, 8, '<f8');
    if (!existsSync(this.projPath)) return;
    const fd = openSync(this.projPath, 'r+');
    try {
      ftruncateSync(fd, NPY_HEADER_BYTES + rows * 4 * nproj);
      writeSync(fd, npyHeader([rows, nproj]), 0, NPY_HEADER_BYTES, 0);
    } finally {
      closeSync(fd);
    }
  }

  /** model null (toy objectives, quadratics): θ is saved as one F32 tensor named 'theta'. */
  writeCheckpoint(model: Model | null, c: Checkpoint): void {
    mkdirSync(this.ckptDir, { recursive: true });
    const meta = { format: 'pt', step: String(c.step), ...(c.time !== undefined ? { time: String(c.time) } : {}) };
    const wall: Record<string, string> = c.wall_s !== undefined ? { wall_s: String(c.wall_s) } : {};
    const params = model ? stateDictFromTheta(model, c.theta, c.bnRunning) : [{ name: 'theta', dtype: 'F32' as const, shape: [c.theta.length], data: c.theta }];
    writeAtomic(join(this.ckptDir, `step_${c.step}.safetensors`), encodeSafetensors(params, meta));
    const tensors: TensorEntry[] = [
      ...Object.entries(c.optTensors).map(([name, data]) => ({ name: `optimizer.${name}`, dtype: 'F32' as const, shape: [data.length], data })),
      ...c.eigvecs.map((data, i) => ({ name: `eigvec.${i}`, dtype: 'F32' as const, shape: [data.length], data })),
    ];
    writeAtomic(join(this.ckptDir, `step_${c.step}.optim.safetensors`), encodeSafetensors(tensors, {
      ...meta, ...wall, opt_step: String(c.optStep), sharpness: c.sharpness === null ? '' : String(c.sharpness),
    }));
  }

  checkpointSteps(): number[] {
    if (!existsSync(this.ckptDir)) return [];
    return readdirSync(this.ckptDir).map((f) => /^step_(\d+)\.safetensors$/.exec(f)).filter((m) => m !== null)
      .map((m) => Number(m![1])).filter((s) => existsSync(join(this.ckptDir, `step_${s}.optim.safetensors`))).sort((a, b) => a - b);
  }

  /** Decodes checkpoint `step`; an error names the file that failed and why (it checks no values: see checkpointProblem). */
  readCheckpoint(model: Model | null, step: number): Checkpoint {
    const thFile = join(this.ckptDir, `step_${step}.safetensors`), opFile = join(this.ckptDir, `step_${step}.optim.safetensors`);
    const read = (f: string) => {
      try {
        return decodeSafetensors(new Uint8Array(readFileSync(f)));
      } catch (e) {
        throw new Error(`${f}: ${(e as Error).message.split('\n')[0]}`);
      }
    };
    const th = read(thFile);
    const op = read(opFile);
    const optTensors: Record<string, Float32Array> = {};
    const eig: [number, Float32Array][] = [];
    for (const t of op.tensors) {
      if (t.dtype !== 'F32') throw new Error(`${opFile}: tensor '${t.name}' is ${t.dtype}, eoslab writes F32`);
      if (t.name.startsWith('optimizer.')) optTensors[t.name.slice(10)] = t.data as Float32Array;
      else if (/^eigvec\.\d+$/.test(t.name)) eig.push([Number(t.name.slice(7)), t.data as Float32Array]);
      else throw new Error(`${opFile}: unexpected tensor '${t.name}'`);
    }
    let theta: Float32Array;
    let bnRunning;
    try {
      theta = model ? thetaFromStateDict(model, th.tensors) : thetaTensor(th.tensors);
      bnRunning = model ? runningFromStateDict(model, th.tensors) : undefined;
    } catch (e) {
      throw new Error(`${thFile}: ${(e as Error).message}`);
    }
    const num = (file: string, md: Record<string, string>, k: string, absent: number | undefined) => {
      if (md[k] === undefined) return absent;
      const x = Number(md[k]);
      if (md[k] === '' || Number.isNaN(x)) throw new Error(`${file}: metadata '${k}' is '${md[k].slice(0, 20)}', not a number`);
      return x;
    };
    if (num(thFile, th.metadata, 'step', step) !== step) throw new Error(`${thFile}: metadata says step ${th.metadata.step}, the file name ${step}`);
    return {
      step, time: num(thFile, th.metadata, 'time', undefined),
      theta, optTensors, optStep: num(opFile, op.metadata, 'opt_step', 0)!,
      eigvecs: eig.sort((a, b) => a[0] - b[0]).map((e) => e[1]),
      sharpness: op.metadata.sharpness ? num(opFile, op.metadata, 'sharpness', undefined)! : null,
      wall_s: num(opFile, op.metadata, 'wall_s', undefined),
      ...(bnRunning ? { bnRunning } : {}),
    };
  }
}

/**
 * The time of row `step` of a run: its flow time, or Σ η over the updates
 * before it (learning-rate drops included): the axis on which GD and flow
 * iterates are compared (Cohen et al.: GD step t against flow time tη).
 */
export function rowTime(cfg: Pick<RunConfig, 'kind' | 'lr' | 'lrDrops'>, r: { step: number; time?: number }): number {
  if (cfg.kind === 'flow') return r.time ?? NaN;
  // Piecewise constant η: sum whole pieces between drops, not step by step.
  const cuts = [0, ...cfg.lrDrops.map((d) => d.step).filter((s) => s > 0 && s < r.step), r.step];
  let t = 0;
  for (let i = 0; i + 1 < cuts.length; i++) t += lrAt(cfg, cuts[i]) * (cuts[i + 1] - cuts[i]);
  return t;
}

/** Rows of a [rows, 2] float64 file (0 when it is missing). */
function stepRows(path: string): number {
  return existsSync(path) ? Math.max(0, Math.floor((statSync(path).size - NPY_HEADER_BYTES) / 16)) : 0;
}

/** Writes row `index` of a [rows, values.length] .npy, then its header (a reader never sees a shape larger than the data). */
function appendF64Row(path: string, values: Float64Array, descr: '<f8', index: number): void {
  const fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
  try {
    writeSync(fd, new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 0, values.byteLength, NPY_HEADER_BYTES + index * values.byteLength);
    writeSync(fd, npyHeader([index + 1, values.length], descr), 0, NPY_HEADER_BYTES, 0);
  } finally {
    closeSync(fd);
  }
}

function truncateRows(path: string, rows: number, cols: number, bytes: number, descr: '<f8'): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, NPY_HEADER_BYTES + rows * cols * bytes);
    writeSync(fd, npyHeader([rows, cols], descr), 0, NPY_HEADER_BYTES, 0);
  } finally {
    closeSync(fd);
  }
}

function thetaTensor(tensors: TensorEntry[]): Float32Array {
  const t = tensors.find((x) => x.name === 'theta');
  if (!t || t.dtype !== 'F32') throw new Error("checkpoint lacks the F32 tensor 'theta' of a toy-objective run");
  return t.data as Float32Array;
}

/** Table folders are named by measures, never by user input; refuse anything but a plain name all the same. */
function safeTableName(name: string): string {
  if (!/^[a-z][a-z0-9_-]*$/.test(name)) throw new Error(`measure table name '${name}' is not a plain folder name`);
  return name;
}
