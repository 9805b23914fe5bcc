// The Edge of Stochastic Stability (Andreyev & Beneventano, arXiv 2412.20553)
// in CI time: under SGD the batch sharpness E_B[g_BᵀH_Bg_B/‖g_B‖²] rises to
// 2/η and hovers there, while the full-batch λ₁ stays below 2/η (GD would
// take λ₁ itself to 2/η). The setting follows the reference's recipe at toy
// scale: a small initialisation (the reference's --init-scale; here PyTorch's
// init × 0.5) so training starts flat and sharpens, a small batch (8 of 256),
// and a step large enough that the sharpening meets 2/η before the loss is
// fitted: gmm-256-16-4, mlp:64x64:relu, MSE, η = 0.5 (2/η = 4), 1500 steps,
// the Wasm core (about 3 s).
//
// Measured (dataset seeds 0, 1, 2; every 50 steps, steps ≥ 700): batch
// sharpness 2.78–4.18, mean 3.4–3.6 (0.85–0.9 × 2/η), starting at 1.2; λ₁
// 2.9–3.4 (≤ 0.84 × 2/η). The per-measurement spread (±20%) is the real
// fluctuation of the minibatch dynamics, not the estimator's (its se is ~3%).
// Bounds, with margin over those: every late batch sharpness within
// [0.6, 1.2] × 2/η and their mean within [0.75, 1.1] × 2/η; λ₁ never above
// 0.92 × 2/η late, and below the batch sharpness on average (what sets EoSS
// apart from the full-batch edge, where λ₁ itself sits at 2/η).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_RUN, type RunConfig } from '../core/ts/run/config.js';
import { runExperiment } from '../core/ts/run/experiment.js';
import type { MetricsRow } from '../core/ts/run/records.js';
import { modelFromArch } from '../core/ts/nn/arch.js';
import { initParams } from '../core/ts/nn/init.js';
import { loadDataset } from '../datasets/registry.js';
import { createNodeWasm } from '../hosts/node/wasm.js';

test('SGD: batch sharpness rises to 2/η and hovers there while λ₁ stays below (EoSS)', async () => {
  const be = await createNodeWasm({ threads: 2 });
  try {
    const dataset = 'gmm-256-16-4', arch = 'mlp:64x64:relu', lr = 0.5, thr = 2 / lr, every = 50;
    const ds = loadDataset(dataset);
    const init = Array.from(initParams(modelFromArch(arch, [ds.d], ds.c), { seed: 0, scale: 0.5 }));
    const cfg: RunConfig = {
      ...DEFAULT_RUN, kind: 'train', dataset, arch, loss: 'mse', lr, maxSteps: 1500, batchSize: 8, neigs: 1, eigFreq: every, init,
      measures: { batch_sharpness: { freq: { every, after: [] }, options: { 'batch-size': 0, eps: 0.005, min: 20, max: 60 } } },
    };
    const rows: MetricsRow[] = [];
    const r = await runExperiment(be, cfg, { d: ds.d, c: ds.c, train: ds.train, test: ds.test }, { row: (x) => { rows.push(x); }, checkpoint: () => {} });
    assert.is(r.reason, 'max_steps');
    const pts = rows.filter((x) => x.extra?.batch_sharpness != null).map((x) => ({ step: x.step, bs: x.extra!.batch_sharpness!, se: x.extra!.batch_sharpness_se!, lam: x.lambdas[0]!, loss: x.train_loss }));
    for (const p of pts) console.log(`  step ${String(p.step).padStart(4)}  loss ${p.loss.toFixed(4)}  batch sharpness ${p.bs.toFixed(3)} ± ${p.se.toFixed(3)}  λ₁ ${p.lam.toFixed(3)}  2/η ${thr}`);
    assert.ok(pts[0].bs < 0.5 * thr, `starts flat: batch sharpness ${pts[0].bs} at step 0`);
    const late = pts.filter((p) => p.step >= 700);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const mBs = mean(late.map((p) => p.bs)), mLam = mean(late.map((p) => p.lam));
    console.log(`  steps ≥ 700: batch sharpness mean ${mBs.toFixed(3)} (${(mBs / thr).toFixed(3)} × 2/η), λ₁ mean ${mLam.toFixed(3)}, max ${Math.max(...late.map((p) => p.lam)).toFixed(3)}`);
    for (const p of late) {
      assert.ok(p.bs >= 0.6 * thr && p.bs <= 1.2 * thr, `step ${p.step}: batch sharpness ${p.bs} vs 2/η = ${thr}`);
      assert.ok(p.lam < 0.92 * thr, `step ${p.step}: λ₁ ${p.lam} should stay below 2/η = ${thr}`);
    }
    assert.ok(mBs >= 0.75 * thr && mBs <= 1.1 * thr, `batch sharpness hovers near 2/η: mean ${mBs}`);
    assert.ok(mBs > mLam, `batch sharpness (${mBs}) above λ₁ (${mLam}) on average`);
  } finally {
    be.destroy();
  }
});

test.run();
