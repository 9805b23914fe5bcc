// `eoslab resume`: continue a run from its last good checkpoint. Every file
// is checked before anything is written, so a resume that cannot go on leaves
// the run exactly as it found it.
import { resolve } from 'node:path';
import { validateRun, validateRunData, type RunConfig } from '../../core/ts/run/config.js';
import type { Checkpoint } from '../../core/ts/run/records.js';
import { dataFreeParams } from '../../core/ts/run/problem.js';
import type { Model } from '../../core/ts/nn/model.js';
import { RunDir } from './run-dir.js';
import { checkpointProblem, optimizerStateNames, planMetrics, type MetricsPlan } from './run-check.js';
import { checkDataFingerprint, checkDatasetRecord, recordedStandardize } from './dataset-files.js';
import { acquireRunLock, type RunLock } from './run-lock.js';
import { execute, loadData, loadedDataRecord, modelFor, type BackendFlags } from './run-command.js';

export interface ResumeOverrides {
  lr?: number;
  maxSteps?: number;
  accGoal?: number;
  lossGoal?: number;
  eigFreq?: number;
  checkpointEvery?: number;
}

export async function resumeRun(dirPath: string, ov: ResumeOverrides & BackendFlags, command: string, log: (s: string) => void = console.log): Promise<string> {
  const dir = new RunDir(resolve(dirPath));
  if (!dir.exists()) throw new Error(`${dir.dir} has no metadata.json: give the directory of an eoslab run`);
  // Before anything is read: another process still writing this run would change it under our checks.
  const lock = acquireRunLock(dir.dir);
  try {
    return await resumeLocked(dir, ov, command, log, lock);
  } finally {
    // Also when resume stops before execute (which releases it too; a second release is a no-op).
    lock.release();
  }
}

async function resumeLocked(dir: RunDir, ov: ResumeOverrides & BackendFlags, command: string, log: (s: string) => void, lock: RunLock): Promise<string> {
  const meta = dir.readMeta();
  const cfg: RunConfig = { ...meta.config, lrDrops: [...meta.config.lrDrops] };
  validateRun(cfg);
  const data = await loadData(cfg, recordedStandardize(meta));
  checkDatasetRecord(meta, loadedDataRecord(), dir.dir);
  checkDataFingerprint(meta, loadedDataRecord(), dir.dir);
  validateRunData(cfg, data);
  const model = modelFor(cfg, data);
  const plan = planMetrics(dir.readMetricsText(), meta.columns, dir.metricsPath);
  const ckpt = lastGoodCheckpoint(dir, model, cfg, plan, log);

  const changes: Record<string, unknown> = {};
  if (ov.lr !== undefined) {
    if (cfg.kind !== 'train') throw new Error('--lr does not apply to a gradient-flow run');
    cfg.lrDrops = [...cfg.lrDrops.filter((d) => d.step < ckpt.step), { step: ckpt.step, lr: ov.lr }];
    changes.lr = { from_step: ckpt.step, lr: ov.lr };
  }
  for (const k of ['maxSteps', 'accGoal', 'lossGoal', 'eigFreq', 'checkpointEvery'] as const) {
    if (ov[k] !== undefined && ov[k] !== cfg[k]) { changes[k] = { from: cfg[k], to: ov[k] }; (cfg as unknown as Record<string, unknown>)[k] = ov[k]; }
  }
  validateRun(cfg);
  // A budget below where the run stands would stop it at once and record a maxSteps it has already passed.
  if (cfg.kind === 'train' && cfg.maxSteps < ckpt.step) {
    throw new Error(`--max-steps ${cfg.maxSteps} is below step ${ckpt.step} the run resumes from: give a larger budget`);
  }
  if (cfg.kind === 'flow' && cfg.maxSteps < (ckpt.time ?? 0)) {
    throw new Error(`--max-steps ${cfg.maxSteps} (the max time) is below time ${ckpt.time} the run resumes from: give a larger budget`);
  }
  // Rows t < step were written before checkpoint `step`; fewer means the file was damaged, and new rows would land misaligned.
  const projRows = Math.ceil(ckpt.step / cfg.iterateFreq);
  if (cfg.nproj > 0 && dir.projectionRows(cfg.nproj) < projRows) {
    throw new Error(`${dir.projPath} holds ${dir.projectionRows(cfg.nproj)} rows, resuming from step ${ckpt.step} needs ${projRows}: restore it, or start over with \`eoslab train … --force\``);
  }
  if (meta.status === 'finished' && Object.keys(changes).length === 0 && ckpt.step === meta.last_step) {
    log(`already finished (${meta.stop_reason} at step ${meta.last_step}): ${dir.dir}  (give --max-steps or --lr to continue it)`);
    return dir.dir;
  }

  // Everything checked: from here on the run directory changes.
  for (const n of plan.notes) log(n);
  dir.writeMetrics(meta.columns, plan.rows.filter((_, i) => plan.steps[i] < ckpt.step));
  if (cfg.nproj > 0) dir.truncateProjections(projRows, cfg.nproj);
  meta.config = cfg;
  meta.status = 'running';
  meta.resumes.push({ at: new Date().toISOString(), from_step: ckpt.step, changes });
  // The backend the run started on, unless told otherwise: same kernels, same bits.
  const recorded = meta.device.backend === 'wasm' || meta.device.backend === 'webgpu' ? meta.device.backend : 'auto';
  return execute(cfg, data, dir, { meta, ckpt }, command, { backend: ov.backend ?? recorded, threads: ov.threads, createBackend: ov.createBackend }, log, lock);
}

