// eoslab for Deno scripts: the same runs, run directories and figures as the
// CLI (hosts/deno/cli.ts), called from code. From the repository root:
//
//   import { train, plot } from './hosts/deno/mod.ts';
//   const dir = await train({ dataset: 'chebyshev-5-20', arch: 'mlp:32x32:tanh', loss: 'mse', lr: 0.2, maxSteps: 1000 });
//   await plot(dir);
//
// and `deno run -A script.ts` (deno.json at the root resolves the imports).
// Everything is validated as the CLI validates it; errors are one line.
import { DEFAULT_RUN, resolveOptimizer, type RunConfig } from '../../core/ts/run/config.js';
import { startRun, type StartOptions } from '../node/run-command.js';
import { resumeRun, type ResumeOverrides } from '../node/run-resume.js';
import { absoluteDatasetId, loadDatasetNode } from '../node/dataset-files.js';
import type { PlotOptions } from '../node/plot-command.js';
import type { BackendChoice } from '../shared/select-backend.js';
import { createDenoBackend } from './backend.js';

export { createDenoBackend, denoHost } from './backend.js';
export { createDenoGpu } from './device.js';
export { createDenoWasm } from './wasm.js';
export { runCli } from '../node/cli.js';
export { listDatasets, prepareDataset } from '../node/datasets-command.js';
export { DATASET_IDS, describeDatasets, loadDataset as loadSyntheticDataset } from '../../datasets/registry.js';
export { DEFAULT_RUN } from '../../core/ts/run/config.js';
export { runExperiment } from '../../core/ts/run/experiment.js';
export { metricsColumns } from '../../core/ts/run/records.js';
export type { RunConfig, LrDrop } from '../../core/ts/run/config.js';
export type { RunData, RunResult } from '../../core/ts/run/experiment.js';
export type { MetricsRow, Checkpoint, StopReason, RunSink } from '../../core/ts/run/records.js';
export type { OptimizerConfig } from '../../core/ts/optim/optimizers.js';
export type { Backend } from '../../core/ts/backend/types.js';
export type { Dataset, Split } from '../../datasets/synthetic.js';
export type { RunMetadata } from '../node/run-metadata.js';
export type { HostBackend, HostBackendOptions } from '../shared/host.js';
export type { BackendChoice } from '../shared/select-backend.js';
export type { PlotOptions } from '../node/plot-command.js';
export type { ResumeOverrides } from '../node/run-resume.js';

/** Where and how a run goes: the CLI's --out, --force, --standardize, --backend, --threads. */
export interface RunOptions {
  out?: string;
  force?: boolean;
  standardize?: boolean;
  backend?: BackendChoice;
  threads?: number;
  /** Progress and result lines (default console.log; progress goes to stderr). */
  log?: (s: string) => void;
}

type Given<K extends keyof RunConfig> = Pick<RunConfig, K>;
type Optional = Partial<Omit<RunConfig, 'kind' | 'dataset' | 'arch' | 'loss' | 'lr' | 'maxSteps' | 'tick' | 'alpha' | 'maxStepSize'>>;

/** `eoslab train`: the fields the CLI takes positionally, the rest as in DEFAULT_RUN. Returns the run directory. */
export type TrainConfig = Given<'dataset' | 'arch' | 'loss' | 'lr' | 'maxSteps'> & Optional;
/** `eoslab flow`: integration to `maxTime`, a record every `tick`. */
export type FlowConfig = Given<'dataset' | 'arch' | 'loss' | 'tick'> & { maxTime: number; alpha?: number; maxStepSize?: number }
  & Omit<Optional, 'opt' | 'batchSize' | 'lambdaA' | 'lrDrops'>;

function start(cfg: RunConfig, call: string, o: RunOptions): Promise<string> {
  const opts: StartOptions = {
    out: o.out, force: o.force, standardize: o.standardize, backend: o.backend, threads: o.threads,
    createBackend: createDenoBackend, log: o.log,
    // metadata.json's `command`: what was called, since there is no command line.
    command: `${call} (hosts/deno/mod.ts)`,
  };
  return startRun({ ...cfg, dataset: absoluteDatasetId(cfg.dataset) }, opts);
}

export function train(c: TrainConfig, o: RunOptions = {}): Promise<string> {
  const batchSize = c.batchSize ?? DEFAULT_RUN.batchSize;
  const opt = c.opt ? { ...c.opt, name: resolveOptimizer(c.opt.name, batchSize) } : DEFAULT_RUN.opt;
  return start({ ...DEFAULT_RUN, ...c, kind: 'train', opt, batchSize }, `train ${JSON.stringify(c)}`, o);
}

export function flow(c: FlowConfig, o: RunOptions = {}): Promise<string> {
  const { maxTime, ...rest } = c;
  return start({ ...DEFAULT_RUN, ...rest, kind: 'flow', lr: 0, maxSteps: maxTime, opt: { name: 'gd' }, batchSize: 0, lambdaA: false, lrDrops: [] },
    `flow ${JSON.stringify(c)}`, o);
}

/** `eoslab resume DIR`: continues from the last good checkpoint, optionally with new settings. */
export function resume(dir: string, o: ResumeOverrides & Omit<RunOptions, 'out' | 'force' | 'standardize'> = {}): Promise<string> {
  const { log, ...ov } = o;
  return resumeRun(dir, { ...ov, createBackend: createDenoBackend }, `resume ${JSON.stringify({ dir, ...ov })} (hosts/deno/mod.ts)`, log);
}

/** `eoslab plot DIR…`: figures/*.svg and report.html; returns the reports written. */
export async function plot(dirs: string | string[], o: PlotOptions & { log?: (s: string) => void } = {}): Promise<string[]> {
  // Loaded on use: vega and vega-lite would add their start-up time to every script importing this module.
  const { plotRuns } = await import('../node/plot-command.js');
  return plotRuns(Array.isArray(dirs) ? dirs : [dirs], { x: o.x, out: o.out }, o.log);
}

/** Any dataset id the CLI takes (synthetic, files under $EOSLAB_DATASETS, npz:PATH). */
export function loadDataset(id: string, opts: { seed?: number; standardize?: boolean } = {}) {
  return loadDatasetNode(id, opts);
}
