// Small valid files of every format eoslab reads, built in memory, with the
// offsets of their length/dimension fields (the fuzzer's hints). The builders
// follow the layouts the format tests use (tests/formats.test.ts, npz.test.ts);
// they are copied rather than imported because importing a test file runs it.
import { gzipSync, zipSync, zlibSync } from 'fflate';
import { encodeImageCache } from '../../datasets/image-cache.js';
import { encodeSafetensors } from '../../core/ts/io/safetensors.js';
import { encodeNpy } from '../../core/ts/io/npy.js';
import type { MutationHints } from './fuzz.js';

export const concat = (parts: (Uint8Array | number[])[]): Uint8Array => {
  const arrs = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrs.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of arrs) { out.set(p, o); o += p.length; }
  return out;
};
export const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
export const u32le = (x: number) => [x & 255, (x >>> 8) & 255, (x >>> 16) & 255, x >>> 24];
export const u32be = (x: number) => u32le(x).reverse();
const pixels = (n: number, salt = 0) => Uint8Array.from({ length: n }, (_, i) => (i * 37 + salt * 91) & 255);

export interface Fixture { bytes: Uint8Array; hints: MutationHints }

// ---- CIFAR-10 ----------------------------------------------------------------
export function cifarBinary(labels: number[]): Fixture {
  const bytes = concat(labels.flatMap((l, n) => [[l], pixels(3072, n)]));
  return { bytes, hints: { boundaries: labels.map((_, n) => n * 3073), fields: [] } };
}

/** The protocol-2 pickle CIFAR's python batches are (py3: as Python 3 writes bytes). */
export function cifarPickle(labels: number[], py3 = false): Fixture {
  const N = labels.length;
  let memo = 1;
  const BINPUT = () => [0x71, memo++];
  const utf8 = (s: string) => new TextEncoder().encode(s);
  const BINUNICODE = (s: string) => [0x58, ...u32le(utf8(s).length), ...utf8(s)];
  const GLOBAL = (m: string, n: string) => [0x63, ...ascii(`${m}\n${n}\n`)];
  const latin1 = (b: Uint8Array) => { let s = ''; for (const x of b) s += String.fromCharCode(x); return s; };
  const pyStr = (b: Uint8Array): Uint8Array => {
    if (py3) return concat([GLOBAL('_codecs', 'encode'), BINPUT(), BINUNICODE(latin1(b)), BINUNICODE('latin1'), [0x86, 0x52], BINPUT()]);
    return b.length < 256 ? concat([[0x55, b.length], b]) : concat([[0x54, ...u32le(b.length)], b]);
  };
  const str = (s: string) => pyStr(Uint8Array.from(ascii(s)));
  const textStr = (s: string) => (py3 ? Uint8Array.from(BINUNICODE(s)) : str(s));
  const raw = concat(labels.map((_, n) => pixels(3072, n)));
  const bytes = concat([
    [0x80, 2, 0x7d], BINPUT(), [0x28],
    str('data'), BINPUT(),
    GLOBAL('numpy.core.multiarray', '_reconstruct'), BINPUT(),
    GLOBAL('numpy', 'ndarray'), BINPUT(),
    [0x4b, 0, 0x85], BINPUT(), str('b'), [0x87, 0x52], BINPUT(),
    [0x28, 0x4b, 1, 0x4d, N & 255, N >> 8, 0x4d, 3072 & 255, 3072 >> 8, 0x86],
    GLOBAL('numpy', 'dtype'), BINPUT(), textStr('u1'), [0x4b, 0, 0x4b, 1, 0x87, 0x52], BINPUT(),
    [0x28, 0x4b, 3], textStr('|'), [0x4e, 0x4e, 0x4e, 0x4a, ...u32le(0xffffffff), 0x4a, ...u32le(0xffffffff), 0x4b, 0, 0x74],
    [0x62, 0x89], pyStr(raw), [0x74, 0x62],
    str('labels'), BINPUT(), [0x5d], BINPUT(), [0x28, ...labels.flatMap((l) => [0x4b, l]), 0x65],
    str('batch_label'), BINPUT(), str('training batch 1 of 5'), BINPUT(),
    [0x75, 0x2e],
  ]);
  // Length fields: every u32 that equals a string length (BINSTRING/BINUNICODE) and the BININT2 shape.
  const fields: number[] = [];
  for (let i = 0; i + 5 <= bytes.length; i++) {
    if ((bytes[i] === 0x54 || bytes[i] === 0x58) && new DataView(bytes.buffer).getUint32(i + 1, true) <= bytes.length) fields.push(i + 1);
    if (bytes[i] === 0x4d && i < 300) fields.push(i + 1);
  }
  return { bytes, hints: { fields, boundaries: [2, bytes.length - 1] } };
}

