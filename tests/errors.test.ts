// Bad input gets one clear error naming the fix.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { parseActivation } from '../core/ts/backend/activations.js';
import { modelFromArch } from '../core/ts/nn/arch.js';
import type { Dense } from '../core/ts/nn/layers/dense.js';
import type { Activation } from '../core/ts/nn/layers/activation.js';
import { ModelObjective } from '../core/ts/objective/model-objective.js';
import type { Backend, Buf } from '../core/ts/backend/types.js';

const parseArch = (id: string, d: number, c: number) => modelFromArch(id, [d], c);
/** An MLP id's [input, hidden…, output] sizes, activation and bias, read off its layer list. */
function mlpOf(id: string, d: number, c: number) {
  const m = parseArch(id, d, c);
  const dense = m.layers.filter((l) => l.kind === 'dense') as Dense[];
  const act = m.layers.find((l) => l.kind === 'act') as Activation | undefined;
  return { sizes: [d, ...dense.map((l) => l.outDim)], act: act?.act, bias: dense[0].bias !== null };
}

test('unknown architecture and activation', () => {
  assert.throws(() => parseArch('resnet18', 3072, 10), /unknown architecture 'resnet18': use fc-/);
  assert.throws(() => parseArch('fc-sigmoid', 3072, 10), /fc-<act> takes tanh, relu/);
  assert.throws(() => parseArch('fc-tanh-depth7', 3072, 10), /depth takes 1\.\.4/);
  assert.throws(() => parseArch('mlp:32x0:tanh', 4, 2), /widths must be positive/);
  assert.throws(() => parseArch('mlp:32:sigmoidish', 4, 2), /unknown activation 'sigmoidish': use one of identity, tanh/);
  assert.throws(() => parseActivation('Tanh'), /unknown activation/);
});

test('architecture ids map to the reference shapes', () => {
  assert.equal(mlpOf('fc-tanh', 3072, 10).sizes, [3072, 200, 200, 10]);
  assert.equal(mlpOf('fc-relu', 784, 10).act, 'relu');
  assert.equal(mlpOf('fc-tanh-depth3', 1, 1).sizes, [1, 200, 200, 200, 1]);
  assert.equal(mlpOf('mlp:32x16:gelu:nobias', 5, 2), { sizes: [5, 32, 16, 2], act: 'gelu', bias: false });
  assert.equal(mlpOf('mlp::identity', 5, 2).sizes, [5, 2]);
  assert.is(parseArch('fc-tanh', 3072, 10).P, 3072 * 200 + 200 + 200 * 200 + 200 + 200 * 10 + 10);
});

test('shape mismatch between data and model', () => {
  const fake = { alloc: (n: number, label: string): Buf => ({ id: 1, length: n, label }) } as unknown as Backend;
  const data = { X: { id: 1, length: 20, label: 'X' }, Y: { id: 2, length: 10, label: 'Y' }, N: 5, d: 4, c: 2 };
  assert.throws(() => new ModelObjective(fake, parseArch('mlp:8:tanh', 3, 2), data, { loss: 'mse' }),
    /shape mismatch: the model takes inputs of 3 values \(\[3\]\) but the data has 4 features/);
  assert.throws(() => new ModelObjective(fake, parseArch('mlp:8:tanh', 4, 3), data, { loss: 'mse' }),
    /the model has 3 outputs but the targets have 2 columns/);
  // mlp:8:tanh on 4 → 2 has P = 58: a stride below it would overlap the models.
  assert.throws(() => new ModelObjective(fake, parseArch('mlp:8:tanh', 4, 2), data, { loss: 'mse', K: 3, stride: 57 }),
    /the models' stride must be an integer of at least P = 58, got 57/);
});

test('no WebGPU adapter: the error says how to get one', () => {
  const script = "import { createNodeGpu } from './hosts/node/device.ts'; createNodeGpu().then(() => { console.log('adapter found'); process.exit(0); }, (e) => { console.error(e.message); process.exit(3); });";
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json' }, encoding: 'utf8', timeout: 60_000,
  });
  assert.is(r.status, 3, r.stdout + r.stderr);
  assert.match(r.stderr, /no WebGPU adapter: run `npm run setup`/);
});

test.run();
