// The reference's "real networks" (arch ids vgg11[:w<mult>], resnet20/32):
// the VGG-11 state dict has the keys and shapes of the reference's PyTorch
// VGG module (features.<i>, classifier.<i>, written out below from that code:
// cfg A = 64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M with
// Conv2d(3×3, pad 1) → ReLU and MaxPool2d(2), classifier Linear 512-512-10
// without dropout), an exact safetensors round trip, its He fan-out conv init;
// a narrow VGG's HVP and Gauss-Newton product against the float64 reference
// on both backends (the fused conv → ReLU → max pool walk included), K = 3
// batched equals alone bit for bit. vgg11 did not exist before: these fail
// on the old code (unknown architecture).
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { decodeSafetensors, encodeSafetensors } from '../core/ts/io/safetensors.js';
import { stateDictFromTheta, thetaFromStateDict } from '../core/ts/io/torch-state-dict.js';
import { modelFromArch, parseArchId } from '../core/ts/nn/arch.js';
import { initParams } from '../core/ts/nn/init.js';
import { forEachBackend } from './helpers/backends.js';
import { randArray } from './helpers/gpu.js';
import { batchedEqualsAlone } from './helpers/problem.js';
import { checkAgainst64 } from './helpers/check64.js';
import { makeModelProblem, paramsAwayFromKinks64 } from './helpers/model64.js';

const TOL = 5e-5;

/** The reference VGG-11's state dict on 32×32 inputs with 10 classes: (key, shape). */
function vgg11Keys(): [string, number[]][] {
  const keys: [string, number[]][] = [];
  const convs: [number, number, number][] = [[0, 3, 64], [3, 64, 128], [6, 128, 256], [8, 256, 256], [11, 256, 512], [13, 512, 512], [16, 512, 512], [18, 512, 512]];
  for (const [i, cin, cout] of convs) keys.push([`features.${i}.weight`, [cout, cin, 3, 3]], [`features.${i}.bias`, [cout]]);
  for (const [i, nin, nout] of [[0, 512, 512], [2, 512, 512], [4, 512, 10]]) keys.push([`classifier.${i}.weight`, [nout, nin]], [`classifier.${i}.bias`, [nout]]);
  return keys;
}

const S = suite('vgg11: PyTorch keys, shapes, init; ids refused in one line');
S('vgg11 on [3, 32, 32]: the reference module\'s keys and shapes, in order, and an exact safetensors round trip', () => {
  const model = modelFromArch('vgg11', [3, 32, 32], 10);
  assert.equal(model.params.map((p) => [p.name, p.shape]), vgg11Keys());
  const theta = initParams(model, { seed: 3, scheme: parseArchId('vgg11', 10).init });
  const bytes = encodeSafetensors(stateDictFromTheta(model, theta), { format: 'pt' });
  const back = thetaFromStateDict(model, decodeSafetensors(bytes).tensors);
  assert.equal(new Uint8Array(back.buffer), new Uint8Array(theta.buffer));
});
S('vgg11 init: conv weights N(0, 2/(9·C_out)), zero conv biases, Linear PyTorch default', () => {
  const model = modelFromArch('vgg11', [3, 32, 32], 10);
  const theta = initParams(model, { seed: 1, scheme: parseArchId('vgg11', 10).init });
  const at = (name: string) => { const p = model.params.find((q) => q.name === name)!; return theta.subarray(p.off, p.off + p.size); };
  const std = (a: Float32Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
  // 512·256·9 draws: the sample std is within 0.5% of σ.
  const w = at('features.11.weight');
  assert.ok(Math.abs(std(w) / Math.sqrt(2 / (9 * 512)) - 1) < 0.005, `features.11 std ${std(w)}`);
  assert.ok(at('features.11.bias').every((x) => x === 0), 'conv bias zero');
  const lw = at('classifier.0.weight'), bound = 1 / Math.sqrt(512);
  assert.ok(lw.every((x) => Math.abs(x) <= bound) && lw.reduce((m, x) => Math.max(m, Math.abs(x)), 0) > 0.99 * bound, 'Linear U(±1/√fan_in)');
  assert.ok(at('classifier.0.bias').some((x) => x !== 0), 'Linear bias PyTorch default, not zero');
});
S('vgg11:w0.25 scales every width; bad ids are refused in one line naming the fix; the BatchNorm nets build', () => {
  const m = modelFromArch('vgg11:w0.25', [3, 32, 32], 10);
  assert.equal(m.params.filter((p) => p.name.endsWith('weight')).map((p) => p.shape[0]), [16, 32, 64, 64, 128, 128, 128, 128, 128, 128, 10]);
  for (const [id, re] of [['vgg11:w0', /positive number/], ['vgg13', /use vgg11/], ['resnet44', /use fc-.*resnet20, resnet32$/]] as const) {
    assert.throws(() => parseArchId(id, 10), (e: Error) => re.test(e.message) && !e.message.includes('\n'), id);
  }
  assert.throws(() => modelFromArch('vgg11', [8], 10), /needs image inputs/);
  // Parameter counts of the PyTorch modules (BatchNorm affine parameters included; running statistics are buffers).
  assert.is(modelFromArch('resnet20', [3, 32, 32], 10).P, 269_722);
  assert.is(modelFromArch('resnet32', [3, 32, 32], 10).P, 464_154);
  const bn = modelFromArch('vgg11-bn', [3, 32, 32], 10);
  assert.equal(bn.params.slice(0, 4).map((p) => p.name), ['features.0.weight', 'features.0.bias', 'features.1.weight', 'features.1.bias']);
  assert.is(bn.P - modelFromArch('vgg11', [3, 32, 32], 10).P, 2 * (64 + 128 + 256 * 2 + 512 * 4));
});
S.run();

forEachBackend('narrow VGG-11 (vgg11:w0.0625 on 32×32) vs float64 reference', (T) => {
  for (const loss of ['mse', 'ce'] as const) {
    T(`${loss}: loss, grad, hvp, gnvp over physical batches`, async ({ be }) => {
      const model = modelFromArch('vgg11:w0.0625', [3, 32, 32], 3), seed = loss === 'ce' ? 11 : 12;
      const p = makeModelProblem(be, model, { loss, N: 3, seed, physicalBatch: 2 });
      const th = paramsAwayFromKinks64(p, seed * 5, parseArchId('vgg11', 3).init);
      try {
        await checkAgainst64(be, p, th, randArray(model.P, seed + 1), { tol: TOL });
      } finally {
        p.dispose();
      }
    });
  }
  T('K = 3 batched: each equals itself run alone bit for bit', async ({ be }) => {
    const model = modelFromArch('vgg11:w0.0625', [3, 32, 32], 3);
    const pk = makeModelProblem(be, model, { loss: 'ce', N: 3, seed: 5, K: 3, physicalBatch: 2 });
    const p1 = makeModelProblem(be, model, { loss: 'ce', N: 3, seed: 5, physicalBatch: 2 });
    const init = parseArchId('vgg11', 3).init;
    const thetas = [0, 1, 2].map((k) => initParams(model, { seed: 30 + k, scheme: init }));
    await batchedEqualsAlone(be, pk.obj, p1.obj, thetas, [0, 1, 2].map((k) => randArray(model.P, 40 + k)));
    pk.dispose(); p1.dispose();
  });
});
