// θ → safetensors with nn.Sequential keys → θ, bit-exact; the header has the
// keys, shapes and dtype PyTorch's load_state_dict expects for fc-tanh.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeSafetensors, encodeSafetensors } from '../core/ts/io/safetensors.js';
import { stateDictFromTheta, thetaFromStateDict } from '../core/ts/io/torch-state-dict.js';
import { initParams } from '../core/ts/nn/init.js';
import { modelFromArch } from '../core/ts/nn/arch.js';
import { torchSequential } from '../core/ts/nn/model.js';

const arch = (id: string, d: number, c: number) => modelFromArch(id, [d], c);

test('fc-tanh state dict: keys, shapes, dtype, header, exact round trip', () => {
  const layout = arch('fc-tanh', 3072, 10);
  const theta = initParams(layout, { seed: 0 });
  const bytes = encodeSafetensors(stateDictFromTheta(layout, theta), { format: 'pt' });
  const hlen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen)));
  const keys = Object.keys(header).filter((k) => k !== '__metadata__').sort();
  assert.equal(keys, ['1.bias', '1.weight', '3.bias', '3.weight', '5.bias', '5.weight']);
  assert.equal(header['1.weight'].shape, [200, 3072]);
  assert.equal(header['1.bias'].shape, [200]);
  assert.equal(header['3.weight'].shape, [200, 200]);
  assert.equal(header['5.weight'].shape, [10, 200]);
  for (const k of keys) assert.is(header[k].dtype, 'F32');
  assert.is(header.__metadata__.format, 'pt');
  const back = thetaFromStateDict(layout, decodeSafetensors(bytes).tensors);
  assert.equal(new Uint8Array(back.buffer), new Uint8Array(theta.buffer));
});

test('nobias model exports weights only; wrong architecture is a clear error', () => {
  const layout = arch('mlp:8x8:relu:nobias', 5, 3);
  const sd = stateDictFromTheta(layout, initParams(layout, { seed: 1 }));
  assert.equal(sd.map((t) => t.name), ['1.weight', '3.weight', '5.weight']);
  const other = arch('mlp:8x7:relu:nobias', 5, 3);
  assert.throws(() => thetaFromStateDict(other, sd), /shape \[7,8\]|expects \[7,8\]/);
  const withBias = arch('mlp:8x8:relu', 5, 3);
  assert.throws(() => thetaFromStateDict(withBias, sd), /lacks '1.bias'/);
});


/** Keys and shapes of a model's safetensors header, after a round trip through the bytes. */
function header(id: string, inShape: number[], classes: number): Record<string, number[]> {
  const model = modelFromArch(id, inShape, classes);
  const theta = initParams(model, { seed: 3 });
  const bytes = encodeSafetensors(stateDictFromTheta(model, theta), { format: 'pt' });
  const back = thetaFromStateDict(model, decodeSafetensors(bytes).tensors);
  assert.equal(new Uint8Array(back.buffer), new Uint8Array(theta.buffer), `${id}: exact round trip`);
  return Object.fromEntries(decodeSafetensors(bytes).tensors.map((t) => [t.name, t.shape]));
}

