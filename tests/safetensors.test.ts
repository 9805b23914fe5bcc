import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeSafetensors, decodeSafetensors, type TensorEntry } from '../core/ts/io/safetensors.js';

const bytesOf = (a: ArrayBufferView) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const u64le = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255, 0, 0, 0, 0];

function f32FromBits(bits: number[]): Float32Array {
  return new Float32Array(Uint32Array.from(bits).buffer);
}

function sample(): TensorEntry[] {
  // Special values whose bit patterns a float round trip through numbers could alter:
  // signalling/payload NaNs, −0, denormals, infinities.
  const f32 = f32FromBits([0x7fc00000, 0x7fa12345, 0xffc00001, 0x80000000, 0x00000001, 0x807fffff, 0x7f800000, 0xff800000, 0x3f800000]);
  const f64 = new Float64Array(new BigUint64Array([
    0x7ff8000000000001n, 0xfff4000000000abcn, 0x8000000000000000n, 0x0000000000000001n, 0x7ff0000000000000n,
    0xfff0000000000000n, 0x3ff0000000000000n, 0x000fffffffffffffn,
  ]).buffer);
  return [
    { name: 'layers.0.weight', dtype: 'F32', shape: [3, 3], data: f32 },
    { name: 'f64', dtype: 'F64', shape: [2, 2, 2], data: f64 },
    { name: 'step', dtype: 'I64', shape: [], data: BigInt64Array.of(12345n) },
    { name: 'i64', dtype: 'I64', shape: [2], data: BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n]) },
    { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    { name: 'i32', dtype: 'I32', shape: [3], data: Int32Array.from([-1, 2147483647, -2147483648]) },
    { name: 'odd', dtype: 'U8', shape: [3], data: Uint8Array.from([1, 255, 0]) }, // misaligns what follows
    { name: 'after_odd', dtype: 'F64', shape: [1], data: Float64Array.from([Math.PI]) },
  ];
}

test('round trip is bit-exact (NaN payloads, -0, denormals, ±Inf, int extremes)', () => {
  const src = sample();
  const meta = { format: 'pt', note: 'ünïcödé ✓ "quoted"' };
  const enc = encodeSafetensors(src, meta);
  const dec = decodeSafetensors(enc);
  assert.equal(dec.metadata, meta);
  assert.equal(dec.tensors.map((t) => t.name), src.map((t) => t.name));
  dec.tensors.forEach((t, i) => {
    const s = src[i]!;
    assert.is(t.dtype, s.dtype);
    assert.equal(t.shape, s.shape);
    assert.is(t.data.constructor, s.data.constructor);
    assert.equal(bytesOf(t.data), bytesOf(s.data), t.name);
  });
  // Re-encoding the decoded tensors reproduces the file byte for byte.
  assert.equal(Array.from(encodeSafetensors(dec.tensors, dec.metadata)), Array.from(enc));
  // Decoding from an unaligned view into a larger buffer works.
  const shifted = new Uint8Array(enc.length + 3);
  shifted.set(enc, 3);
  const dec2 = decodeSafetensors(shifted.subarray(3));
  assert.equal(bytesOf(dec2.tensors[1]!.data), bytesOf(src[1]!.data));
  // Subarray inputs encode only their view.
  const big = Float32Array.from([9, 1, 2, 9]);
  const d3 = decodeSafetensors(encodeSafetensors([{ name: 'v', dtype: 'F32', shape: [2], data: big.subarray(1, 3) }]));
  assert.equal(Array.from(d3.tensors[0]!.data as Float32Array), [1, 2]);
});

test('header format: u64 LE length, JSON, space padding to a multiple of 8', () => {
  for (let extra = 0; extra < 9; extra++) { // vary name length to hit every padding amount
    const enc = encodeSafetensors([{ name: 'x'.repeat(extra + 1), dtype: 'U8', shape: [1], data: Uint8Array.of(7) }], { a: 'b' });
    const dv = new DataView(enc.buffer);
    const hlen = Number(dv.getBigUint64(0, true));
    assert.is(hlen % 8, 0);
    assert.is(enc.length, 8 + hlen + 1);
    const text = new TextDecoder().decode(enc.subarray(8, 8 + hlen));
    assert.is(text[0], '{');
    assert.ok(/^[^ ]*\} *$/.test(text), 'only trailing spaces after the JSON');
    assert.ok(text.length - text.trimEnd().length < 8);
    const h = JSON.parse(text);
    assert.equal(h.__metadata__, { a: 'b' });
    assert.equal(h['x'.repeat(extra + 1)], { dtype: 'U8', shape: [1], data_offsets: [0, 1] });
    assert.is(enc[8 + hlen], 7);
  }
  const noMeta = JSON.parse(new TextDecoder().decode(encodeSafetensors([]).subarray(8)));
  assert.equal(noMeta, {});
});

