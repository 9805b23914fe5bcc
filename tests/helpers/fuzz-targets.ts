// What the fuzzer feeds: for each format, a valid seed file, hints about its
// length fields, and how mutated bytes are loaded. Shared by the quick mode
// (tests/fuzz.test.ts) and the long mode (scripts/fuzz.ts) so both test the
// same loaders the same way.
import { cifar10FromBinary, cifar10FromPickle } from '../../datasets/formats/cifar10.js';
import { parseIdx } from '../../datasets/formats/idx.js';
import { svhnFromMat } from '../../datasets/formats/matv5.js';
import { parseNpy } from '../../datasets/formats/npy-read.js';
import { npzDataset } from '../../datasets/formats/npz.js';
import { decodeImageCache } from '../../datasets/image-cache.js';
import { loadDatasetFrom } from '../../datasets/registry.js';
import { memoryFiles } from '../../datasets/sources.js';
import { decodeSafetensors } from '../../core/ts/io/safetensors.js';
import { decodeNpy } from '../../core/ts/io/npy.js';
import { zipSync } from 'fflate';
import * as F from './format-fixtures.js';
import { expectCleanOutcome, mutations, type MutationHints } from './fuzz.js';

export interface FuzzTarget {
  format: string;
  seed: Uint8Array;
  hints: MutationHints;
  load(bytes: Uint8Array): unknown | Promise<unknown>;
  /** When the load fails, its message must contain this (the file's name, where the loader knows it). */
  mustMention?: string;
}

const target = (format: string, f: F.Fixture, load: FuzzTarget['load'], mustMention?: string): FuzzTarget =>
  ({ format, seed: f.bytes, hints: f.hints, load, mustMention });

const ROOT = '/fuzz-root';

function fmnistFiles(trainImages: Uint8Array): Record<string, Uint8Array> {
  return {
    'fmnist/train-images-idx3-ubyte': trainImages,
    'fmnist/train-labels-idx1-ubyte': F.mnistLabels([3, 1, 4]).bytes,
    'fmnist/t10k-images-idx3-ubyte.gz': F.gz(F.mnistImages(2).bytes),
    'fmnist/t10k-labels-idx1-ubyte.gz': F.gz(F.mnistLabels([5, 9]).bytes),
  };
}

function cifarFiles(batch1: Uint8Array): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  for (const b of ['data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch']) {
    files[`cifar10/cifar-10-batches-bin/${b}.bin`] = F.cifarBinary([7]).bytes;
  }
  files['cifar10/cifar-10-batches-bin/data_batch_1.bin'] = batch1;
  return files;
}