test('cnn-relu / cnn-avgpool-*: the keys and shapes of nn.Sequential(Conv2d, act, pool, Conv2d, act, pool, Flatten, Linear)', () => {
  for (const id of ['cnn-relu', 'cnn-elu', 'cnn-tanh', 'cnn-avgpool-relu', 'cnn-avgpool-tanh']) {
    assert.equal(header(id, [3, 32, 32], 10), {
      '0.weight': [32, 3, 3, 3], '0.bias': [32], '3.weight': [32, 32, 3, 3], '3.bias': [32], '7.weight': [10, 2048], '7.bias': [10],
    }, id);
  }
  // Fashion-MNIST: one channel, 28 → 14 → 7.
  assert.equal(header('cnn-relu', [1, 28, 28], 10)['7.weight'], [10, 32 * 7 * 7]);
  const seq = torchSequential(modelFromArch('cnn-relu', [3, 32, 32], 10));
  assert.match(seq, /nn\.Conv2d\(3, 32, 3, padding=1\),  # 0\n {2}nn\.ReLU\(\),  # 1\n {2}nn\.MaxPool2d\(2\),  # 2\n {2}nn\.Conv2d\(32, 32, 3, padding=1\),  # 3/);
  assert.match(seq, /nn\.Flatten\(\),  # 6\n {2}nn\.Linear\(2048, 10\),  # 7/);
  assert.match(torchSequential(modelFromArch('cnn-avgpool-elu', [3, 32, 32], 10)), /nn\.ELU\(\),  # 1\n {2}nn\.AvgPool2d\(2\),  # 2/);
});

test('Myrtle: bias-free convs at the nn.Sequential indices, global average pool, readout', () => {
  assert.equal(header('myrtle5', [3, 32, 32], 10), {
    '0.weight': [32, 3, 3, 3], '2.weight': [32, 32, 3, 3], '5.weight': [32, 32, 3, 3], '8.weight': [32, 32, 3, 3], '12.weight': [10, 32],
  });
  const h7 = header('myrtle7:16', [3, 32, 32], 10);
  assert.equal(Object.keys(h7).length, 8, '7 convs and the readout');
  assert.equal(h7['0.weight'], [16, 3, 3, 3]);
  const h10 = header('myrtle10', [3, 32, 32], 10);
  assert.equal(Object.keys(h10).length, 11, '10 convs and the readout');
  assert.match(torchSequential(modelFromArch('myrtle5', [3, 32, 32], 10)), /nn\.Conv2d\(32, 32, 3, padding='same', bias=False\),  # 2[\s\S]*nn\.AvgPool2d\(8\),  # 10\n {2}nn\.Flatten\(\),  # 11\n {2}nn\.Linear\(32, 10, bias=False\),  # 12/);
});

test('the general cnn: form and its keys; a state dict of another architecture is refused', () => {
  const h = header('cnn:c8k5s2p2,p2,c16,ag,f12:gelu', [3, 16, 16], 5);
  // Conv(0) GELU(1) MaxPool(2) Conv(3) GELU(4) AvgPool-global(5) Flatten(6) Linear(7) GELU(8) Linear(9)
  assert.equal(h, { '0.weight': [8, 3, 5, 5], '0.bias': [8], '3.weight': [16, 8, 3, 3], '3.bias': [16], '7.weight': [12, 16], '7.bias': [12], '9.weight': [5, 12], '9.bias': [5] });
  const relu = modelFromArch('cnn-relu', [3, 32, 32], 10);
  const sd = stateDictFromTheta(relu, initParams(relu, { seed: 1 }));
  assert.throws(() => thetaFromStateDict(modelFromArch('cnn-relu', [1, 28, 28], 10), sd), /'0\.weight' has shape \[32,3,3,3\], the model expects \[32,1,3,3\]/);
  assert.throws(() => thetaFromStateDict(modelFromArch('myrtle5', [3, 32, 32], 10), sd), /lacks '2\.weight'/);
});

test('architecture errors name the accepted forms', () => {
  assert.throws(() => modelFromArch('cnn-relu', [3072], 10), /needs image inputs \[C, H, W\], but the data is flat/);
  assert.throws(() => modelFromArch('cnn-gelu', [3, 8, 8], 10), /cnn-<act> takes relu, elu, tanh/);
  assert.throws(() => modelFromArch('myrtle6', [3, 8, 8], 10), /use myrtle5, myrtle7 or myrtle10/);
  assert.throws(() => modelFromArch('cnn:c8,x3:relu', [3, 8, 8], 10), /cannot read 'x3'/);
  assert.throws(() => modelFromArch('cnn:f8,c8:relu', [3, 8, 8], 10), /cannot read 'c8' after a dense layer/);
  assert.throws(() => modelFromArch('cnn:c8,p2,p2,p2,p2:relu', [3, 8, 8], 10), /pool 2×2 \(stride 2\) does not fit a 0×0 input|does not fit/);
  assert.throws(() => modelFromArch('resnet18', [3, 8, 8], 10), /unknown architecture 'resnet18': use fc-/);
});

test('cnn-bn-* / fc-bn-*: nn.Sequential keys with BatchNorm running statistics (what strict=True needs); γ = 1, β = 0; buffers accepted on import', () => {
  const m = modelFromArch('cnn-bn-relu', [3, 32, 32], 10);
  const sd = stateDictFromTheta(m, initParams(m, { seed: 1 }));
  const shapes = Object.fromEntries(sd.map((t) => [t.name, t.shape]));
  assert.equal(shapes, {
    '0.weight': [32, 3, 3, 3], '0.bias': [32], '2.weight': [32], '2.bias': [32], '2.running_mean': [32], '2.running_var': [32], '2.num_batches_tracked': [],
    '4.weight': [32, 32, 3, 3], '4.bias': [32], '6.weight': [32], '6.bias': [32], '6.running_mean': [32], '6.running_var': [32], '6.num_batches_tracked': [],
    '9.weight': [10, 2048], '9.bias': [10],
  });
  const by = new Map(sd.map((t) => [t.name, t]));
  assert.is(by.get('2.num_batches_tracked')!.dtype, 'I64');
  assert.ok(Array.from(by.get('2.weight')!.data as Float32Array).every((x) => x === 1), 'γ starts at 1');
  assert.ok(Array.from(by.get('2.bias')!.data as Float32Array).every((x) => x === 0), 'β starts at 0');
  assert.ok(Array.from(by.get('2.running_var')!.data as Float32Array).every((x) => x === 1), 'running_var is PyTorch\'s initial 1');
  const theta = initParams(m, { seed: 2 });
  const back = thetaFromStateDict(m, decodeSafetensors(encodeSafetensors(stateDictFromTheta(m, theta), { format: 'pt' })).tensors);
  assert.equal(new Uint8Array(back.buffer), new Uint8Array(theta.buffer));
  assert.match(torchSequential(m), /nn\.ReLU\(\),  # 1\n {2}nn\.BatchNorm2d\(32\),  # 2\n {2}nn\.MaxPool2d\(2\),  # 3/);
  const fc = modelFromArch('fc-bn-tanh', [3072], 10);
  assert.equal(stateDictFromTheta(fc, initParams(fc, { seed: 0 })).map((t) => t.name), [
    '1.weight', '1.bias', '3.weight', '3.bias', '3.running_mean', '3.running_var', '3.num_batches_tracked',
    '4.weight', '4.bias', '6.weight', '6.bias', '6.running_mean', '6.running_var', '6.num_batches_tracked', '7.weight', '7.bias',
  ]);
  assert.match(torchSequential(fc), /nn\.Tanh\(\),  # 2\n {2}nn\.BatchNorm1d\(200\),  # 3/);
  const bad = stateDictFromTheta(m, theta).map((t) => (t.name === '2.running_mean' ? { ...t, shape: [16], data: new Float32Array(16) } : t));
  assert.throws(() => thetaFromStateDict(m, bad), /'2\.running_mean' has shape \[16\], the model expects \[32\]/);
});

test.run();