// ---- IDX -----------------------------------------------------------------
export function idx(dims: number[], data: Uint8Array): Fixture {
  const bytes = concat([[0, 0, 8, dims.length], ...dims.map(u32be), data]);
  return { bytes, hints: { fields: dims.map((_, i) => 4 + 4 * i), boundaries: [4, 4 + 4 * dims.length] } };
}
export const mnistImages = (N: number) => idx([N, 28, 28], pixels(N * 784));
export const mnistLabels = (labels: number[]) => idx([labels.length], Uint8Array.from(labels));
export const gz = (b: Uint8Array) => gzipSync(b);

// ---- MATLAB v5 -------------------------------------------------------------
export const matHeader = () => {
  const text = ascii('MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: Sun Nov 22 2026 (eoslab tests)');
  return concat([text, new Array(116 - text.length).fill(32), new Array(8).fill(0), [0x00, 0x01], ascii('IM')]);
};
export const element = (type: number, data: Uint8Array) =>
  data.length <= 4 && data.length > 0
    ? concat([[type, 0, data.length, 0], data, new Array(4 - data.length).fill(0)])
    : concat([u32le(type), u32le(data.length), data, new Array((8 - (data.length % 8)) % 8).fill(0)]);
export const matrix = (name: string, classId: number, dims: number[], miType: number, data: Uint8Array) =>
  element(14, concat([
    element(6, Uint8Array.from([...u32le(classId), ...u32le(0)])),
    element(5, Uint8Array.from(dims.flatMap(u32le))),
    element(1, Uint8Array.from(ascii(name))),
    element(miType, data),
  ]));
export const compressed = (el: Uint8Array) => { const z = zlibSync(el); return concat([u32le(15), u32le(z.length), z]); };

/** Offsets of every tag's size word and every dims value, walking the (uncompressed) elements. */
function matFields(b: Uint8Array, from: number, to: number, out: number[]): void {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let at = from; at + 8 <= to;) {
    const w0 = v.getUint32(at, true);
    if (w0 >>> 16) { out.push(at); at += 8; continue; }
    const size = v.getUint32(at + 4, true);
    out.push(at + 4);
    if (w0 === 14) matFields(b, at + 8, at + 8 + size, out);
    if (w0 === 5) for (let k = 0; k < size; k += 4) out.push(at + 8 + k);
    at += w0 === 15 ? 8 + size : 8 + Math.ceil(size / 8) * 8;
  }
}

/** An SVHN-shaped MAT file: X uint8 32×32×3×N, y double N×1 in 1..10. */
export function svhnMat(labels: number[], mode: 'plain' | 'compressed'): Fixture {
  const N = labels.length;
  const X = matrix('X', 9, [32, 32, 3, N], 2, pixels(N * 3072));
  const y = matrix('y', 6, [N, 1], 9, new Uint8Array(Float64Array.from(labels).buffer));
  const bytes = concat([matHeader(), mode === 'plain' ? X : compressed(X), mode === 'plain' ? y : compressed(y)]);
  const fields: number[] = [124];
  matFields(bytes, 128, bytes.length, fields);
  return { bytes, hints: { fields, boundaries: [128] } };
}
/** One uncompressed miMATRIX element (to be mutated, then compressed into a file by svhnMatAround). */
export const svhnXElement = (N: number): Fixture => {
  const bytes = matrix('X', 9, [32, 32, 3, N], 2, pixels(N * 3072));
  const fields: number[] = [];
  matFields(bytes, 0, bytes.length, fields);
  return { bytes, hints: { fields, boundaries: [8] } };
};
export const svhnMatAround = (xElement: Uint8Array, labels: number[]) =>
  concat([matHeader(), compressed(xElement), matrix('y', 6, [labels.length, 1], 9, new Uint8Array(Float64Array.from(labels).buffer))]);