/** Every format eoslab reads, in the order the reports list them. */
export function fuzzTargets(): FuzzTarget[] {
  const labels = [3, 0, 9];
  const xt = F.xTrain(), yt = F.yTrain();
  const npzOf = (x: Uint8Array, y: Uint8Array) => zipSync({ 'x_train.npy': [x, { level: 0 }], 'y_train.npy': [y, { level: 0 }] });
  const svhnLabels = [1, 10, 5];
  return [
    target('cifar10-bin', F.cifarBinary(labels), (b) => cifar10FromBinary(b)),
    target('cifar10-pickle', F.cifarPickle(labels), (b) => cifar10FromPickle(b)),
    target('cifar10-pickle-py3', F.cifarPickle([1, 0], true), (b) => cifar10FromPickle(b)),
    target('cifar10-registry', F.cifarBinary([2, 8]),
      (b) => loadDatasetFrom('cifar10', { files: memoryFiles(cifarFiles(b), ROOT) }), 'data_batch_1.bin'),
    target('idx', F.mnistImages(3), (b) => parseIdx(b)),
    target('idx-gz', { bytes: F.gz(F.mnistImages(3).bytes), hints: { fields: [], boundaries: [10] } }, (b) => parseIdx(b)),
    target('idx-gz-inner', F.mnistImages(3), (b) => parseIdx(F.gz(b))),
    target('idx-registry', F.mnistImages(3),
      (b) => loadDatasetFrom('fmnist', { files: memoryFiles(fmnistFiles(b), ROOT) }), 'fmnist/train-images-idx3-ubyte'),
    target('matv5', F.svhnMat(svhnLabels, 'plain'), (b) => svhnFromMat(b)),
    target('matv5-compressed', F.svhnMat(svhnLabels, 'compressed'), (b) => svhnFromMat(b)),
    target('matv5-inner', F.svhnXElement(3), (b) => svhnFromMat(F.svhnMatAround(b, svhnLabels))),
    target('npz', F.npz({ x_train: xt.bytes, y_train: yt.bytes }), (b) => npzDataset('npz:f.npz', b, `${ROOT}/f.npz`), 'f.npz'),
    target('npz-deflated', F.npz({ x_train: xt.bytes, y_train: yt.bytes }, 6), (b) => npzDataset('npz:f.npz', b, `${ROOT}/f.npz`), 'f.npz'),
    target('npz-x-member', xt, (b) => npzDataset('npz:f.npz', npzOf(b, yt.bytes), `${ROOT}/f.npz`), 'f.npz'),
    target('npz-y-member', yt, (b) => npzDataset('npz:f.npz', npzOf(xt.bytes, b), `${ROOT}/f.npz`), 'f.npz'),
    target('npy', F.npy('<f8', [2, 3], Float64Array.from([1, 2, 3, 4, 5, 6])), (b) => parseNpy(b, 'x_train'), 'x_train'),
    target('npy-v2', F.npy('<u2', [5], Uint16Array.from([1, 2, 3, 4, 5]), 2), (b) => parseNpy(b, 'y_train'), 'y_train'),
    target('npy-record', F.recordNpy(), (b) => decodeNpy(b, `${ROOT}/projections.npy`), 'projections.npy'),
    target('safetensors', F.safetensors(), (b) => decodeSafetensors(b, `${ROOT}/model.safetensors`), 'model.safetensors'),
    target('image-cache', F.imageCache(), (b) => decodeImageCache(b, `${ROOT}/fmnist-npm.bin`), 'fmnist-npm.bin'),
    target('image-cache-registry', F.imageCache(),
      (b) => loadDatasetFrom('fmnist', { files: memoryFiles({ 'fmnist-npm.bin': b }, ROOT) }), 'fmnist-npm.bin'),
  ];
}

export interface FuzzReport {
  format: string;
  ok: number;
  error: number;
  /** Each failure's message: it names the kind, seed and index that reproduce it. */
  failures: string[];
  ms: number;
}

/** Feeds `count` mutations of t's seed file to its loader; failures are collected, not thrown. */
export async function fuzzTarget(t: FuzzTarget, seed: number, count: number, ms: number, maxFailures = 20): Promise<FuzzReport> {
  const r: FuzzReport = { format: t.format, ok: 0, error: 0, failures: [], ms: 0 };
  const t0 = performance.now();
  // pickleparser console.warn()s every LONG beyond 2^53 a mutation forges; thousands of them would bury the report.
  const warn = console.warn;
  console.warn = () => {};
  try {
    await feed(t, seed, count, ms, maxFailures, r);
  } finally {
    console.warn = warn;
  }
  r.ms = performance.now() - t0;
  return r;
}

async function feed(t: FuzzTarget, seed: number, count: number, ms: number, maxFailures: number, r: FuzzReport): Promise<void> {
  for (const m of mutations(seed, t.seed, count, t.hints)) {
    try {
      r[await expectCleanOutcome(() => t.load(m.bytes), { ms, mutation: m, label: t.format, mustMention: t.mustMention })]++;
    } catch (e) {
      r.failures.push((e as Error).message);
      if (r.failures.length >= maxFailures) break;
    }
  }
}
