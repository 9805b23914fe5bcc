// A run directory on disk: metadata.json, metrics.csv (appended row by row),
// checkpoints/step_<t>.safetensors (θ_t with nn.Sequential keys, so PyTorch's
// load_state_dict takes it) with step_<t>.optim.safetensors beside it, and
// projections.npy (rows appended, header rewritten in place). Every
// whole-file write goes to a temporary name first, then is renamed: a crash
// never leaves a half-written record under the real name.
import { appendFileSync, existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync, ftruncateSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, type TensorEntry } from '../../core/ts/io/safetensors.js';
import { stateDictFromTheta, thetaFromStateDict } from '../../core/ts/io/torch-state-dict.js';
import { npyHeader, NPY_HEADER_BYTES } from '../../core/ts/io/npy.js';
import type { Model } from '../../core/ts/nn/model.js';
import type { RunConfig } from '../../core/ts/run/config.js';
import { metricsLine, type Checkpoint, type MetricsRow } from '../../core/ts/run/records.js';
import type { RunMetadata } from './run-metadata.js';
import { removeRunFiles } from './run-clean.js';

export type { RunMetadata } from './run-metadata.js';

export function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export class RunDir {
  constructor(readonly dir: string) {}

  get metaPath() { return join(this.dir, 'metadata.json'); }
  get metricsPath() { return join(this.dir, 'metrics.csv'); }
  get ckptDir() { return join(this.dir, 'checkpoints'); }
  get projPath() { return join(this.dir, 'projections.npy'); }

  exists(): boolean {
    return existsSync(this.metaPath);
  }

  readMeta(): RunMetadata {
    try {
      return JSON.parse(readFileSync(this.metaPath, 'utf8')) as RunMetadata;
    } catch (e) {
      throw new Error(`cannot read ${this.metaPath} (${(e as Error).message.split('\n')[0]}): is ${this.dir} an eoslab run directory?`);
    }
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

  appendRow(cfg: RunConfig, r: MetricsRow): void {
    appendFileSync(this.metricsPath, metricsLine(cfg, r) + '\n');
  }

  /** Drops metric rows with step ≥ `step` (they are recomputed on resume). */
  truncateRows(step: number): void {
    const lines = readFileSync(this.metricsPath, 'utf8').split('\n').filter((l) => l.length > 0);
    const keep = [lines[0], ...lines.slice(1).filter((l) => Number(l.split(',')[0]) < step)];
    writeAtomic(this.metricsPath, keep.join('\n') + '\n');
  }

  appendProjection(coords: Float32Array): void {
    const exists = existsSync(this.projPath);
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

  truncateProjections(rows: number, nproj: number): void {
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
    const params = model ? stateDictFromTheta(model, c.theta) : [{ name: 'theta', dtype: 'F32' as const, shape: [c.theta.length], data: c.theta }];
    writeAtomic(join(this.ckptDir, `step_${c.step}.safetensors`), encodeSafetensors(params, meta));
    const tensors: TensorEntry[] = [
      ...Object.entries(c.optTensors).map(([name, data]) => ({ name: `optimizer.${name}`, dtype: 'F32' as const, shape: [data.length], data })),
      ...c.eigvecs.map((data, i) => ({ name: `eigvec.${i}`, dtype: 'F32' as const, shape: [data.length], data })),
    ];
    writeAtomic(join(this.ckptDir, `step_${c.step}.optim.safetensors`), encodeSafetensors(tensors, {
      ...meta, opt_step: String(c.optStep), sharpness: c.sharpness === null ? '' : String(c.sharpness),
    }));
  }

  checkpointSteps(): number[] {
    if (!existsSync(this.ckptDir)) return [];
    return readdirSync(this.ckptDir).map((f) => /^step_(\d+)\.safetensors$/.exec(f)).filter((m) => m !== null)
      .map((m) => Number(m![1])).filter((s) => existsSync(join(this.ckptDir, `step_${s}.optim.safetensors`))).sort((a, b) => a - b);
  }

  readCheckpoint(model: Model | null, step: number): Checkpoint {
    const read = (f: string) => decodeSafetensors(new Uint8Array(readFileSync(join(this.ckptDir, f))));
    const th = read(`step_${step}.safetensors`);
    const op = read(`step_${step}.optim.safetensors`);
    const optTensors: Record<string, Float32Array> = {};
    const eig: [number, Float32Array][] = [];
    for (const t of op.tensors) {
      if (t.name.startsWith('optimizer.')) optTensors[t.name.slice(10)] = t.data as Float32Array;
      else if (t.name.startsWith('eigvec.')) eig.push([Number(t.name.slice(7)), t.data as Float32Array]);
    }
    return {
      step, time: th.metadata.time !== undefined ? Number(th.metadata.time) : undefined,
      theta: model ? thetaFromStateDict(model, th.tensors) : thetaTensor(th.tensors), optTensors, optStep: Number(op.metadata.opt_step ?? 0),
      eigvecs: eig.sort((a, b) => a[0] - b[0]).map((e) => e[1]),
      sharpness: op.metadata.sharpness ? Number(op.metadata.sharpness) : null,
    };
  }
}

function thetaTensor(tensors: TensorEntry[]): Float32Array {
  const t = tensors.find((x) => x.name === 'theta');
  if (!t || t.dtype !== 'F32') throw new Error("checkpoint lacks the F32 tensor 'theta' of a toy-objective run");
  return t.data as Float32Array;
}
