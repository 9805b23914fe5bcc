// Bad input gets one clear error naming the fix.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { parseActivation } from '../core/ts/backend/activations.js';
import { mlpLayout, parseArch } from '../core/ts/nn/mlp.js';
import { MlpObjective } from '../core/ts/objective/mlp-objective.js';
import type { Backend, Buf } from '../core/ts/backend/types.js';

test('unknown architecture and activation', () => {
  assert.throws(() => parseArch('resnet18', 3072, 10), /unknown architecture 'resnet18': use fc-/);
  assert.throws(() => parseArch('fc-sigmoid', 3072, 10), /fc-<act> takes tanh, relu/);
  assert.throws(() => parseArch('fc-tanh-depth7', 3072, 10), /depth takes 1\.\.4/);
  assert.throws(() => parseArch('mlp:32x0:tanh', 4, 2), /widths must be positive/);
  assert.throws(() => parseArch('mlp:32:sigmoidish', 4, 2), /unknown activation 'sigmoidish': use one of identity, tanh/);
  assert.throws(() => parseActivation('Tanh'), /unknown activation/);
});

test('architecture ids map to the reference shapes', () => {
  assert.equal(parseArch('fc-tanh', 3072, 10).sizes, [3072, 200, 200, 10]);
  assert.equal(parseArch('fc-relu', 784, 10).act, 'relu');
  assert.equal(parseArch('fc-tanh-depth3', 1, 1).sizes, [1, 200, 200, 200, 1]);
  assert.equal(parseArch('mlp:32x16:gelu:nobias', 5, 2), { sizes: [5, 32, 16, 2], act: 'gelu', bias: false });
  assert.equal(parseArch('mlp::identity', 5, 2).sizes, [5, 2]);
  assert.is(mlpLayout(parseArch('fc-tanh', 3072, 10)).P, 3072 * 200 + 200 + 200 * 200 + 200 + 200 * 10 + 10);
});

test('shape mismatch between data and model', () => {
  const fake = { alloc: (n: number, label: string): Buf => ({ id: 1, length: n, label }) } as unknown as Backend;
  const data = { X: { id: 1, length: 20, label: 'X' }, Y: { id: 2, length: 10, label: 'Y' }, N: 5, d: 4, c: 2 };
  assert.throws(() => new MlpObjective(fake, mlpLayout(parseArch('mlp:8:tanh', 3, 2)), data, { loss: 'mse' }),
    /shape mismatch: the model takes inputs of size 3 but the data has 4 features/);
  assert.throws(() => new MlpObjective(fake, mlpLayout(parseArch('mlp:8:tanh', 4, 3)), data, { loss: 'mse' }),
    /the model has 3 outputs but the targets have 2 columns/);
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
