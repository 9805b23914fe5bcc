// The main job for now: full-batch gradient descent on a small MLP with the
// loss, accuracy, gradient norm and, every few steps, the top Hessian
// eigenvalue λ₁ (exact HVPs, power iteration) printed against GD's stability
// threshold 2/η.
import { createNodeBackend } from './backend.js';
import type { BackendFlags } from './run-command.js';
import { loadDataset } from '../../datasets/registry.js';
import { parseArch, mlpLayout } from '../../core/ts/nn/mlp.js';
import { initParams } from '../../core/ts/nn/init.js';
import { MlpObjective, uploadData } from '../../core/ts/objective/mlp-objective.js';
import { topEigenPower } from '../../core/ts/measure/power.js';
import type { LossName } from '../../core/ts/backend/types.js';
import { encodeSafetensors } from '../../core/ts/io/safetensors.js';
import { stateDictFromTheta } from '../../core/ts/io/torch-state-dict.js';
import { writeFileSync, renameSync } from 'node:fs';

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
  if (!(o.lr > 0)) throw new Error(`learning rate must be positive, got ${o.lr}`);
  const ds = loadDataset(o.dataset, { seed: o.seed });
  const layout = mlpLayout(parseArch(o.arch, ds.d, ds.c));
  const { backend, why, saveTuning } = await createNodeBackend({ backend: o.backend, threads: o.threads });
  try {
    log(`eoslab demo: ${o.arch} on ${ds.id} (N=${ds.train.N}, P=${layout.P}), ${o.loss}, GD η=${o.lr}, 2/η=${(2 / o.lr).toFixed(3)}`);
    log(why);
    log(`loss convention: ${o.loss === 'mse' ? 'MSE = (1/N) Σ ½‖f(x)−y‖²' : 'mean softmax cross-entropy'}`);
    const data = uploadData(backend, ds.train.X, ds.train.Y, ds.train.N, ds.d, ds.c);
    const obj = new MlpObjective(backend, layout, data, { loss: o.loss, physicalBatch: o.physicalBatch });
    await obj.tune();
    saveTuning();
    const theta = backend.alloc(layout.P, 'θ'), grad = backend.alloc(layout.P, 'grad');
    backend.write(theta, initParams(layout, { seed: o.seed }));
    const eigv = backend.alloc(layout.P, 'eigenvector');
    backend.random({ out: eigv, n: layout.P, seed: o.seed, stream: 1, dist: 'normal' });
    log('step   train_loss  train_acc   grad_norm     lambda_1   2/eta');
    const t0 = performance.now();
    for (let t = 0; t <= o.steps; t++) {
      obj.encodeGrad(theta, grad);
      backend.reduce({ n: layout.P, K: 1, x: { buf: grad, off: 0, bs: 0 }, y: { buf: grad, off: 0, bs: 0 }, slot: 2 });
      const [loss, acc, g2] = await backend.readScalars(0, 3);
      if (!Number.isFinite(loss)) {
        log(`step ${t}: loss is ${loss}: diverged (try a smaller learning rate)`);
        break;
      }
      let lam = '';
      if (o.eigFreq > 0 && t % o.eigFreq === 0) {
        // Warm start from the previous eigenvector: few iterations per measurement.
        const r = await topEigenPower(backend, obj, theta, { v: eigv, iters: 200, tol: 1e-5 });
        lam = r.lambda.toFixed(4);
      }
      log(`${String(t).padStart(4)}  ${loss.toExponential(4).padStart(11)}  ${acc.toFixed(4).padStart(9)}  ${Math.sqrt(g2).toExponential(3).padStart(10)}  ${lam.padStart(11)}  ${(2 / o.lr).toFixed(3)}`);
      if (t < o.steps) {
        // The gradient pass above is recomputed for θ_t: row t measures θ_t before update t.
        backend.vector({ n: layout.P, y: theta, x: grad, alpha: -o.lr, beta: 1 });
      }
    }
    await backend.flush();
    if (o.save) {
      const bytes = encodeSafetensors(stateDictFromTheta(layout, await backend.read(theta)), {
        format: 'pt', arch: o.arch, dataset: ds.id, loss: o.loss, seed: String(o.seed),
      });
      const tmp = `${o.save}.tmp`;
      writeFileSync(tmp, bytes);
      renameSync(tmp, o.save); // a crash never leaves a half-written file under the real name
      log(`saved θ to ${o.save} (PyTorch nn.Sequential state dict, safetensors)`);
    }
    log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    backend.destroy();
  }
}
