// The edge of stability with BatchNorm (issue 14): GD on a small BatchNorm
// CNN (cnn:c8,bn,p2,c8,p2:tanh: conv → BatchNorm2d → tanh → max pool, conv →
// tanh → pool, linear readout; MSE) on the 64-feature mixture read as 1×8×8
// images, BatchNorm in training mode over the full batch. Measured on the
// Wasm core (lr 0.04, 2/η = 50): λ₀ = 36.7, 2/η reached at step 220, λ₁ over
// steps ≥ 300 within −0.6%…+2.3% of 2/η while the loss falls from 0.035 to
// 0.025 non-monotonically. The checks leave margins: λ₀ < 0.8·2/η, reached
// by step 300, ±10% after, a rise in the loss, and a fall by a fifth.
// (With BatchNorm before the readout too, λ₁ starts above 2/η and only
// falls to it: no sharpening to watch, so that net is not the case here.)
// Wasm only, ~6 s: the WebGPU path runs the same walk (tests/batchnorm).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_RUN, type RunConfig } from '../core/ts/run/config.js';
import { runExperiment } from '../core/ts/run/experiment.js';
import type { MetricsRow } from '../core/ts/run/records.js';
import { loadDataset } from '../datasets/registry.js';
import { testBackend } from './helpers/backends.js';

test('BatchNorm CNN under GD: progressive sharpening to 2/η, then λ₁ within ±10% of it, the loss falling non-monotonically', async () => {
  const lr = 0.04, thr = 2 / lr, ds = loadDataset('gmm-256-64-4');
  const cfg: RunConfig = {
    ...DEFAULT_RUN, kind: 'train', dataset: 'gmm-256-64-4', arch: 'cnn:c8,bn,p2,c8,p2:tanh', loss: 'mse', lr, maxSteps: 500, neigs: 1, eigFreq: 20,
  };
  const be = await testBackend('wasm');
  const rs: MetricsRow[] = [];
  try {
    const r = await runExperiment(be, cfg, { shape: [1, 8, 8], d: ds.d, c: ds.c, train: ds.train, test: ds.test }, { row: (x) => { rs.push(x); }, checkpoint: () => {} });
    assert.is(r.reason, 'max_steps');
  } finally {
    be.destroy();
  }
  const lam = rs.filter((x) => x.lambdas[0] !== null).map((x) => ({ step: x.step, v: x.lambdas[0]! }));
  assert.ok(lam[0].v < 0.8 * thr, `starts below 2/η: λ₀ = ${lam[0].v}`);
  const reach = lam.find((x) => x.v >= thr);
  assert.ok(reach && reach.step <= 300, 'sharpens up to 2/η');
  const late = lam.filter((x) => x.step >= 300);
  for (const x of late) assert.ok(Math.abs(x.v / thr - 1) <= 0.1, `step ${x.step}: λ₁ = ${x.v} vs 2/η = ${thr}`);
  const loss = rs.filter((x) => x.step >= reach!.step).map((x) => x.train_loss);
  assert.ok(loss.some((l, i) => i > 0 && l > loss[i - 1]), 'non-monotone loss at the edge of stability');
  assert.ok(loss[loss.length - 1] < 0.8 * loss[0], 'the loss keeps falling');
  console.log(`  BN CNN GD: λ₀ ${lam[0].v.toFixed(2)}, reaches 2/η=${thr} at step ${reach!.step}, λ₁ over steps ≥ 300 in [${Math.min(...late.map((x) => x.v)).toFixed(2)}, ${Math.max(...late.map((x) => x.v)).toFixed(2)}]`);
});
test.run();
