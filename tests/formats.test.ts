// Dataset file-format loaders on small files generated here byte by byte in
// each format's exact standard layout (no downloads).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gzipSync, zlibSync } from 'fflate';
import { cifar10FromBinary, cifar10FromPickle } from '../datasets/formats/cifar10.js';
import { parseIdx } from '../datasets/formats/idx.js';
import { parseMatV5, svhnFromMat } from '../datasets/formats/matv5.js';
import { loadDatasetFrom } from '../datasets/registry.js';
import { memoryFiles } from '../datasets/sources.js';
import { ascii, compressed, concat, element, matHeader, matrix, u32be, u32le } from './helpers/format-fixtures.js';


// Pixel value at (image n, channel ch, row r, col c); spans 0..255 so bytes
// 0x80..0x9F (which a windows-1252 decode would mangle) occur.
const px = (n: number, ch: number, r: number, c: number) => (n * 91 + ch * 50 + r * 7 + c * 3) & 255;
const chwImage = (n: number) => {
  const a = new Uint8Array(3072);
  for (let ch = 0; ch < 3; ch++) for (let r = 0; r < 32; r++) for (let c = 0; c < 32; c++) a[ch * 1024 + r * 32 + c] = px(n, ch, r, c);
  return a;
};
function checkPixels(images: Uint8Array, N: number) {
  const probes: [number, number, number, number][] = [[0, 0, 0, 0], [0, 2, 31, 31], [N - 1, 1, 5, 17], [N - 1, 0, 17, 5]];
  for (const [n, ch, r, c] of probes) assert.is(images[n * 3072 + ch * 1024 + r * 32 + c], px(n, ch, r, c), `(${n},${ch},${r},${c})`);
  for (let n = 0; n < N; n++) assert.equal(images.subarray(n * 3072, (n + 1) * 3072), chwImage(n));
}

// ---- CIFAR-10 binary: records of [label u8][1024 R][1024 G][1024 B] --------
const cifarBin = (labels: number[]) => concat(labels.flatMap((l, n) => [[l], chwImage(n)]));

test('CIFAR-10 binary records → CHW images and labels', () => {
  const d = cifar10FromBinary(cifarBin([3, 9, 0]));
  assert.is(d.N, 3);
  assert.equal(Array.from(d.labels), [3, 9, 0]);
  checkPixels(d.images, 3);
});

test('CIFAR-10 binary: truncated, bad label', () => {
  assert.throws(() => cifar10FromBinary(cifarBin([1, 2]).subarray(0, 3073 * 2 - 1)), /CIFAR-10 binary.*multiple of the 3073/);
  assert.throws(() => cifar10FromBinary(new Uint8Array(0)), /CIFAR-10 binary/);
  assert.throws(() => cifar10FromBinary(cifarBin([1, 10])), /CIFAR-10 binary.*record 1 has label 10/);
});

