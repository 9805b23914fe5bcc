// The dataset loaders in a page: from files the visitor picks (<input
// type=file>) or from URLs, through the same registry and parsers as Node
// (datasets/), with the bytes handed over as an in-memory FileSource.
import { loadDatasetFrom } from '../../datasets/registry.js';
import { memoryFiles } from '../../datasets/sources.js';

export interface DatasetSummary {
  id: string;
  trainN: number;
  testN: number;
  d: number;
  c: number;
  classCounts: number[];
  /** Mean of the standardised training inputs (≈ 0). */
  mean: number;
  /** Σ_i X[i]·(i mod 13 + 1) over the training inputs: a position-sensitive fingerprint. */
  checksum: number;
}

export function checksum(X: Float32Array): number {
  let s = 0;
  for (let i = 0; i < X.length; i++) s += X[i] * ((i % 13) + 1);
  return s;
}

async function summarize(id: string, entries: Record<string, Uint8Array>): Promise<DatasetSummary> {
  const ds = await loadDatasetFrom(id, { files: memoryFiles(entries) });
  const counts = new Array(ds.c).fill(0);
  for (let i = 0; i < ds.train.N; i++) {
    const row = ds.train.Y.subarray(i * ds.c, (i + 1) * ds.c);
    counts[row.indexOf(1)]++;
  }
  let mean = 0;
  for (const x of ds.train.X) mean += x / ds.train.X.length;
  return { id: ds.id, trainN: ds.train.N, testN: ds.test.N, d: ds.d, c: ds.c, classCounts: counts, mean, checksum: checksum(ds.train.X) };
}

/** Files picked in `input`, placed under `folder` (e.g. 'mnist', as $EOSLAB_DATASETS would hold them). */
export async function fromInput(id: string, input: HTMLInputElement, folder: string): Promise<DatasetSummary> {
  const entries: Record<string, Uint8Array> = {};
  for (const f of Array.from(input.files ?? [])) entries[`${folder}/${f.name}`] = new Uint8Array(await f.arrayBuffer());
  return summarize(id, entries);
}

/** Files fetched from URLs, keyed by their path under the datasets root. */
export async function fromUrls(id: string, urls: Record<string, string>): Promise<DatasetSummary> {
  const entries: Record<string, Uint8Array> = {};
  for (const [path, url] of Object.entries(urls)) {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`fetching ${url}: HTTP ${r.status}`);
    entries[path] = new Uint8Array(await r.arrayBuffer());
  }
  return summarize(id, entries);
}

const w = globalThis as unknown as { document?: Document; __eoslabDatasets?: unknown };
if (w.document) {
  w.__eoslabDatasets = {
    fromInput: (id: string, folder: string) => fromInput(id, w.document!.getElementById('files') as HTMLInputElement, folder),
    fromUrls,
  };
}