/**
 * The latest checkpoint that decodes, fits the model and holds finite values,
 * walking back past damaged ones (a crash mid-write, a bad disk, NaN state)
 * and past ones beyond the recorded rows (resuming there would leave a gap in
 * metrics.csv), with one log line saying which were skipped and why.
 */
function lastGoodCheckpoint(dir: RunDir, model: Model | null, cfg: RunConfig, plan: MetricsPlan, log: (s: string) => void): Checkpoint {
  const steps = dir.checkpointSteps();
  if (steps.length === 0) throw new Error(`${dir.ckptDir} holds no checkpoint to resume from: rerun with --force (or use --checkpoint-every)`);
  const P = model ? model.P : dataFreeParams(cfg.dataset)!;
  const optNames = optimizerStateNames(cfg);
  // Row t is written before checkpoint t, so a checkpoint up to one past the last row keeps the rows contiguous.
  const reach = plan.steps.length > 0 ? plan.steps[plan.steps.length - 1] + 1 : 0;
  const skipped: string[] = [];
  let beyond: Checkpoint | null = null;
  for (let i = steps.length - 1; i >= 0; i--) {
    let ckpt: Checkpoint;
    try {
      ckpt = dir.readCheckpoint(model, steps[i]);
    } catch (e) {
      skipped.push(`step ${steps[i]} (${(e as Error).message})`);
      continue;
    }
    const why = checkpointProblem(ckpt, P, cfg.kind, optNames);
    if (why !== null) {
      skipped.push(`step ${steps[i]} (${why})`);
      continue;
    }
    if (ckpt.step > reach) {
      beyond ??= ckpt;
      skipped.push(`step ${steps[i]} (metrics.csv ends before step ${ckpt.step})`);
      continue;
    }
    if (skipped.length) log(`resume: skipped checkpoint${skipped.length > 1 ? 's' : ''} ${skipped.join('; ')}; resuming from step ${ckpt.step}`);
    return ckpt;
  }
  // No checkpoint within the recorded rows (metrics.csv lost): the latest good one, with the gap said.
  if (beyond) {
    log(`resume: no good checkpoint within the ${plan.steps.length} rows of ${dir.metricsPath}; resuming from step ${beyond.step}, rows before it are missing`);
    return beyond;
  }
  throw new Error(`${dir.ckptDir} holds no usable checkpoint: ${skipped.join('; ')}: rerun with --force`);
}
