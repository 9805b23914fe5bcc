// The page's presets: small synthetic problems that run in seconds on the
// Wasm core. A preset with several configurations runs them side by side
// (gradient flow beside GD). The CNN preset needs image-shaped inputs, and no
// synthetic set has them: it generates a Gaussian mixture laid out as 1×8×8
// images and hands it to the engine as an in-memory .npz, so it goes through
// the same npz: loader as a file the visitor picks (and the CLI can rerun it
// on the same file, which the zip download includes).
import { zipSync } from 'fflate';
import { encodeNpy, npyHeader } from '../../../core/ts/io/npy.js';
import { gaussianMixture } from '../../../datasets/synthetic.js';

export interface Preset {
  id: string;
  label: string;
  /** Partial RunConfigs (normalizeConfig fills the CLI's defaults). */
  configs: Record<string, unknown>[];
  /** Files the configurations read (by their path in the dataset id). */
  files?: () => Record<string, Uint8Array>;
}

const MLP = { dataset: 'gmm-256-16-4', arch: 'mlp:64x64:tanh', loss: 'mse' };
export const IMAGES_NPZ = 'gmm-images-256-1x8x8-4.npz';

export const PRESETS: Preset[] = [
  { id: 'gd-eos', label: 'GD at the edge of stability (λ₁ → 2/η)', configs: [{ ...MLP, lr: 0.3, maxSteps: 600, eigFreq: 20 }] },
  { id: 'polyak', label: 'Polyak momentum at (2+2β)/η', configs: [{ ...MLP, lr: 0.45, maxSteps: 600, eigFreq: 20, opt: { name: 'polyak', beta: 0.5 } }] },
  { id: 'nesterov', label: 'Nesterov momentum at (2+2β)/((1+2β)η)', configs: [{ ...MLP, lr: 0.22, maxSteps: 600, eigFreq: 20, opt: { name: 'nesterov', beta: 0.5 } }] },
  { id: 'adam', label: 'Adam: λ_A against 38/η', configs: [{ ...MLP, lr: 0.01, maxSteps: 400, eigFreq: 20, opt: { name: 'adam' }, lambdaA: true }] },
  {
    id: 'flow-gd', label: 'Gradient flow beside GD (time = steps × η)',
    configs: [
      { ...MLP, kind: 'flow', tick: 3, maxSteps: 90, eigFreq: 1, neigs: 1 },
      { ...MLP, lr: 0.3, maxSteps: 300, eigFreq: 10, neigs: 1 },
    ],
  },
  { id: 'lr-drop', label: 'A learning-rate drop (0.3 → 0.1 at step 300)', configs: [{ ...MLP, lr: 0.3, maxSteps: 600, eigFreq: 20, lrDrops: [{ step: 300, lr: 0.1 }] }] },
  {
    id: 'cnn', label: 'A small CNN (cnn:c8,p2,c8,p2:tanh on 1×8×8 synthetic images)',
    configs: [{ dataset: `npz:${IMAGES_NPZ}`, arch: 'cnn:c8,p2,c8,p2:tanh', loss: 'mse', lr: 0.1, maxSteps: 300, eigFreq: 20 }],
    files: () => ({ [IMAGES_NPZ]: syntheticImagesNpz() }),
  },
];

/** int32 labels as .npy (core/ts/io/npy.ts writes float32 only). */
function labelsNpy(labels: Int32Array): Uint8Array {
  const head = npyHeader([labels.length]);
  // The same header with '<i4' for '<f4' (one byte: the two have the same length, the padding stays right).
  const at = head.findIndex((b, i) => b === 0x3c && head[i + 1] === 0x66 && head[i + 2] === 0x34);
  head[at + 1] = 0x69;
  const out = new Uint8Array(head.length + labels.byteLength);
  out.set(head);
  out.set(new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength), head.length);
  return out;
}

/** gmm-256-64-4 (seed 0) with each 64-vector read as a 1×8×8 image, as np.savez would write it. */
export function syntheticImagesNpz(): Uint8Array {
  const ds = gaussianMixture(256, 64, 4, 0);
  const labels = (s: typeof ds.train) => Int32Array.from({ length: s.N }, (_, i) => s.Y.subarray(i * 4, i * 4 + 4).indexOf(1));
  return zipSync({
    'x_train.npy': encodeNpy(ds.train.X, [ds.train.N, 1, 8, 8]), 'y_train.npy': labelsNpy(labels(ds.train)),
    'x_test.npy': encodeNpy(ds.test.X, [ds.test.N, 1, 8, 8]), 'y_test.npy': labelsNpy(labels(ds.test)),
  }, { level: 0 });
}