// ---- CIFAR-10 python: a Python 2 cPickle protocol-2 dict --------------------
// The opcode stream below is what `cPickle.dump(d, f, 2)` writes for
// d = {'data': ndarray uint8 (N, 3072), 'labels': [..], 'batch_label': '..'}
// (pickletools.dis notation; memo BINPUT indices increase from 1):
//   PROTO 2; EMPTY_DICT; BINPUT 1; MARK
//     SHORT_BINSTRING 'data'; BINPUT
//     GLOBAL 'numpy.core.multiarray _reconstruct'; BINPUT
//     GLOBAL 'numpy ndarray'; BINPUT
//     BININT1 0; TUPLE1; BINPUT; SHORT_BINSTRING 'b'; TUPLE3; REDUCE; BINPUT
//     MARK                                  ← ndarray.__setstate__ state
//       BININT1 1                           (pickle version)
//       BININT2 N; BININT2 3072; TUPLE2     (shape)
//       GLOBAL 'numpy dtype'; BINPUT; SHORT_BINSTRING 'u1'; BININT1 0; BININT1 1; TUPLE3; REDUCE; BINPUT
//       MARK BININT1 3; SHORT_BINSTRING '|'; NONE; NONE; NONE; BININT -1; BININT -1; BININT1 0; TUPLE
//       BUILD                               (dtype.__setstate__)
//       NEWFALSE                            (is_fortran)
//       BINSTRING <N*3072 raw bytes>        (u32 LE length; a py2 str)
//     TUPLE; BUILD
//     SHORT_BINSTRING 'labels'; BINPUT; EMPTY_LIST; BINPUT; MARK BININT1 l0 ... APPENDS
//     SHORT_BINSTRING 'batch_label'; BINPUT; SHORT_BINSTRING 'training batch 1 of 5'; BINPUT
//   SETITEMS; STOP
// With py3 = true, every py2 str becomes what Python 3 protocol 2 writes for
// bytes: GLOBAL '_codecs encode'; BINUNICODE <latin1 text as UTF-8>;
// BINUNICODE 'latin1'; TUPLE2; REDUCE — and 'u1', '|' become BINUNICODE.
function cifarPickle(labels: number[], py3 = false): Uint8Array {
  const N = labels.length;
  let memo = 1;
  const BINPUT = () => [0x71, memo++];
  const utf8 = (s: string) => new TextEncoder().encode(s);
  const BINUNICODE = (s: string) => [0x58, ...u32le(utf8(s).length), ...utf8(s)];
  const GLOBAL = (m: string, n: string) => [0x63, ...ascii(`${m}\n${n}\n`)];
  const pyStr = (bytes: Uint8Array): Uint8Array => {
    if (py3) {
      return concat([GLOBAL('_codecs', 'encode'), BINPUT(), BINUNICODE(latin1Big(bytes)), BINUNICODE('latin1'), [0x86, 0x52], BINPUT()]);
    }
    return bytes.length < 256 ? concat([[0x55, bytes.length], bytes]) : concat([[0x54, ...u32le(bytes.length)], bytes]);
  };
  const str = (s: string) => pyStr(Uint8Array.from(ascii(s)));
  const textStr = (s: string) => (py3 ? Uint8Array.from(BINUNICODE(s)) : str(s)); // py3 str, py2 str
  const raw = concat(labels.map((_, n) => chwImage(n)));
  return concat([
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
}
function latin1Big(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}

test('CIFAR-10 python pickle (py2 cPickle protocol 2) → CHW images and labels', () => {
  const d = cifar10FromPickle(cifarPickle([6, 9, 9, 4]));
  assert.is(d.N, 4);
  assert.equal(Array.from(d.labels), [6, 9, 9, 4]);
  checkPixels(d.images, 4);
});

test('CIFAR-10 python pickle written by Python 3 (protocol 2, _codecs.encode bytes)', () => {
  const d = cifar10FromPickle(cifarPickle([1, 0], true));
  assert.equal(Array.from(d.labels), [1, 0]);
  checkPixels(d.images, 2);
});

test('CIFAR-10 python pickle: bad input', () => {
  const good = cifarPickle([1, 2]);
  assert.throws(() => cifar10FromPickle(good.subarray(0, 500)), /CIFAR-10 python batch: could not unpickle/);
  assert.throws(() => cifar10FromPickle(cifarBin([1])), /CIFAR-10 python batch: not a protocol-2\+ pickle/);
  assert.throws(() => cifar10FromPickle(Uint8Array.from([0x80, 2, 0x5d, 0x2e])), /does not hold a dict/);
  assert.throws(() => cifar10FromPickle(cifarPickle([1, 12])), /label 1 is 12/);
});

// ---- IDX: magic 00 00 08 ndims, big-endian u32 dims, row-major u8 data -----
const idx = (dims: number[], data: Uint8Array) => concat([[0, 0, 8, dims.length], ...dims.map(u32be), data]);
const mnistImages = (N: number) => Uint8Array.from({ length: N * 28 * 28 }, (_, i) => (i * 37) & 255);

test('IDX images (0x803) and labels (0x801), plain and gzipped', () => {
  const imgs = idx([3, 28, 28], mnistImages(3));
  const labs = idx([3], Uint8Array.from([5, 0, 4]));
  assert.equal(Array.from(imgs.subarray(0, 4)), [0, 0, 8, 3]);
  for (const wrap of [(b: Uint8Array) => b, (b: Uint8Array) => gzipSync(b)]) {
    const a = parseIdx(wrap(imgs));
    assert.equal(a.dims, [3, 28, 28]);
    assert.equal(a.data, mnistImages(3));
    // (n, row, col) = (2, 10, 27) → row-major offset
    assert.is(a.data[2 * 784 + 10 * 28 + 27], ((2 * 784 + 10 * 28 + 27) * 37) & 255);
    const l = parseIdx(wrap(labs));
    assert.equal(l.dims, [3]);
    assert.equal(Array.from(l.data), [5, 0, 4]);
  }
});

test('IDX: truncated, wrong magic, gzip damage', () => {
  const imgs = idx([3, 28, 28], mnistImages(3));
  assert.throws(() => parseIdx(imgs.subarray(0, imgs.length - 1)), /IDX file: truncated.*2352 data bytes but 2351/);
  assert.throws(() => parseIdx(imgs.subarray(0, 9)), /IDX file: truncated header/);
  assert.throws(() => parseIdx(concat([[0x08, 0x03, 0, 0], mnistImages(1)])), /IDX file: bad magic 0x08030000/);
  assert.throws(() => parseIdx(concat([[0, 0, 0x0d, 1], u32be(1), [0, 0, 0, 0]])), /float32 is not supported/);
  assert.throws(() => parseIdx(concat([imgs, [1]])), /trailing bytes/);
  const gz = gzipSync(imgs);
  assert.throws(() => parseIdx(gz.subarray(0, gz.length >> 1)), /IDX file: gzip stream is corrupt or truncated/);
});

// ---- MAT v5 (little-endian, as MATLAB/scipy write on x86) ------------------
// header: 116 bytes text (space padded) | 8 bytes subsystem offset (0) |
//         u16 version 0x0100 | 'IM'
// element: u32 type | u32 nbytes | data zero-padded to a multiple of 8;
//          small element (nbytes ≤ 4): u16 type | u16 nbytes | 4 data bytes.
// miMATRIX(14): flags  = miUINT32(6) 8 bytes: u32 class | flag bits<<8, u32 0
//               dims   = miINT32(5)  4 bytes each
//               name   = miINT8(1)   (small format when ≤ 4 chars)
//               real   = numeric element (miUINT8 2, miDOUBLE 9, ...)
// miCOMPRESSED(15): zlib stream of one whole element, not padded.
// X(r, c, ch, n) in MATLAB column-major order: r fastest, then c, ch, n
const svhnX = (N: number) => {
  const a = new Uint8Array(N * 3072);
  for (let n = 0; n < N; n++) for (let ch = 0; ch < 3; ch++) for (let c = 0; c < 32; c++) for (let r = 0; r < 32; r++)
    a[r + 32 * c + 1024 * ch + 3072 * n] = px(n, ch, r, c);
  return a;
};
const SVHN_Y = [1, 10, 5];
const yDouble = () => new Uint8Array(Float64Array.from(SVHN_Y).buffer);

test('MAT v5 uncompressed: SVHN X uint8 32×32×3×N, y double N×1', () => {
  const N = SVHN_Y.length;
  const file = concat([matHeader(), matrix('X', 9, [32, 32, 3, N], 2, svhnX(N)), matrix('y', 6, [N, 1], 9, yDouble())]);
  const vars = parseMatV5(file);
  assert.equal(vars.get('X')!.dims, [32, 32, 3, N]);
  assert.is(vars.get('X')!.class, 'uint8');
  assert.is(vars.get('y')!.class, 'double');
  assert.ok(vars.get('y')!.data instanceof Float64Array);
  assert.equal(Array.from(vars.get('y')!.data as Float64Array), SVHN_Y);
  const d = svhnFromMat(file);
  assert.is(d.N, N);
  assert.equal(Array.from(d.labels), [1, 0, 5]);
  checkPixels(d.images, N);
});

test('MAT v5 with miCOMPRESSED elements (y double stored as miUINT8, as MATLAB does)', () => {
  const N = SVHN_Y.length;
  const file = concat([
    matHeader(),
    compressed(matrix('X', 9, [32, 32, 3, N], 2, svhnX(N))),
    compressed(matrix('y', 6, [N, 1], 2, Uint8Array.from(SVHN_Y))),
  ]);
  const d = svhnFromMat(file);
  assert.equal(Array.from(d.labels), [1, 0, 5]);
  checkPixels(d.images, N);
  assert.ok(parseMatV5(file).get('y')!.data instanceof Float64Array);
});

test('registry: svhn from $EOSLAB_DATASETS/svhn/{train,test}_32x32.mat (standardised, one-hot, 10 → 0)', async () => {
  const N = SVHN_Y.length;
  const mat = concat([matHeader(), compressed(matrix('X', 9, [32, 32, 3, N], 2, svhnX(N))), matrix('y', 6, [N, 1], 9, yDouble())]);
  const files = memoryFiles({ 'svhn/train_32x32.mat': mat, 'svhn/test_32x32.mat': mat });
  const ds = await loadDatasetFrom('svhn', { files });
  assert.is(ds.d, 3072);
  assert.is(ds.c, 10);
  assert.is(ds.train.N, N);
  const labels = Array.from({ length: N }, (_, i) => Array.from(ds.train.Y.subarray(i * 10, i * 10 + 10)).indexOf(1));
  assert.equal(labels, [1, 0, 5]);
  // Standardised per feature with the training set's statistics: each feature has mean 0.
  for (const f of [0, 1000, 3071]) {
    let m = 0;
    for (let i = 0; i < N; i++) m += ds.train.X[i * 3072 + f] / N;
    assert.ok(Math.abs(m) < 1e-6, `feature ${f} mean ${m}`);
  }
  await loadDatasetFrom('svhn', { files: memoryFiles({ 'svhn/train_32x32.mat': mat }) }).then(
    () => assert.unreachable('a missing test file must be an error'),
    (e: Error) => assert.match(e.message, /test_32x32\.mat/));
});

test('MAT v5: truncated, wrong header, missing variables, bad labels', () => {
  const N = 2;
  const good = concat([matHeader(), matrix('X', 9, [32, 32, 3, N], 2, svhnX(N)), matrix('y', 6, [N, 1], 9, yDouble().subarray(0, 16))]);
  assert.throws(() => parseMatV5(good.subarray(0, good.length - 100)), /MAT v5 file: truncated/);
  assert.throws(() => parseMatV5(good.subarray(0, 64)), /shorter than the 128-byte header/);
  const noEndian = good.slice();
  noEndian[126] = 0;
  assert.throws(() => parseMatV5(noEndian), /MAT v5 file: bad endian indicator/);
  const v73 = good.slice();
  v73.set(ascii('MATLAB 7.3'), 0);
  assert.throws(() => parseMatV5(v73), /v7\.3 \(HDF5\)/);
  assert.throws(() => parseMatV5(cifarBin([1])), /MAT v5 file/);
  const comp = compressed(matrix('y', 6, [N, 1], 9, yDouble().subarray(0, 16)));
  assert.throws(() => parseMatV5(concat([matHeader(), comp.subarray(0, 8), comp.subarray(8).map((b) => b ^ 0x5a)])), /corrupt miCOMPRESSED/);
  const onlyX = concat([matHeader(), matrix('X', 9, [32, 32, 3, N], 2, svhnX(N))]);
  assert.throws(() => svhnFromMat(onlyX), /needs variables 'X' and 'y', found \[X\]/);
  const badY = concat([matHeader(), matrix('X', 9, [32, 32, 3, N], 2, svhnX(N)), matrix('y', 6, [N, 1], 2, Uint8Array.from([0, 3]))]);
  assert.throws(() => svhnFromMat(badY), /label 0 is 0, expected 1\.\.10/);
  const wrongX = concat([matHeader(), matrix('X', 9, [28, 28, 1, N], 2, new Uint8Array(28 * 28 * N)), matrix('y', 6, [N, 1], 2, Uint8Array.from([1, 2]))]);
  assert.throws(() => svhnFromMat(wrongX), /expected uint8 32×32×3×N/);
});

test.run();
