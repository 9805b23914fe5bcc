// `eoslab demo`: a quick look with no run directory. Full-batch GD through
// the same run loop as `eoslab train` (core/ts/run), printing each row: loss,
// accuracy, gradient norm and, every few steps, λ₁ (exact HVPs, the run's
// eigen-solver) against GD's stability threshold 2/η.
import { writeFileSync, renameSync } from 'node:fs';
import { createHostBackend, loadData, modelFor, type BackendFlags } from './run-command.js';
import type { LossName } from '../../core/ts/backend/types.js';
import { DEFAULT_RUN, validateRun, type RunConfig } from '../../core/ts/run/config.js';
import { runExperiment } from '../../core/ts/run/experiment.js';
import type { Checkpoint } from '../../core/ts/run/records.js';
import { encodeSafetensors } from '../../core/ts/io/safetensors.js';
import { stateDictFromTheta } from '../../core/ts/io/torch-state-dict.js';

export interface DemoOptions extends BackendFlags {
  dataset: string;
  arch: string;
  loss: LossName;
  lr: number;
  steps: number;
  eigFreq: number;
  seed: number;
  physicalBatch: number;
  /** Write the final θ here as safetensors with nn.Sequential keys. */
  save?: string;
}

export async function runDemo(o: DemoOptions, log: (s: string) => void = console.log): Promise<void> {
  const cfg: RunConfig = {
    ...DEFAULT_RUN, kind: 'train', dataset: o.dataset, arch: o.arch, loss: o.loss, lr: o.lr, maxSteps: o.steps,
    seed: o.seed, datasetSeed: o.seed, physicalBatchSize: o.physicalBatch, neigs: 1, eigFreq: o.eigFreq, abridgedSize: 0,
  };
  validateRun(cfg);
  const data = await loadData(cfg);
  const model = modelFor(cfg, data);
  const { backend, why, saveTuning } = await createHostBackend(o, { backend: o.backend, threads: o.threads });
  try {
    log(`eoslab demo: ${o.arch} on ${o.dataset}${data ? ` (N=${data.train.N}` : ' ('}${model ? `, P=${model.P})` : ')'}, ${o.loss}, GD η=${o.lr}, 2/η=${(2 / o.lr).toFixed(3)}`);
    log(why);
    log(`loss convention: ${o.loss === 'mse' ? 'MSE = (1/N) Σ ½‖f(x)−y‖²' : 'mean softmax cross-entropy'}`);
    log('step   train_loss  train_acc   grad_norm     lambda_1   2/eta');
    let last: Checkpoint | null = null;
    const t0 = performance.now();
    const result = await runExperiment(backend, cfg, data, {
      row: (r) => {
        const lam = r.lambdas[0] === null ? '' : r.lambdas[0].toFixed(4);
        const acc = r.train_acc === null ? '—' : r.train_acc.toFixed(4);
        log(`${String(r.step).padStart(4)}  ${r.train_loss.toExponential(4).padStart(11)}  ${acc.padStart(9)}  ${r.grad_norm.toExponential(3).padStart(10)}  ${lam.padStart(11)}  ${(2 / o.lr).toFixed(3)}`);
      },
      checkpoint: (c) => { last = c; },
    }, { prepare: async (objs) => { for (const ob of objs) await ob.tune(); saveTuning(); } });
    if (result.reason === 'diverged') log(`step ${result.step}: the loss diverged (try a smaller learning rate)`);
    if (o.save) {
      const ck = last as Checkpoint | null;
      if (!ck || !model) throw new Error(`nothing to save: ${model ? 'the run diverged before a checkpoint' : 'this objective has no model'}`);
      const bytes = encodeSafetensors(stateDictFromTheta(model, ck.theta), {
        format: 'pt', arch: o.arch, dataset: o.dataset, loss: o.loss, seed: String(o.seed), step: String(ck.step),
      });
      const tmp = `${o.save}.tmp`;
      writeFileSync(tmp, bytes);
      renameSync(tmp, o.save); // a crash never leaves a half-written file under the real name
      log(`saved θ_${ck.step} to ${o.save} (PyTorch nn.Sequential state dict, safetensors)`);
    }
    log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    backend.destroy();
  }
}
