// WebGPU failures surface as clear errors at the next read-back: validation
// errors (with the kernel named), oversized buffers, and a lost device.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testGpu } from './helpers/gpu.js';

test('validation error names what failed', async () => {
  const { backend } = await testGpu();
  try {
    const b = backend.alloc(8, 'x');
    // Binding one buffer as both read-only and writable is invalid in WebGPU.
    backend.loss({ loss: 'mse', mode: 'grad', B: 2, c: 2, K: 1, f: { buf: b, off: 0, bs: 0 }, y: { buf: b, off: 0, bs: 0 },
      d: { buf: b, off: 0, bs: 0 }, pe: { buf: b, off: 0, bs: 0 }, acc: { buf: b, off: 4, bs: 0 }, scale: 1 });
    let msg = '';
    await backend.flush().catch((e: Error) => { msg = e.message; });
    assert.match(msg, /WebGPU validation error in submitting kernels/);
  } finally {
    backend.destroy();
  }
});

test('a buffer over the adapter limit is refused with the fix named', async () => {
  const { backend } = await testGpu();
  try {
    const tooMany = backend.device.limits.maxStorageBufferBindingSize / 4 + 1024;
    assert.throws(() => backend.alloc(tooMany, 'huge'), /over this adapter's .* storage binding limit: use a smaller --physical-batch-size/);
  } finally {
    backend.destroy();
  }
});

test('a lost device is a clear error on the next call', async () => {
  const { backend } = await testGpu();
  const b = backend.alloc(4, 'x');
  backend.device.destroy(); // what a driver reset looks like to us
  await new Promise((r) => setTimeout(r, 50));
  assert.throws(() => backend.vector({ n: 4, y: b, gamma: 1 }), /WebGPU device lost/);
  let msg = '';
  await backend.read(b).catch((e: Error) => { msg = e.message; });
  assert.match(msg, /WebGPU device lost/);
  backend.destroy();
});

test.run();
