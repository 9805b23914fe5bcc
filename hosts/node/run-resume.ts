// `eoslab resume`: continue a run from its last good checkpoint.
import { resolve } from 'node:path';
import { validateRun, type RunConfig } from '../../core/ts/run/config.js';
import { RunDir } from './run-dir.js';
import { checkDatasetRecord, recordedStandardize } from './dataset-files.js';
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
  const meta = dir.readMeta();
  const cfg: RunConfig = { ...meta.config, lrDrops: [...meta.config.lrDrops] };
  const data = await loadData(cfg, recordedStandardize(meta));
  checkDatasetRecord(meta, loadedDataRecord(), dir.dir);
  const model = modelFor(cfg, data);
  const steps = dir.checkpointSteps();
  if (steps.length === 0) throw new Error(`${dir.dir} has no checkpoint to resume from: rerun with --force (or use --checkpoint-every)`);
  const ckpt = dir.readCheckpoint(model, steps[steps.length - 1]);
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
  if (meta.status === 'finished' && Object.keys(changes).length === 0 && ckpt.step === meta.last_step) {
    log(`already finished (${meta.stop_reason} at step ${meta.last_step}): ${dir.dir}  (give --max-steps or --lr to continue it)`);
    return dir.dir;
  }
  dir.truncateRows(ckpt.step);
  if (cfg.nproj > 0) dir.truncateProjections(Math.ceil(ckpt.step / cfg.iterateFreq), cfg.nproj);
  meta.config = cfg;
  meta.status = 'running';
  meta.resumes.push({ at: new Date().toISOString(), from_step: ckpt.step, changes });
  // The backend the run started on, unless told otherwise: same kernels, same bits.
  const recorded = meta.device.backend === 'wasm' || meta.device.backend === 'webgpu' ? meta.device.backend : 'auto';
  return execute(cfg, data, dir, { meta, ckpt }, command, { backend: ov.backend ?? recorded, threads: ov.threads }, log);
}

