// Sweep repacking: once at most half a group's members are still running,
// their θ slices move to the front and the batched objectives shrink to
// that many models. Each member must still equal its run alone bit for bit
// (rows, eigenvalues measured after the move, checkpoints), and the stopped
// members must no longer be computed: before repacking every step ran all K.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend } from '../core/ts/backend/types.js';
import { DEFAULT_RUN, type RunConfig } from '../core/ts/run/config.js';
import { runExperiment } from '../core/ts/run/experiment.js';
import { runSweepGroup } from '../core/ts/run/sweep.js';
import type { MetricsRow } from '../core/ts/run/records.js';
import { loadDataset } from '../datasets/registry.js';
import { BACKENDS, testBackend } from './helpers/backends.js';
import { recorder, spyBackend } from './helpers/spy.js';

const cfg = (o: Partial<RunConfig>): RunConfig => ({
  ...DEFAULT_RUN, kind: 'train', dataset: 'gmm-64-4-2', arch: 'mlp:8:tanh', loss: 'mse', lr: 0.1, maxSteps: 8,
  eigFreq: 3, neigs: 1, checkpointEvery: 4, ...o,
});

/** The backend with the K of every matmul and the number of autotuning calls recorded. */
function matmulKs(be: Backend): { backend: Backend; ks: Set<number>; tunes: () => number } {
  const ks = new Set<number>();
  let tunes = 0;
  const backend = spyBackend(be, (method, a) => {
    if (method === 'matmul') ks.add((a[0] as { K: number }).K);
    if (method === 'tune') tunes++;
  });
  return { backend, ks, tunes: () => tunes };
}

// Both backends: on WebGPU the repacked slices keep the sweep's aligned stride, so every K runs the kernels a member alone runs.
for (const kind of BACKENDS) for (const opt of [{ name: 'gd' as const }, { name: 'adam' as const }]) {
  test(`${opt.name} [${kind}]: members stopping at steps 2, 3, 5 and 8 shrink the group 4 → 2 → 1, each member still equals its run alone bit for bit`, async () => {
    const be = await testBackend(kind, { threads: 1 });
    try {
      const data = loadDataset('gmm-64-4-2');
      const cfgs = [2, 3, 5, 8].map((maxSteps, j) => cfg({ maxSteps, lr: opt.name === 'adam' ? 0.01 * (j + 1) : 0.1 * (j + 1), seed: j, opt }));
      const recs = cfgs.map(() => recorder());
      const { backend, ks, tunes } = matmulKs(be);
      await runSweepGroup(backend, cfgs.map((c, j) => ({ cfg: c, sink: recs[j].sink })), data);
      assert.equal([...ks].sort(), [1, 2, 4], 'batched K over the run');
      // No prepare, no autotuning: a repack must not tune on its own (it would change the caller's kernels mid-sweep).
      assert.is(tunes(), 0, 'autotuning calls without a prepare');
      for (const [j, c] of cfgs.entries()) {
        const alone = recorder();
        await runExperiment(be, c, data, alone.sink);
        assert.equal(recs[j].rows, alone.rows, `member ${j} rows`);
        assert.ok((recs[j].rows as MetricsRow[]).some((r) => r.lambdas[0] !== null), 'eigenvalues were measured');
        assert.equal(recs[j].ckpts, alone.ckpts, `member ${j} checkpoints`);
      }
    } finally {
      be.destroy();
    }
  });
}

test.run();
