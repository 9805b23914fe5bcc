// `eoslab train`, `eoslab flow` and `eoslab resume`: validate everything
// before touching the disk, run the engine, write the run directory.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { torchSequential, type Model } from '../../core/ts/nn/model.js';
import { dataFreeParams, runModel } from '../../core/ts/run/problem.js';
import { validateRun, validateRunData, type RunConfig } from '../../core/ts/run/config.js';
import { configDifferences, describeDifferences, runDirName } from '../../core/ts/run/identity.js';
import { makeOptimizer } from '../../core/ts/optim/optimizers.js';
import { runExperiment, type RunData } from '../../core/ts/run/experiment.js';
import { columnLayout, type Checkpoint } from '../../core/ts/run/records.js';
import type { BackendChoice } from '../shared/select-backend.js';
import type { CreateHostBackend, HostBackend, HostBackendOptions } from '../shared/host.js';
import { makeProgress, progressOptions } from './progress.js';
import { sharpnessChart } from './chart.js';
import { RunDir } from './run-dir.js';
import { metadataFor, type RunMetadata } from './run-metadata.js';
import { checkDataFingerprint, checkDatasetRecord, datasetRecord, loadDatasetNode, recordedStandardize, type DatasetRecord } from './dataset-files.js';
import { acquireRunLock, checkRunLock, LOCK_FILE, type RunLock } from './run-lock.js';
import { removeRunFiles } from './run-clean.js';
import { loadReferences } from './measure-references.js';
import { rowTime } from './run-dir.js';

const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

/** Under $EOSLAB_RESULTS (default ./runs); --standardize is part of the name's hash and, readably, its suffix. */
export function defaultRunDir(cfg: RunConfig, standardize = false): string {
  return resolve(process.env.EOSLAB_RESULTS || 'runs', runDirName(cfg, standardize ? { standardize } : {}) + (standardize ? '_standardized' : ''));
}

/** The model (checkpoint keys), or null for a toy objective or quadratic (θ saved as one tensor). */
export function modelFor(cfg: RunConfig, data: RunData | null): Model | null {
  return data ? runModel(cfg, data) : null;
}

/** Where the last loaded dataset came from (files, npm cache, generated), for metadata.json. */
let lastSource = '';
/** The file of an npz: dataset (path, bytes, SHA-256) and --standardize, for metadata.json. */
let lastRecord: DatasetRecord = {};

/** The data record of the last loadData call (npz: file, hash, --standardize), for resume to compare. */
export function loadedDataRecord(): DatasetRecord { return lastRecord; }

export async function loadData(cfg: RunConfig, standardize = false): Promise<RunData | null> {
  lastRecord = {};
  if (dataFreeParams(cfg.dataset) !== null) {
    lastSource = `objective ${cfg.dataset} (no data)`;
    return null;
  }
  const ds = await loadDatasetNode(cfg.dataset, { seed: cfg.datasetSeed, standardize });
  lastSource = ds.source;
  lastRecord = datasetRecord(ds, standardize);
  return { shape: ds.shape, d: ds.d, c: ds.c, train: ds.train, test: ds.test };
}

/** `--backend` and `--threads`, and the host's backend factory (hosts/shared/host.ts). */
export interface BackendFlags {
  backend?: BackendChoice;
  threads?: number;
  createBackend?: CreateHostBackend;
}

/**
 * The injected factory, else the Node host's. The Node one is imported only
 * when needed, so a Deno process never loads Dawn's module or the Vulkan
 * re-exec code.
 */
export async function createHostBackend(flags: BackendFlags, opts: HostBackendOptions): Promise<HostBackend> {
  const create = flags.createBackend ?? (await import('./backend.js')).createNodeBackend;
  return create(opts);
}

export interface StartOptions extends BackendFlags {
  out?: string;
  force?: boolean;
  command: string;
  log?: (s: string) => void;
  /** npz: datasets: standardise each input feature with training-set statistics (default: values as given). */
  standardize?: boolean;
}

