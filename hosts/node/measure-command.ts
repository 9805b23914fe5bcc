// `eoslab measure DATASET ARCH LOSS --from FILE.safetensors [measure flags]`:
// θ from a PyTorch state dict (the layout the exporter writes, e.g. a run's
// checkpoints/step_<t>.safetensors, or a model trained elsewhere), one CSV
// row of every requested measure with loss, accuracy, ‖∇L‖ and, with
// --neigs, λ_1…λ_k. Measure tables (density) go beside --out.
import { basename, dirname, resolve } from 'node:path';
import { DEFAULT_RUN, validateRunData, type RunConfig } from '../../core/ts/run/config.js';
import { dataFreeParams, paramBlocks } from '../../core/ts/run/problem.js';
import { measureOnce, type MeasuredRow } from '../../core/ts/run/measure-once.js';
import { measureColumns, shortestF32 } from '../../core/ts/run/records.js';
import type { OptimizerName } from '../../core/ts/optim/optimizers.js';
import type { MeasureSettings } from '../../core/ts/measure/suite.js';
import { createHostBackend, loadData, modelFor, type BackendFlags } from './run-command.js';
import { loadReferences, readThetaFile } from './measure-references.js';
import { RunDir, writeAtomic } from './run-dir.js';

export interface MeasureCommandOptions extends BackendFlags {
  dataset: string;
  arch: string;
  loss: 'mse' | 'ce';
  from: string;
  /** CSV path; absent: stdout. */
  out?: string;
  /** The measures switched on, as measuresFrom reads them (their rules are ignored: each fires once). */
  measures?: Record<string, MeasureSettings>;
  /** λ_1…λ_neigs when given. */
  neigs?: number;
  lr?: number;
  opt: OptimizerName;
  batchSize: number;
  seed: number;
  datasetSeed: number;
  physicalBatchSize: number;
  eigSolver: RunConfig['eigSolver'];
  abridgedSize: number;
  standardize: boolean;
  log: (s: string) => void;
}

export async function measureCheckpoint(o: MeasureCommandOptions): Promise<void> {
  if (o.out !== undefined && o.out.trim() === '') throw new Error('--out needs a file: give one, or leave --out out for stdout');
  if (o.measures?.loss_change && o.lr === undefined) throw new Error('--loss-change needs --lr (the learning rate of the step it measures)');
  const measures = o.measures && Object.fromEntries(Object.entries(o.measures).map(([k, s]) => [k, { ...s, freq: { every: 1, after: [] } }]));
  const cfg: RunConfig = {
    ...DEFAULT_RUN, kind: 'train', dataset: o.dataset, arch: o.arch, loss: o.loss, lr: o.lr ?? NaN, maxSteps: 0,
    opt: { name: o.opt }, batchSize: o.batchSize, seed: o.seed, datasetSeed: o.datasetSeed, physicalBatchSize: o.physicalBatchSize,
    neigs: o.neigs ?? DEFAULT_RUN.neigs, eigFreq: o.neigs ? 1 : 0, eigSolver: o.eigSolver, abridgedSize: o.abridgedSize,
    ...(measures ? { measures } : {}),
  };
  const data = await loadData(cfg, o.standardize);
  validateRunData(cfg, data);
  const model = modelFor(cfg, data);
  const P = model?.P ?? dataFreeParams(cfg.dataset)!;
  const { theta, metadata } = readThetaFile(o.from, model, P, '--from');
  const references = loadReferences(cfg, model, P);
  // The exporter records the step: seeded draws then repeat the run's own measurement of that step.
  const m = /^step_(\d+)\./.exec(basename(o.from));
  const step = /^\d+$/.test(metadata.step ?? '') ? Number(metadata.step) : m ? Number(m[1]) : 0;
  const tables = o.out ? new RunDir(dirname(resolve(o.out))) : null;
  const dev = await createHostBackend(o, { backend: o.backend, threads: o.threads });
  let row: MeasuredRow;
  try {
    row = await measureOnce(dev.backend, cfg, data, theta, {
      step, eig: o.neigs !== undefined, references,
      table: (t) => tables?.writeTable(t),
      prepare: async (objs) => { for (const x of objs) await x.tune(); },
    });
  } finally {
    dev.backend.destroy();
  }
  const blocks = model ? paramBlocks(model).map((b) => b.name) : [];
  const columns = ['step', 'train_loss', 'train_acc', 'test_loss', 'test_acc', ...row.lambdas.map((_, i) => `lambda_${i + 1}`), 'grad_norm', 'threshold', 'lr',
    ...measureColumns(cfg, { blocks })];
  const cell = (x: number | null | undefined, f: (x: number) => string = shortestF32) => (x === null || x === undefined ? '' : Number.isNaN(x) ? 'nan' : !Number.isFinite(x) ? (x > 0 ? 'inf' : '-inf') : f(x));
  const values = [String(row.step), cell(row.train_loss), cell(row.train_acc), cell(row.test_loss), cell(row.test_acc), ...row.lambdas.map((x) => cell(x)),
    cell(row.grad_norm), cell(row.threshold, String), cell(o.lr, String), ...measureColumns(cfg, { blocks }).map((c) => cell(row.extra[c]))];
  const csv = columns.join(',') + '\n' + values.join(',') + '\n';
  if (o.out) {
    writeAtomic(resolve(o.out), csv);
    o.log(`measured ${o.from} (step ${step}): ${resolve(o.out)}`);
  } else {
    // Only the CSV goes to stdout (warnings go to stderr), so `> file.csv` works.
    o.log(csv.trimEnd());
  }
}
