// Per-layer sharpness against the explicit float64 Hessian: λ_max of each
// layer's diagonal block H_ll (symEig64) on an MLP and a small CNN, both
// backends; the block operator leaves θ as it found it; and the CLI writes
// one lambda_1_layer<name> column per layer, named by the state-dict prefix.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachBackend } from './helpers/backends.js';
import { makeModelProblem, paramsAwayFromKinks64 } from './helpers/model64.js';
import { makeTestContext } from './helpers/measure-ctx.js';
import { hessian64, symEig64 } from './reference/layers64.js';
import { modelFromArch, parseArchId } from '../core/ts/nn/arch.js';
import { paramBlocks } from '../core/ts/run/problem.js';
import { layerSharpness } from '../core/ts/measure/layer-sharpness.js';

const CASES = [
  { arch: 'mlp:6x5:tanh', inShape: [4], classes: 3, loss: 'mse' as const },
  { arch: 'cnn:c2,p2,f4:tanh', inShape: [1, 6, 6], classes: 2, loss: 'ce' as const },
];

forEachBackend('layer sharpness', (T) => {
  for (const c of CASES) {
    T(`${c.arch}: λ_max of each diagonal Hessian block against float64`, async ({ be }) => {
      const model = modelFromArch(c.arch, c.inShape, c.classes);
      const p = makeModelProblem(be, model, { loss: c.loss, N: 6, seed: 3 });
      const th = paramsAwayFromKinks64(p, 11, parseArchId(c.arch, c.classes).init);
      const P = model.P;
      const H = hessian64(p.m64, Float64Array.from(th), Float64Array.from(p.X), Float64Array.from(p.Y), p.N, c.loss);
      const blocks = paramBlocks(model);
      assert.ok(blocks.length >= 2, `${blocks.length} blocks`);
      const { ctx, dispose } = await makeTestContext(be, { objective: p.obj, theta: th, step: 2, seed: 1, blocks });
      const r = await layerSharpness.run(ctx, { freq: { every: 1, after: [] }, options: { tol: 1e-5 } });
      assert.equal(Object.keys(r), layerSharpness.columns({ freq: { every: 1, after: [] }, options: {} }, { neigs: 1, blocks: blocks.map((b) => b.name) }));
      for (const b of blocks) {
        const Hb = new Float64Array(b.size * b.size);
        for (let i = 0; i < b.size; i++) for (let j = 0; j < b.size; j++) Hb[i * b.size + j] = H[(b.off + i) * P + b.off + j];
        const want = symEig64(Hb, b.size).values[0];
        const got = r[`lambda_1_layer${b.name}`]!;
        console.log(`  ${c.arch} layer ${b.name} (${b.size} params): ${got.toFixed(6)} vs float64 ${want.toFixed(6)}`);
        assert.ok(Math.abs(got - want) <= 2e-4 * Math.abs(want) + 1e-6, `layer ${b.name}: ${got} vs ${want}`);
      }
      // The full λ_max bounds every block's (Cauchy interlacing); a block that equalled it would not test the restriction.
      const top = symEig64(Float64Array.from(H), P).values[0];
      assert.ok(blocks.every((b) => r[`lambda_1_layer${b.name}`]! < top * (1 - 1e-3)), `blocks below λ_max ${top}`);
      assert.ok(r.layer_sharpness_hvps! > 0 && r.layer_sharpness_residual! < 1e-5);
      assert.equal(await be.read(ctx.theta), th, 'θ untouched');
      dispose();
      p.dispose();
    });
  }
});

test('the CLI: --layer-sharpness writes lambda_1_layer<name> per layer where its rule fires', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'eoslab-layer-')), 'run');
  const r = spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', 'train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '4',
    '--backend', 'wasm', '--eig-freq', '2', '--layer-sharpness', '--layer-sharpness-freq', '4', '--out', out], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  // mlp:8:tanh is Flatten, Linear, Tanh, Linear: state-dict prefixes 1 and 3.
  const [head, ...rows] = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  const cols = ['lambda_1_layer1', 'lambda_1_layer3', 'layer_sharpness_hvps', 'layer_sharpness_residual'];
  assert.equal(head.slice(head.indexOf('wall_s') + 1), cols, head.join(','));
  const filled = rows.filter((c) => c[head.indexOf('lambda_1_layer1')] !== '').map((c) => Number(c[0]));
  assert.equal(filled, [0, 4]);
  for (const c of rows.filter((x) => x[head.indexOf('lambda_1_layer1')] !== '')) {
    assert.ok(Number(c[head.indexOf('lambda_1_layer3')]) > 0 && Number(c[head.indexOf('lambda_1_layer1')]) > 0);
  }
  const meta = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
  assert.equal(meta.columns, head);
  const resumed = spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', 'resume', out, '--max-steps', '5'], { encoding: 'utf8' });
  assert.is(resumed.status, 0, resumed.stderr);
  const toy = spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', 'train', 'quadratic:1,2,3', 'x', 'mse', '0.1', '2', '--backend', 'wasm', '--layer-sharpness'], { encoding: 'utf8' });
  assert.is(toy.status, 1);
  assert.match(toy.stderr, /^eoslab: --layer-sharpness needs a model with layers/);
});

test.run();