/**
 * Starts a run (or reuses a finished one). Returns the run directory.
 * Everything that can be refused is checked before the first write: the
 * configuration, the data, the model, the directory; only then is the lock
 * taken and the directory written.
 */
export async function startRun(cfg: RunConfig, o: StartOptions): Promise<string> {
  const log = o.log ?? ((s: string) => console.log(s));
  if (o.out !== undefined && o.out.trim() === '') throw new Error('--out needs a directory: give one, or leave --out out for the default under $EOSLAB_RESULTS');
  validateRun(cfg);
  // The optimizer's hyper-parameters are range-checked where it is built: build one now, not after the directory exists.
  if (cfg.kind === 'train') makeOptimizer(cfg.opt);
  const data = await loadData(cfg, o.standardize);
  validateRunData(cfg, data);
  const P = dataFreeParams(cfg.dataset) ?? modelFor(cfg, data)!.P;
  if (cfg.eigFreq > 0 && cfg.neigs > P) throw new Error(`--neigs ${cfg.neigs} exceeds the model's ${P} parameters`);
  if (cfg.init && cfg.init.length !== P) throw new Error(`--init gives ${cfg.init.length} values, the model has ${P} parameters`);
  loadReferences(cfg, modelFor(cfg, data), P);
  const dir = new RunDir(o.out ? resolve(o.out) : defaultRunDir(cfg, !!o.standardize));
  checkRunLock(dir.dir);
  if (dir.exists()) {
    if (!o.force) return reuse(cfg, dir, log);
  } else if (holdsOtherFiles(dir.dir)) {
    throw new Error(`${dir.dir} is not empty and holds no eoslab run (no metadata.json): give --out a new or empty directory`);
  }
  mkdirSync(dir.dir, { recursive: true });
  const lock = acquireRunLock(dir.dir);
  try {
    // Only eoslab's own files: whatever else the user keeps there stays.
    if (o.force) removeRunFiles(dir.dir);
  } catch (e) {
    lock.release();
    throw e;
  }
  return execute(cfg, data, dir, null, o.command, o, log, lock);
}

/** A run directory that already holds a run: returned when it is this very run and finished, refused otherwise. */
function reuse(cfg: RunConfig, dir: RunDir, log: (s: string) => void): string {
  const m = dir.readMeta();
  const diffs = configDifferences(m.config, cfg);
  if (recordedStandardize(m) !== !!lastRecord.dataset_standardize) {
    diffs.push({ flag: '--standardize', recorded: recordedStandardize(m) ? 'on' : 'off', requested: lastRecord.dataset_standardize ? 'on' : 'off' });
  }
  if (diffs.length > 0) {
    throw new Error(`${dir.dir} holds a run with other settings (${describeDifferences(diffs)}): use --out for another directory, or --force to overwrite it`);
  }
  checkDatasetRecord(m, lastRecord, dir.dir);
  checkDataFingerprint(m, lastRecord, dir.dir);
  if (m.status === 'finished') {
    log(`already finished (${m.stop_reason} at step ${m.last_step}): ${dir.dir}  (--force recomputes it)`);
    return dir.dir;
  }
  throw new Error(`${dir.dir} holds an unfinished run: continue it with \`eoslab resume ${dir.dir}\`, or start over with --force`);
}

/** Entries other than a lock left by a dead process and an empty checkpoints/ (what a start that died at once leaves). */
function holdsOtherFiles(dir: string): boolean {
  let entries: string[];
  try { entries = readdirSync(dir); } catch { return false; }
  return entries.some((f) => f !== LOCK_FILE && !(f === 'checkpoints' && isEmptyDir(join(dir, f))));
}

function isEmptyDir(p: string): boolean {
  try { return readdirSync(p).length === 0; } catch { return false; }
}

/** Runs (or continues) the experiment in `dir`, whose lock the caller holds; the lock is released however it ends. */
export async function execute(cfg: RunConfig, data: RunData | null, dir: RunDir, resume: { meta: RunMetadata; ckpt: Checkpoint } | null,
                              command: string, flags: BackendFlags, log: (s: string) => void, lock: RunLock): Promise<string> {
  try {
    return await executeLocked(cfg, data, dir, resume, command, flags, log);
  } finally {
    lock.release();
  }
}

