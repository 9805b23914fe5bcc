// Dataset ids → datasets. This registry holds the synthetic sets;
// the real ones (CIFAR-10, MNIST, …) come with the datasets issue.
import { chebyshev, gaussianMixture, type Dataset } from './synthetic.js';

export const DATASET_IDS = ['chebyshev-{3,4,5}-20', 'gmm-<n>-<d>-<c>'];

export function loadDataset(id: string, opts: { seed?: number } = {}): Dataset {
  const cheb = /^chebyshev-([345])-20$/.exec(id);
  if (cheb) return chebyshev(Number(cheb[1]), 20);
  const gmm = /^gmm-(\d+)-(\d+)-(\d+)$/.exec(id);
  if (gmm) {
    const [n, d, c] = gmm.slice(1).map(Number);
    if (n < 1 || d < 1 || c < 2) throw new Error(`dataset '${id}': gmm-<n>-<d>-<c> needs n ≥ 1, d ≥ 1, c ≥ 2`);
    return gaussianMixture(n, d, c, opts.seed ?? 0);
  }
  throw new Error(`unknown dataset '${id}': available are ${DATASET_IDS.join(', ')} (e.g. gmm-200-8-4)`);
}
