// npz:PATH datasets: .npz files built here in memory (a .npy header builder
// and fflate's zipSync, stored and deflated) for every accepted dtype and
// rank, each refusal, random corruption, and two files NumPy wrote itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { zipSync } from 'fflate';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeDatasets, loadDataset, loadDatasetFrom, parseNpzId, DATASET_IDS } from '../datasets/registry.js';
import { memoryFiles } from '../datasets/sources.js';
import type { Dataset } from '../datasets/synthetic.js';
import { crc32, npzDataset } from '../datasets/formats/npz.js';
import { parseNpy } from '../datasets/formats/npy-read.js';
import { absoluteDatasetId, checkDatasetRecord, dataFingerprint, datasetRecord, loadDatasetNode } from '../hosts/node/dataset-files.js';
import { listDatasets } from '../hosts/node/datasets-command.js';

// ---- a tiny .npy / .npz writer ---------------------------------------------
type Typed = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

const DESCR: Record<string, string> = {
  f4: '<f4', f8: '<f8', i1: '|i1', u1: '|u1', i2: '<i2', u2: '<u2', i4: '<i4', u4: '<u4', i8: '<i8', u8: '<u8', b1: '|b1',
};

function typed(dtype: string, values: number[]): Typed {
  switch (dtype) {
    case 'f4': return Float32Array.from(values);
    case 'f8': return Float64Array.from(values);
    case 'i1': return Int8Array.from(values);
    case 'u1': case 'b1': return Uint8Array.from(values);
    case 'i2': return Int16Array.from(values);
    case 'u2': return Uint16Array.from(values);
    case 'i4': return Int32Array.from(values);
    case 'u4': return Uint32Array.from(values);
    case 'i8': return BigInt64Array.from(values, (v) => BigInt(v));
    case 'u8': return BigUint64Array.from(values, (v) => BigInt(v));
  }
  throw new Error(dtype);
}

const shapeStr = (s: number[]) => (s.length === 1 ? `(${s[0]},)` : `(${s.join(', ')})`);

/** A .npy file: any header text (for the refusals), any version, NumPy's 64-byte alignment. */
function npyRaw(header: string, data: Uint8Array, version = 1): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  let h = header;
  while ((pre + h.length + 1) % 64 !== 0) h += ' ';
  h += '\n';
  const hb = new TextEncoder().encode(h);
  const out = new Uint8Array(pre + hb.length + data.length);
  out.set([0x93, 78, 85, 77, 80, 89, version, 0]);
  const v = new DataView(out.buffer);
  if (version === 1) v.setUint16(8, hb.length, true); else v.setUint32(8, hb.length, true);
  out.set(hb, pre);
  out.set(data, pre + hb.length);
  return out;
}

function npy(dtype: string, shape: number[], values: number[] | Typed, o: { version?: number; fortran?: boolean; descr?: string } = {}): Uint8Array {
  const t = Array.isArray(values) ? typed(dtype, values) : values;
  const header = `{'descr': '${o.descr ?? DESCR[dtype]}', 'fortran_order': ${o.fortran ? 'True' : 'False'}, 'shape': ${shapeStr(shape)}, }`;
  return npyRaw(header, new Uint8Array(t.buffer, t.byteOffset, t.byteLength), o.version ?? 1);
}

function npz(arrays: Record<string, Uint8Array>, level: 0 | 6 = 0): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(arrays).map(([k, v]) => [`${k}.npy`, [v, { level }]])));
}

const load = (bytes: Uint8Array, standardize = false) =>
  loadDatasetFrom('npz:d.npz', { files: memoryFiles({ 'd.npz': bytes }, '/data'), standardize });