async function executeLocked(cfg: RunConfig, data: RunData | null, dir: RunDir, resume: { meta: RunMetadata; ckpt: Checkpoint } | null,
                             command: string, flags: BackendFlags, log: (s: string) => void): Promise<string> {
  const model = modelFor(cfg, data);
  // A resumed WebGPU run keeps the kernels it started with: identical summation order, identical bits.
  const dev = await createHostBackend(flags, {
    backend: flags.backend, threads: flags.threads,
    webgpu: resume ? { tuneCache: new Map(Object.entries(resume.meta.matmul_variants)) } : {},
  });
  const { backend } = dev;
  const meta = resume?.meta ?? metadataFor(cfg, {
    eoslab_version: VERSION, command,
    device: dev.device,
    matmul_variants: {},
    dataset_source: lastSource,
    ...lastRecord,
    ...(model ? { model: { parameters: model.P, input_shape: model.inShape, torch_sequential: torchSequential(model) } } : {}),
  }, columnLayout(model));
  if (resume) meta.device = dev.device;
  if (!resume) dir.create(meta);
  else dir.writeMeta(meta);
  log(`run directory: ${dir.dir}`);
  log(dev.why);
  // Flow's last tick is cut at max_time, so a fractional tick count rounds up.
  const total = cfg.kind === 'train' ? cfg.maxSteps : Math.ceil(cfg.maxSteps / cfg.tick - 1e-9);
  const progress = makeProgress(total, cfg.kind === 'train' ? 'step' : 'tick', { ...progressOptions(cfg), startStep: resume?.ckpt.step });
  let lastTime: number | undefined;
  try {
    const result = await runExperiment(backend, cfg, data, {
      row: (r) => { lastTime = r.time; dir.appendRow(cfg, r, columnLayout(model), meta.columns); progress.update(r); },
      checkpoint: (c) => dir.writeCheckpoint(model, c),
      // The loop projects θ_t right after row t, so that row's time is the projection's.
      projection: (t, coords) => dir.appendProjection(coords, { step: t, time: rowTime(cfg, { step: t, time: lastTime }) }),
      table: (t) => dir.writeTable(t),
    }, {
      resume: resume?.ckpt,
      references: loadReferences(cfg, model, model?.P ?? dataFreeParams(cfg.dataset) ?? 0),
      prepare: async (objs) => {
        for (const o of objs) await o.tune();
        dev.saveTuning();
        meta.matmul_variants = dev.kernelChoices();
        dir.writeMeta(meta);
      },
    });
    progress.stop();
    meta.status = 'finished';
    meta.stop_reason = result.reason;
    meta.last_step = result.step;
    meta.finished_at = new Date().toISOString();
    dir.writeMeta(meta);
    const r = result.lastRow;
    log(`finished: ${result.reason} at ${cfg.kind === 'train' ? 'step' : 'tick'} ${result.step}` +
      (r ? `, train loss ${r.train_loss.toPrecision(4)}${r.train_acc !== null ? `, acc ${r.train_acc.toFixed(3)}` : ''}` : ''));
    if (cfg.eigFreq > 0) log('\n' + sharpnessChart(dir.metricsPath) + '\n');
    log(`records: ${join(dir.dir, 'metrics.csv')}`);
    return dir.dir;
  } catch (e) {
    progress.stop();
    // Resume starts from a checkpoint: with none written, suggesting it would send the user into a second error.
    if (dir.checkpointSteps().length === 0) {
      throw new Error(`${(e as Error).message} (the rows so far are in ${dir.dir}; no checkpoint was written, so it cannot be resumed: rerun with --force to start over)`);
    }
    throw new Error(`${(e as Error).message} (rows and checkpoints written so far are in ${dir.dir}; \`eoslab resume ${dir.dir}\` continues)`);
  } finally {
    backend.destroy();
  }
}