test('hand-built byte string decodes', () => {
  // {"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{...I32 [1] [8,12]}} with metadata,
  // padded to 8, then 1.0f, -2.0f, int32 258, all little-endian.
  const json = '{"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[1],"data_offsets":[8,12]}}';
  const pad = (8 - (json.length % 8)) % 8;
  const file = Uint8Array.from([
    ...u64le(json.length + pad), ...ascii(json), ...Array(pad).fill(0x20),
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x02, 0x01, 0x00, 0x00,
  ]);
  const { tensors, metadata } = decodeSafetensors(file);
  assert.equal(metadata, { k: 'v' });
  assert.is(tensors.length, 2);
  assert.is(tensors[0]!.name, 'w');
  assert.equal(Array.from(tensors[0]!.data as Float32Array), [1, -2]);
  assert.is(tensors[1]!.name, 'b');
  assert.is(tensors[1]!.dtype, 'I32');
  assert.equal(Array.from(tensors[1]!.data as Int32Array), [258]);
  // Our encoder emits exactly this file (metadata first, tensors in given order).
  assert.equal(Array.from(encodeSafetensors(tensors, metadata)), Array.from(file));
  // Unpadded header (allowed by the format) and reordered keys also decode.
  const j2 = '{"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]},"a":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}';
  const d2 = decodeSafetensors(Uint8Array.from([...u64le(j2.length), ...ascii(j2), 10, 20, 30]));
  assert.equal(d2.tensors.map((t) => [t.name, Array.from(t.data as Uint8Array)]), [['a', [10]], ['b', [20, 30]]]);
});

function makeFile(header: string, data: number[]): Uint8Array {
  return Uint8Array.from([...u64le(header.length), ...ascii(header), ...data]);
}
const throwsWith = (fn: () => unknown, re: RegExp) => {
  try { fn(); } catch (e) {
    assert.instance(e, Error);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected an error matching ${re}`);
};

test('corrupted inputs throw clear Errors', () => {
  const good = encodeSafetensors(sample());
  throwsWith(() => decodeSafetensors(good.subarray(0, 5)), /too short/);
  throwsWith(() => decodeSafetensors(good.subarray(0, 40)), /header length \d+ exceeds/);
  throwsWith(() => decodeSafetensors(good.subarray(0, good.length - 1)), /cover \d+ bytes but the data buffer has/);
  throwsWith(() => decodeSafetensors(Uint8Array.from([...good, 0])), /trailing/);
  const huge = good.slice(); huge[7] = 0x80; // header length ≈ 2^63
  throwsWith(() => decodeSafetensors(huge), /exceeds/);

  const t = (d: string, s: string, o: string) => `{"a":{"dtype":${d},"shape":${s},"data_offsets":${o}}}`;
  throwsWith(() => decodeSafetensors(makeFile('{"a":', [])), /not valid UTF-8 JSON/);
  throwsWith(() => decodeSafetensors(makeFile('[1,2]', [])), /not an object/);
  throwsWith(() => decodeSafetensors(makeFile(t('"BF16"', '[1]', '[0,2]'), [0, 0])), /"a" has unsupported dtype "BF16"/);
  throwsWith(() => decodeSafetensors(makeFile(t('"F32"', '[-1]', '[0,4]'), [0, 0, 0, 0])), /invalid shape/);
  throwsWith(() => decodeSafetensors(makeFile(t('"F32"', '[1.5]', '[0,4]'), [0, 0, 0, 0])), /invalid shape/);
  throwsWith(() => decodeSafetensors(makeFile(t('"F32"', '[1]', '[4,0]'), [0, 0, 0, 0])), /invalid data_offsets/);
  throwsWith(() => decodeSafetensors(makeFile(t('"F32"', '[1]', '[0]'), [0, 0, 0, 0])), /invalid data_offsets/);
  throwsWith(() => decodeSafetensors(makeFile(t('"F32"', '[2]', '[0,4]'), [0, 0, 0, 0])), /spans 4 bytes but F32 shape \[2\] needs 8/);
  throwsWith(() => decodeSafetensors(makeFile(t('"F32"', '[1]', '[4,8]'), [0, 0, 0, 0, 0, 0, 0, 0])), /starts at byte 4, expected 0/);
  throwsWith(() => decodeSafetensors(makeFile(t('"F32"', '[1]', '[0,4]'), [0, 0])), /cover 4 bytes but the data buffer has 2/);
  const overlap = '{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}';
  throwsWith(() => decodeSafetensors(makeFile(overlap, [1, 2, 3])), /"b" starts at byte 1, expected 2/);
  throwsWith(() => decodeSafetensors(makeFile('{"__metadata__":{"n":1}}', [])), /__metadata__ value for "n" is not a string/);
  const badUtf8 = Uint8Array.from([...u64le(4), 0x7b, 0xff, 0xfe, 0x7d]);
  throwsWith(() => decodeSafetensors(badUtf8), /not valid UTF-8 JSON/);
});

test('encoder rejects inconsistent entries', () => {
  throwsWith(() => encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [3], data: new Float32Array(2) }]), /2 elements but shape \[3\] needs 3/);
  throwsWith(() => encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [2], data: new Float64Array(2) }]), /not a Float32Array/);
  throwsWith(() => encodeSafetensors([{ name: 'a', dtype: 'F16' as 'F32', shape: [1], data: new Float32Array(1) }]), /unsupported dtype F16/);
  const a = { name: 'a', dtype: 'U8' as const, shape: [1], data: new Uint8Array(1) };
  throwsWith(() => encodeSafetensors([a, a]), /duplicate tensor name "a"/);
  throwsWith(() => encodeSafetensors([{ ...a, name: '__metadata__' }]), /invalid tensor name/);
  throwsWith(() => encodeSafetensors([], { n: 1 as unknown as string }), /metadata value for "n" must be a string/);
});

test.run();
