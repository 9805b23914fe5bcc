// MLP specs, architecture ids, and the flat parameter layout.
// θ is one flat vector: for each dense layer in order, W [out, in] row-major
// (PyTorch nn.Linear layout), then b [out] when bias is on. The last layer
// has no activation.
import { parseActivation, type ActName } from '../backend/activations.js';

export interface MlpSpec {
  /** [input, hidden…, output] */
  sizes: number[];
  act: ActName;
  bias: boolean;
}

export interface DenseLayer {
  index: number;
  inDim: number;
  outDim: number;
  /** Offset of W (out×in) in θ. */
  wOff: number;
  /** Offset of b in θ, or -1 without bias. */
  bOff: number;
  /** Activation after this layer (identity for the last). */
  act: ActName;
}

export interface MlpLayout {
  spec: MlpSpec;
  layers: DenseLayer[];
  /** Parameters per model. */
  P: number;
}

export function mlpLayout(spec: MlpSpec): MlpLayout {
  if (spec.sizes.length < 2) throw new Error('an MLP needs at least an input and an output size');
  for (const s of spec.sizes) {
    if (!Number.isInteger(s) || s <= 0) throw new Error(`MLP sizes must be positive integers, got [${spec.sizes.join(', ')}]`);
  }
  const layers: DenseLayer[] = [];
  let off = 0;
  const L = spec.sizes.length - 1;
  for (let l = 0; l < L; l++) {
    const inDim = spec.sizes[l], outDim = spec.sizes[l + 1];
    const wOff = off;
    off += inDim * outDim;
    const bOff = spec.bias ? off : -1;
    if (spec.bias) off += outDim;
    layers.push({ index: l, inDim, outDim, wOff, bOff, act: l === L - 1 ? 'identity' : spec.act });
  }
  return { spec, layers, P: off };
}

/** The reference code's fully connected families, with hidden width 200. */
const FC_FAMILY = ['tanh', 'relu', 'elu', 'softplus', 'hardtanh'];

/**
 * Architecture ids, as in the reference code:
 *   fc-{tanh,relu,elu,softplus,hardtanh}  Flatten → [Linear(d,200)+act]×2 → Linear(200,c)
 *   fc-tanh-depth{1..4}                   depth hidden layers of width 200
 *   mlp:<w1>x<w2>…:<act>[:nobias]         any widths (e.g. mlp:32x32:tanh); `mlp::<act>` is a
 *                                         single linear layer
 */
export function parseArch(id: string, inputDim: number, outputDim: number): MlpSpec {
  const fc = /^fc-([a-z]+)(?:-depth([1-9]\d*))?$/.exec(id);
  if (fc) {
    const [, act, depth] = fc;
    if (!FC_FAMILY.includes(act)) throw new Error(`unknown architecture '${id}': fc-<act> takes ${FC_FAMILY.join(', ')}`);
    const d = depth ? Number(depth) : 2;
    if (depth && act !== 'tanh') throw new Error(`unknown architecture '${id}': only fc-tanh-depth{1..4} exists in the reference`);
    if (d > 4) throw new Error(`unknown architecture '${id}': fc-tanh-depth takes 1..4 (use mlp:200x200x…:tanh for deeper)`);
    return { sizes: [inputDim, ...Array(d).fill(200), outputDim], act: parseActivation(act), bias: true };
  }
  const m = /^mlp:([0-9x]*):([a-z]+)(:nobias)?$/.exec(id);
  if (m) {
    const widths = m[1] === '' ? [] : m[1].split('x').map(Number);
    if (widths.some((w) => !Number.isInteger(w) || w <= 0)) throw new Error(`architecture '${id}': widths must be positive integers like mlp:32x32:tanh`);
    return { sizes: [inputDim, ...widths, outputDim], act: parseActivation(m[2]), bias: !m[3] };
  }
  throw new Error(`unknown architecture '${id}': use fc-{${FC_FAMILY.join(',')}}, fc-tanh-depth{1..4}, or mlp:<w1>x<w2>…:<act>[:nobias] (e.g. mlp:32x32:tanh)`);
}