// ---- npy / npz ---------------------------------------------------------------
/** A .npy with NumPy's 64-byte alignment; values given as the typed array's bytes. */
export function npy(descr: string, shape: number[], data: ArrayBufferView, version = 1): Fixture {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const pre = version === 1 ? 10 : 12;
  let h = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  while ((pre + h.length + 1) % 64 !== 0) h += ' ';
  h += '\n';
  const hb = new TextEncoder().encode(h);
  const bytes = new Uint8Array(pre + hb.length + data.byteLength);
  bytes.set([0x93, 78, 85, 77, 80, 89, version, 0]);
  const v = new DataView(bytes.buffer);
  if (version === 1) v.setUint16(8, hb.length, true); else v.setUint32(8, hb.length, true);
  bytes.set(hb, pre);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pre + hb.length);
  return { bytes, hints: { fields: [8], boundaries: [6, 8, pre, pre + hb.length] } };
}
export const xTrain = () => npy('<f4', [4, 3], Float32Array.from({ length: 12 }, (_, i) => i / 4 - 1));
export const yTrain = () => npy('<i8', [4], BigInt64Array.from([0n, 1n, 2n, 1n]));

/** Offsets of the zip's size/offset/count fields (end record, directory, local headers). */
function zipFields(b: Uint8Array): number[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength), out: number[] = [];
  for (let p = 0; p + 4 <= b.length; p++) {
    const sig = v.getUint32(p, true);
    if (sig === 0x06054b50) out.push(p + 8, p + 10, p + 12, p + 16, p + 20);
    else if (sig === 0x02014b50) out.push(p + 16, p + 20, p + 24, p + 28, p + 30, p + 32, p + 42);
    else if (sig === 0x04034b50) out.push(p + 14, p + 18, p + 22, p + 26, p + 28);
  }
  return out;
}
export function npz(arrays: Record<string, Uint8Array>, level: 0 | 6 = 0): Fixture {
  const bytes = zipSync(Object.fromEntries(Object.entries(arrays).map(([k, v]) => [`${k}.npy`, [v, { level }]])));
  const fields = zipFields(bytes);
  return { bytes, hints: { fields, boundaries: fields.map((f) => f - 4) } };
}

/** A core run-record .npy (float32, the fixed 128-byte header). */
export function recordNpy(): Fixture {
  const bytes = encodeNpy(Float32Array.from({ length: 6 }, (_, i) => i - 2.5), [3, 2]);
  return { bytes, hints: { fields: [8], boundaries: [10, 128] } };
}

// ---- safetensors and the image cache ----------------------------------------
export function safetensors(): Fixture {
  const bytes = encodeSafetensors([
    { name: 'w', dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    { name: 'b', dtype: 'I64', shape: [2], data: BigInt64Array.from([7n, -8n]) },
    { name: 'm', dtype: 'U8', shape: [3], data: Uint8Array.from([1, 2, 3]) },
  ], { step: '3' });
  const hlen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  return { bytes, hints: { fields: [0, 4], boundaries: [8, 8 + hlen] } };
}

/** An image cache of tiny 1×4×4 images in 3 classes. */
export function imageCache(nTrain = 6, nTest = 3): Fixture {
  const split = (N: number, salt: number) => ({ images: pixels(N * 16, salt), labels: Uint8Array.from({ length: N }, (_, i) => i % 3), N });
  const bytes = encodeImageCache({ shape: [1, 4, 4], classes: 3, train: split(nTrain, 1), test: split(nTest, 2), source: 'fuzz' });
  return { bytes, hints: { fields: [8, 12, 16, 20, 24, 28, 32, 36], boundaries: [8, 40, 40 + nTrain * 16] } };
}