async function errorOf(p: Promise<unknown>): Promise<string> {
  try { await p; } catch (e) {
    assert.instance(e, Error);
    return (e as Error).message;
  }
  return '(no error)';
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

// Values every dtype holds exactly (within its range), for rank/dtype sweeps.
const sample = (dtype: string, n: number) => range(n, (i) => {
  if (dtype === 'f4' || dtype === 'f8') return (i % 7) * 0.25 - 0.75;
  if (dtype[0] === 'i') return (i % 9) - 4;
  return i % 11;
});

// ---- accepted inputs -------------------------------------------------------
test('every accepted x dtype × rank (d; 1-channel H×W; C×H×W with C = 1, 3): values and per-example shape', async () => {
  const cases: [number[], number[]][] = [[[5, 7], [7]], [[4, 3, 5], [1, 3, 5]], [[3, 1, 2, 4], [1, 2, 4]], [[2, 3, 4, 5], [3, 4, 5]]];
  for (const dtype of ['f4', 'f8', 'i1', 'u1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8']) {
    for (const [shape, example] of cases) {
      const N = shape[0], n = shape.reduce((a, b) => a * b, 1);
      const xs = sample(dtype, n);
      const ds = await load(npz({ x_train: npy(dtype, shape, xs), y_train: npy('i8', [N], range(N, (i) => i % 3)) }));
      const what = `${dtype} ${shapeStr(shape)}`;
      assert.equal(ds.shape, example, what);
      assert.is(ds.d, n / N, what);
      assert.is(ds.train.N, N);
      assert.equal(Array.from(ds.train.X), xs, what);
      assert.is(ds.test, ds.train, `${what}: no test split → test is the training split`);
    }
  }
});

test('integer y (every integer dtype and bool; (N,) or (N, 1)) is classification: one-hot, c = max label + 1 over both splits', async () => {
  const x = (N: number) => npy('f4', [N, 2], range(2 * N, (i) => i));
  for (const dtype of ['i1', 'u1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8', 'b1']) {
    const top = dtype === 'b1' ? 1 : 4;
    const tr = range(6, (i) => i % top), te = [top, 0];
    for (const yshape of [[6], [6, 1]]) {
      const ds = await load(npz({ x_train: x(6), y_train: npy(dtype, yshape, tr), x_test: x(2), y_test: npy(dtype, yshape.length === 1 ? [2] : [2, 1], te) }, 6));
      assert.is(ds.task, 'classification');
      assert.is(ds.c, top + 1, `${dtype}: c counts the test split's labels too`);
      assert.equal(Array.from(ds.train.labels!), tr);
      assert.equal(Array.from(ds.test.labels!), te);
      for (let i = 0; i < 6; i++) assert.equal(Array.from(ds.train.Y.subarray(i * ds.c, (i + 1) * ds.c)), range(ds.c, (k) => (k === tr[i] ? 1 : 0)));
      assert.is(ds.test.N, 2);
    }
  }
});

test('float y ((N,) or (N, c), f4 or f8) is regression: targets as given, c outputs', async () => {
  const x = npy('f8', [4, 3], range(12, (i) => i / 8));
  const a = await load(npz({ x_train: x, y_train: npy('f4', [4], [0.1, -2, 3.5, 1e-30]) }));
  assert.is(a.task, 'regression');
  assert.is(a.c, 1);
  assert.equal(bits(a.train.Y), bits(Float32Array.from([0.1, -2, 3.5, 1e-30])));
  assert.is(a.train.labels, undefined);
  const ys = range(8, (i) => i * 0.3 - 1);
  const b = await load(npz({ x_train: x, y_train: npy('f8', [4, 2], ys), x_test: npy('f4', [1, 3], [1, 2, 3]), y_test: npy('f8', [1, 2], [5, 6]) }, 6));
  assert.is(b.c, 2);
  assert.equal(Array.from(b.train.Y), Array.from(Float32Array.from(ys)));
  assert.equal(Array.from(b.test.Y), [5, 6]);
  assert.equal(Array.from(b.train.X), Array.from(Float32Array.from(range(12, (i) => i / 8))));
});

test('end to end: f4 data comes back bit for bit (−0, subnormals, extremes), stored or deflated, .npy versions 1, 2, 3', async () => {
  const r = rng(1);
  const special = [-0, 1.4e-45, -1.17e-38, 3.4028234663852886e38, -3.4028234663852886e38, 1e-7, Math.PI];
  const N = 64, d = 12;
  const X = new Float32Array(N * d);
  for (let i = 0; i < X.length; i++) X[i] = i < special.length ? special[i] : (r() - 0.5) * 2 ** Math.floor(r() * 40 - 20);
  const Xt = X.slice(0, 5 * d).map((v) => -v);
  const Y = Float32Array.from(range(N * 3, () => r() * 10 - 5));
  for (const level of [0, 6] as const) {
    for (const version of [1, 2, 3]) {
      const file = npz({
        x_train: npy('f4', [N, d], X, { version }), y_train: npy('f4', [N, 3], Y, { version }),
        x_test: npy('f4', [5, d], Xt, { version }), y_test: npy('f4', [5, 3], Y.slice(0, 15), { version }),
      }, level);
      const ds = await load(file);
      assert.equal(bits(ds.train.X), bits(X));
      assert.equal(bits(ds.train.Y), bits(Y));
      assert.equal(bits(ds.test.X), bits(Xt));
      assert.equal(bits(ds.test.Y), bits(Y.slice(0, 15)));
      assert.is(Object.is(ds.train.X[0], -0), true);
      assert.equal(ds.file!.bytes, file.length);
      assert.is(ds.file!.sha256, createHash('sha256').update(file).digest('hex'));
      assert.is(ds.file!.path, '/data/d.npz');
    }
  }
});

test('files NumPy wrote (np.savez, np.savez_compressed: ZIP64 local headers, int64 labels)', async () => {
  // python: x = [[.5, -1.25], [3, 1e-3], [-0., 7]] f4, y = [2, 0, 1], x_test = [[1.5, 2.5], [-3, 4]], y_test = [1, 3]
  const savez = 'UEsDBC0AAAAAAAAAIQBjN1PW//////////8LABQAeF90cmFpbi5ucHkBABAAmAAAAAAAAACYAAAAAAAAAJNOVU1QWQEAdgB7J2Rlc2NyJzogJzxmNCcsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgzLCAyKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAKAAAAPwAAoL8AAEBAbxKDOgAAAIAAAOBAUEsDBC0AAAAAAAAAIQCKGs4T//////////8LABQAeV90cmFpbi5ucHkBABAAmAAAAAAAAACYAAAAAAAAAJNOVU1QWQEAdgB7J2Rlc2NyJzogJzxpOCcsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgzLCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAKAgAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAUEsDBC0AAAAAAAAAIQD9vyLK//////////8KABQAeF90ZXN0Lm5weQEAEACQAAAAAAAAAJAAAAAAAAAAk05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAgQAAAQMAAAIBAUEsDBC0AAAAAAAAAIQCS/LYl//////////8KABQAeV90ZXN0Lm5weQEAEACQAAAAAAAAAJAAAAAAAAAAk05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAAAAAAAAMAAAAAAAAAUEsBAi0DLQAAAAAAAAAhAGM3U9aYAAAAmAAAAAsAAAAAAAAAAAAAAIABAAAAAHhfdHJhaW4ubnB5UEsBAi0DLQAAAAAAAAAhAIoazhOYAAAAmAAAAAsAAAAAAAAAAAAAAIAB1QAAAHlfdHJhaW4ubnB5UEsBAi0DLQAAAAAAAAAhAP2/IsqQAAAAkAAAAAoAAAAAAAAAAAAAAIABqgEAAHhfdGVzdC5ucHlQSwECLQMtAAAAAAAAACEAkvy2JZAAAACQAAAACgAAAAAAAAAAAAAAgAF2AgAAeV90ZXN0Lm5weVBLBQYAAAAABAAEAOIAAABCAwAAAAA=';
  const compressed = 'UEsDBC0AAAAIAAAAIQBjN1PW//////////8LABQAeF90cmFpbi5ucHkBABAAmAAAAAAAAABdAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loG6TZqKuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GsY6CkaaOgq1CmQDLgYGBnsGhgX7GRgcHPKFmq2A/AYGhgcOAFBLAwQtAAAACAAAACEAihrOE///////////CwAUAHlfdHJhaW4ubnB5AQAQAJgAAAAAAAAASgAAAAAAAACb7BfqGxDJyFDGUK2eklqcXKRupaBuk2mhrqOgnpZfVFKUmBefX5SSChJ3S8wpTgWKF2ckFqQC+RrGOpo6CrUKFAAuJgZUwAilAVBLAwQtAAAACAAAACEA/b8iyv//////////CgAUAHhfdGVzdC5ucHkBABAAkAAAAAAAAABWAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loG6TZqKuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GkY6CkaaOgq1CmQDLgaGA/YMDAoODAwOBxgYGhwAUEsDBC0AAAAIAAAAIQCS/LYl//////////8KABQAeV90ZXN0Lm5weQEAEACQAAAAAAAAAEoAAAAAAAAAm+wX6hsQychQxlCtnpJanFykbqWgbpNpoa6joJ6WX1RSlJgXn1+UkgoSd0vMKU4FihdnJBakAvkaRjqaOgq1ChQALkYGCGCG0gBQSwECLQMtAAAACAAAACEAYzdT1l0AAACYAAAACwAAAAAAAAAAAAAAgAEAAAAAeF90cmFpbi5ucHlQSwECLQMtAAAACAAAACEAihrOE0oAAACYAAAACwAAAAAAAAAAAAAAgAGaAAAAeV90cmFpbi5ucHlQSwECLQMtAAAACAAAACEA/b8iylYAAACQAAAACgAAAAAAAAAAAAAAgAEhAQAAeF90ZXN0Lm5weVBLAQItAy0AAAAIAAAAIQCS/LYlSgAAAJAAAAAKAAAAAAAAAAAAAACAAbMBAAB5X3Rlc3QubnB5UEsFBgAAAAAEAAQA4gAAADkCAAAAAA==';
  for (const b64 of [savez, compressed]) {
    const ds = await load(new Uint8Array(Buffer.from(b64, 'base64')));
    assert.equal(bits(ds.train.X), bits(Float32Array.from([0.5, -1.25, 3, 1e-3, -0, 7])));
    assert.equal(Array.from(ds.train.labels!), [2, 0, 1]);
    assert.equal(Array.from(ds.test.labels!), [1, 3]);
    assert.is(ds.c, 4);
    assert.equal(Array.from(ds.test.X), [1.5, 2.5, -3, 4]);
    assert.equal(ds.shape, [2]);
  }
});

test('--standardize: per feature with training-set mean and population std, applied to both splits; constant features only centred', async () => {
  const N = 50, d = 4, r = rng(7);
  const X = Float32Array.from(range(N * d, (i) => (i % d === 3 ? 2.5 : (r() - 0.2) * (1 + (i % d) * 10))));
  const Xt = Float32Array.from(range(3 * d, (i) => i));
  const file = npz({ x_train: npy('f4', [N, d], X), y_train: npy('i4', [N], range(N, (i) => i % 2)), x_test: npy('f4', [3, d], Xt), y_test: npy('i4', [3], [0, 1, 0]) });
  const asIs = await load(file), std = await load(file, true);
  assert.equal(bits(asIs.train.X), bits(X), 'without --standardize: as given');
  for (let j = 0; j < d; j++) {
    let m = 0, v = 0;
    for (let i = 0; i < N; i++) m += X[i * d + j];
    m /= N;
    for (let i = 0; i < N; i++) v += (X[i * d + j] - m) ** 2;
    const s = Math.sqrt(v / N);
    let sm = 0, sv = 0;
    for (let i = 0; i < N; i++) sm += std.train.X[i * d + j];
    for (let i = 0; i < N; i++) sv += std.train.X[i * d + j] ** 2;
    assert.ok(Math.abs(sm / N) < 1e-5, `feature ${j} mean`);
    if (j === 3) assert.ok(sv === 0, 'a constant feature becomes 0');
    else assert.ok(Math.abs(sv / N - 1) < 1e-5, `feature ${j} variance`);
    for (let i = 0; i < 3; i++) {
      const want = j === 3 ? Xt[i * d + j] - m : (Xt[i * d + j] - m) / s;
      assert.ok(Math.abs(std.test.X[i * d + j] - want) < 1e-4 * (1 + Math.abs(want)), 'test split uses the training statistics');
    }
  }
  assert.equal(Array.from(std.train.labels!), Array.from(asIs.train.labels!));
  const noTest = await load(npz({ x_train: npy('f4', [N, d], X), y_train: npy('i4', [N], range(N, (i) => i % 2)) }), true);
  assert.is(noTest.test, noTest.train);
  assert.equal(bits(noTest.train.X), bits(std.train.X));
  assert.match(std.source, /standardised per feature/);
  assert.match(asIs.source, /values as given/);
});

// ---- refusals: one line, what was found, the fix ---------------------------
const X4 = () => npy('f4', [4, 2], range(8, (i) => i));
const Y4 = () => npy('i8', [4], [0, 1, 2, 1]);

test('each refusal is one line naming what was found and the fix', async () => {
  const cases: [string, Uint8Array | null, RegExp][] = [
    ['not a zip', Uint8Array.from(range(100, (i) => (i * 37) & 255)), /not a zip archive .*np\.savez/],
    ['gzip', Uint8Array.from([0x1f, 0x8b, ...range(40, () => 0)]), /not a zip archive \(it is gzip\)/],
    ['tiny', Uint8Array.from([1, 2, 3]), /not a zip archive \(only 3 bytes\)/],
    ['a .npy', X4(), /single \.npy array, not an \.npz: save the arrays with np\.savez/],
    ['no x_train', npz({ x: X4(), y_train: Y4() }), /no x_train in the \.npz \(keys found: x, y_train\): save it with np\.savez/],
    ['no y_train', npz({ x_train: X4(), labels: Y4() }), /no y_train in the \.npz \(keys found: x_train, labels\)/],
    ['empty zip', zipSync({}), /no x_train in the \.npz \(keys found: none\)/],
    ['x_test alone', npz({ x_train: X4(), y_train: Y4(), x_test: X4() }), /x_test without y_test .*save both, or neither/],
    ['y_test alone', npz({ x_train: X4(), y_train: Y4(), y_test: Y4() }), /y_test without x_test/],
    ['float16', npz({ x_train: npy('u2', [4, 2], range(8, () => 0), { descr: '<f2' }), y_train: Y4() }), /x_train: dtype <f2 is not supported: save it as float32 \(x\.astype\(np\.float32\)\)/],
    ['big-endian', npz({ x_train: npy('f4', [4, 2], range(8, () => 0), { descr: '>f4' }), y_train: Y4() }), /dtype >f4 is not supported: big-endian: save x\.astype\('<f4'\)/],
    ['complex', npz({ x_train: npy('f8', [4, 1], range(4, () => 0), { descr: '<c8' }), y_train: Y4() }), /dtype <c8 is not supported/],
    ['unicode', npz({ x_train: X4(), y_train: npy('u4', [4], [65, 66, 67, 68], { descr: '<U1' }) }), /y_train: dtype <U1 is not supported/],
    ['bool x', npz({ x_train: npy('b1', [4, 2], range(8, (i) => i & 1)), y_train: Y4() }), /x_train is boolean: save the inputs as numbers \(x_train\.astype\(np\.float32\)\)/],
    ['fortran', npz({ x_train: npy('f4', [4, 2], range(8, (i) => i), { fortran: true }), y_train: Y4() }), /x_train: the array is in Fortran order .*np\.ascontiguousarray\(x_train\)/],
    ['x rank 1', npz({ x_train: npy('f4', [4], [1, 2, 3, 4]), y_train: Y4() }), /x_train has shape \(4,\): expected \(N, d\), \(N, H, W\) or \(N, C, H, W\).*x\.transpose\(0, 3, 1, 2\).*x_train\[:, None\]/],
    ['x rank 5', npz({ x_train: npy('f4', [4, 1, 1, 1, 2], range(8, (i) => i)), y_train: Y4() }), /x_train has shape \(4, 1, 1, 1, 2\): expected/],
    ['x scalar', npz({ x_train: npy('f4', [], [1]), y_train: Y4() }), /x_train is a scalar/],
    ['y rank 3', npz({ x_train: X4(), y_train: npy('f4', [4, 1, 1], [1, 2, 3, 4]) }), /y_train has shape \(4, 1, 1\): float y is regression targets, shape \(N,\) or \(N, c\)/],
    ['one-hot ints', npz({ x_train: X4(), y_train: npy('u1', [4, 2], [1, 0, 0, 1, 1, 0, 0, 1]) }), /y_train is \|u1 with shape \(4, 2\): integer y is class labels.*y_train\.argmax\(1\)/],
    ['lengths', npz({ x_train: X4(), y_train: npy('i8', [3], [0, 1, 2]) }), /x_train has 4 examples, y_train has 3: they must match row for row/],
    ['test lengths', npz({ x_train: X4(), y_train: Y4(), x_test: X4(), y_test: npy('i8', [2], [0, 1]) }), /x_test has 4 examples, y_test has 2/],
    ['test shape', npz({ x_train: npy('f4', [2, 1, 2, 2], range(8, (i) => i)), y_train: npy('i1', [2], [0, 1]), x_test: npy('f4', [2, 4], range(8, (i) => i)), y_test: npy('i1', [2], [0, 1]) }),
      /x_test's examples have shape \(4,\), x_train's have \(1, 2, 2\): save both splits with the same per-example shape/],
    ['test kind', npz({ x_train: X4(), y_train: Y4(), x_test: X4(), y_test: npy('f4', [4], [0, 1, 0, 1]) }), /y_train is <i8 \(class labels\), y_test is <f4 \(regression targets\): save both as integers/],
    ['test targets', npz({ x_train: X4(), y_train: npy('f4', [4, 2], range(8, (i) => i)), x_test: X4(), y_test: npy('f4', [4, 3], range(12, (i) => i)) }), /y_test has 3 targets per example, y_train has 2/],
    ['NaN', npz({ x_train: npy('f4', [4, 2], [0, 1, 2, 3, 4, NaN, 6, NaN]), y_train: Y4() }), /x_train holds NaN at x_train\[2, 1\] \(the first non-finite value\): remove or replace/],
    ['inf image', npz({ x_train: npy('f8', [2, 1, 2, 2], [0, 0, 0, 0, 0, 0, -Infinity, 0]), y_train: npy('i1', [2], [0, 1]) }), /x_train holds -Infinity at x_train\[1, 0, 1, 0\]/],
    ['inf y', npz({ x_train: X4(), y_train: npy('f4', [4], [0, 1, Infinity, 2]) }), /y_train holds Infinity at y_train\[2\]/],
    ['NaN test', npz({ x_train: X4(), y_train: Y4(), x_test: npy('f4', [1, 2], [NaN, 0]), y_test: npy('i8', [1], [0]) }), /x_test holds NaN at x_test\[0, 0\]/],
    ['f8 overflow', npz({ x_train: npy('f8', [4, 2], [0, 0, 0, 1e300, 0, 0, 0, 0]), y_train: Y4() }), /x_train holds 1e\+300 at x_train\[1, 1\], beyond float32's range/],
    ['negative label', npz({ x_train: X4(), y_train: npy('i2', [4], [0, 1, -1, 2]) }), /y_train holds the label -1 at y_train\[2\]: class labels must be 0, 1, …, c − 1/],
    ['negative test label', npz({ x_train: X4(), y_train: Y4(), x_test: X4(), y_test: npy('i8', [4], [0, -3, 0, 0]) }), /y_test holds the label -3 at y_test\[1\]/],
    ['huge label', npz({ x_train: X4(), y_train: npy('u8', [4], [0, 1, 2, 0]).map((b, i, a) => (i === a.length - 1 ? 0x40 : b)) }), /labels up to 65535 are taken.*regression targets are float/],
    ['empty x', npz({ x_train: npy('f4', [0, 3], []), y_train: npy('i8', [0], []) }), /x_train is empty \(shape \(0, 3\)\): the training split needs at least one example/],
    ['zero features', npz({ x_train: npy('f4', [4, 0], []), y_train: Y4() }), /x_train is empty \(shape \(4, 0\)\)/],
    ['empty test', npz({ x_train: X4(), y_train: Y4(), x_test: npy('f4', [0, 2], []), y_test: npy('i8', [0], []) }), /x_test is empty .*leave x_test and y_test out/],
    ['truncated npy', npz({ x_train: X4().subarray(0, X4().length - 3), y_train: Y4() }), /x_train: truncated data: shape \(4, 2\) <f4 needs 32 bytes, the file has 29/],
    ['trailing npy', npz({ x_train: Uint8Array.from([...X4(), 0, 0, 0, 0]), y_train: Y4() }), /x_train: 4 bytes after the \(4, 2\) <f4 data/],
    ['bad header', npz({ x_train: npyRaw("{'descr': '<f4', 'shape': (4, 2}", new Uint8Array(32)), y_train: Y4() }), /x_train: \.npy header is not a NumPy header dict/],
    ['structured', npz({ x_train: npyRaw("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }", new Uint8Array(16)), y_train: Y4() }), /structured or record array/],
    ['npy version', npz({ x_train: X4().map((b, i) => (i === 6 ? 4 : b)), y_train: Y4() }), /\.npy format version 4\.0 is not supported/],
    ['not npy', npz({ x_train: new TextEncoder().encode('hello'), y_train: Y4() }), /x_train: not a \.npy array/],
  ];
  for (const [what, bytes, re] of cases) {
    const msg = await errorOf(load(bytes!));
    assert.match(msg, re, `${what}: ${msg}`);
    assert.not.match(msg, /\n/, `${what}: one line`);
    assert.ok(msg.startsWith('/data/d.npz: '), `${what}: names the file: ${msg}`);
  }
  // Truncating the zip anywhere never reads as data.
  const whole = npz({ x_train: X4(), y_train: Y4() });
  for (let n = 0; n < whole.length; n++) assert.not.equal(await errorOf(load(whole.subarray(0, n))), '(no error)', `truncated to ${n}`);
  assert.match(await errorOf(load(whole.subarray(0, whole.length - 1))), /not a zip archive \(no end-of-directory record/);
});

test('missing file, empty path, and the id forms', async () => {
  assert.match(await errorOf(loadDatasetFrom('npz:nope.npz', { files: memoryFiles({}, '/x') })), /^dataset 'npz:nope.npz': no file \/x\/nope\.npz: give the path of a NumPy \.npz/);
  assert.match(await errorOf(loadDatasetFrom('npz:', { files: memoryFiles({}) })), /npz: needs the path of a NumPy \.npz, e\.g\. npz:data\/mnist\.npz/);
  assert.match(await errorOf(loadDatasetFrom('npz:a.npz')), /no file source was given/);
  assert.throws(() => loadDataset('npz:a.npz'), /read from files/);
  assert.match(await errorOf(loadDatasetFrom('gmm-10-2-2', { standardize: true })), /--standardize applies to npz: datasets/);
  assert.is(parseNpzId('npz:a/b c.npz'), 'a/b c.npz');
  assert.is(parseNpzId('fmnist'), null);
  assert.ok(DATASET_IDS.includes('npz:PATH'));
  assert.match(await errorOf(loadDatasetFrom('nonsense')), /npz:PATH/);
  assert.ok(describeDatasets(memoryFiles({})).some((r) => r.id === 'npz:PATH' && /x_train, y_train/.test(r.source)));
});

// ---- corruption -----------------------------------------------------------
test('random byte corruption: a clean one-line Error or exactly the original data, never a crash, a hang or other numbers', async () => {
  const r = rng(42);
  const N = 24, d = 6;
  const X = Float32Array.from(range(N * d, () => r() * 4 - 2));
  const labels = range(N, (i) => i % 5);
  const arrays = {
    x_train: npy('f4', [N, d], X), y_train: npy('i8', [N], labels),
    x_test: npy('f4', [4, d], X.slice(0, 4 * d)), y_test: npy('u1', [4], labels.slice(0, 4)),
  };
  const same = (a: Dataset, b: Dataset) =>
    a.task === b.task && a.c === b.c && a.d === b.d && a.train.N === b.train.N && a.test.N === b.test.N &&
    bits(a.train.X).join() === bits(b.train.X).join() && bits(a.train.Y).join() === bits(b.train.Y).join() &&
    bits(a.test.X).join() === bits(b.test.X).join() && bits(a.test.Y).join() === bits(b.test.Y).join() && a.shape!.join() === b.shape!.join();
  const t0 = Date.now();
  for (const level of [0, 6] as const) {
    const good = npz(arrays, level);
    const ref = await load(good);
    let errors = 0, intact = 0;
    for (let trial = 0; trial < 1500; trial++) {
      const bad = good.slice();
      const flips = 1 + Math.floor(r() * 3);
      for (let k = 0; k < flips; k++) {
        const at = Math.floor(r() * bad.length);
        bad[at] = r() < 0.5 ? bad[at] ^ (1 << Math.floor(r() * 8)) : Math.floor(r() * 256);
      }
      let ds: Dataset | null = null, msg = '';
      try { ds = await load(bad); } catch (e) {
        assert.instance(e, Error, `trial ${trial}: throws an Error`);
        assert.not.instance(e, RangeError, `trial ${trial}: ${(e as Error).message}`);
        assert.not.instance(e, TypeError, `trial ${trial}: ${(e as Error).message}`);
        msg = (e as Error).message;
      }
      if (ds) {
        assert.ok(same(ds, ref), `trial ${trial} (level ${level}): loaded, so it must be the original data`);
        intact++;
      } else {
        assert.not.match(msg, /\n/);
        assert.ok(msg.startsWith('/data/d.npz: '), msg);
        errors++;
      }
    }
    assert.ok(errors > 1000, `level ${level}: most corruptions are caught (${errors} errors, ${intact} harmless)`);
  }
  assert.ok(Date.now() - t0 < 60_000, 'no hang');
});

test('ZIP directory checks: CRC-32, entry count, sizes', async () => {
  assert.is(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  const good = npz({ x_train: X4(), y_train: Y4(), x_test: X4(), y_test: Y4() });
  const eocd = good.length - 22;
  const twoEntries = good.slice();
  twoEntries[eocd + 8] = twoEntries[eocd + 10] = 2; // would silently drop the test split
  assert.match(await errorOf(load(twoEntries)), /corrupt zip directory/);
  const flipped = good.slice();
  flipped[30 + 'x_train.npy'.length + 80] ^= 1; // a data byte of the first member
  assert.match(await errorOf(load(flipped)), /member x_train\.npy fails its CRC-32 check/);
  assert.equal(parseNpy(X4(), 'x').shape, [4, 2]);
});

// ---- Node host -------------------------------------------------------------
test('Node: npz:PATH relative to the current directory, absolute path, size and SHA-256 recorded; listing shows the form', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'eoslab-npz-'));
  const cwd = process.cwd();
  try {
    const file = npz({ x_train: X4(), y_train: Y4() }, 6);
    writeFileSync(join(dir, 'd.npz'), file);
    process.chdir(dir);
    const ds = await loadDatasetNode('npz:d.npz');
    assert.is(ds.file!.path, join(dir, 'd.npz'));
    assert.is(ds.file!.bytes, file.length);
    assert.is(ds.file!.sha256, createHash('sha256').update(file).digest('hex'));
    assert.is(absoluteDatasetId('npz:d.npz'), `npz:${join(dir, 'd.npz')}`);
    assert.is(absoluteDatasetId('fmnist-5k'), 'fmnist-5k');
    assert.match(await errorOf(loadDatasetNode('npz:missing.npz')), new RegExp(`no file ${join(dir, 'missing.npz')}`));
    const std = await loadDatasetNode('npz:d.npz', { standardize: true });
    const rec = datasetRecord(ds, false);
    const { data_fingerprint, ...fileRecord } = rec;
    assert.equal(fileRecord, { dataset_file: { path: join(dir, 'd.npz'), bytes: file.length, sha256: ds.file!.sha256 }, dataset_standardize: false });
    assert.equal(data_fingerprint, dataFingerprint(ds), 'every dataset also records the arrays it trained on');
    assert.equal(datasetRecord(null, false), {});
    checkDatasetRecord(rec, datasetRecord(ds, false), '/run');
    assert.throws(() => checkDatasetRecord(rec, datasetRecord(std, true), '/run'), /\/run was run without --standardize/);
    const changed = { dataset_file: { ...rec.dataset_file!, sha256: '0'.repeat(64) }, dataset_standardize: false };
    assert.throws(() => checkDatasetRecord(rec, changed, '/run'), /the file now has 000000000000…/);
    const lines: string[] = [];
    listDatasets((s) => lines.push(s), dir);
    assert.ok(lines.some((l) => l.includes('npz:PATH')), lines.join('\n'));
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
