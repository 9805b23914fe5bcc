// θ → safetensors with nn.Sequential keys → θ, bit-exact; the header has the
// keys, shapes and dtype PyTorch's load_state_dict expects for fc-tanh.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeSafetensors, encodeSafetensors } from '../core/ts/io/safetensors.js';
import { stateDictFromTheta, thetaFromStateDict } from '../core/ts/io/torch-state-dict.js';
import { initParams } from '../core/ts/nn/init.js';
import { modelFromArch } from '../core/ts/nn/arch.js';

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

test.run();
