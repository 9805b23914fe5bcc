import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeNpy, encodeNpy, npyHeader, NPY_HEADER_BYTES } from '../core/ts/io/npy.js';

test('npy 1.0 header: magic, version, length, 64-byte aligned data, fixed size', () => {
  const h = npyHeader([3, 4]);
  assert.is(h.length, NPY_HEADER_BYTES);
  assert.equal(Array.from(h.subarray(0, 8)), [0x93, 78, 85, 77, 80, 89, 1, 0]);
  assert.is(new DataView(h.buffer).getUint16(8, true), NPY_HEADER_BYTES - 10);
  assert.is(NPY_HEADER_BYTES % 64, 0);
  const text = new TextDecoder().decode(h.subarray(10));
  assert.match(text, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(3, 4\), \} +\n$/);
  assert.match(new TextDecoder().decode(npyHeader([5]).subarray(10)), /'shape': \(5,\)/);
});

test('round trip and bad input', () => {
  const data = Float32Array.from({ length: 12 }, (_, i) => i * 0.5 - 1);
  const back = decodeNpy(encodeNpy(data, [3, 4]));
  assert.equal(back.shape, [3, 4]);
  assert.equal(Array.from(back.data), Array.from(data));
  assert.throws(() => encodeNpy(data, [5, 5]), /do not fill/);
  assert.throws(() => decodeNpy(encodeNpy(data, [3, 4]).subarray(0, 100)), /truncated/);
  assert.throws(() => decodeNpy(new Uint8Array(200)), /bad magic/);
});

test.run();
