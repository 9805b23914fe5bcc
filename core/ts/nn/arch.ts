// Architecture ids → layer lists, as in the reference code and the papers:
//   fc-{tanh,relu,elu,softplus,hardtanh}   Flatten → [Linear(d,200) → act]×2 → Linear(200,c)
//   fc-tanh-depth{1..4}                    depth hidden layers of width 200
//   mlp:<w1>x<w2>…:<act>[:nobias]          any widths (mlp::<act> is one linear layer)
//   cnn-{relu,elu,tanh}                    [Conv2d(3×3, pad 1) → act → MaxPool2d(2)] × [32, 32] → Flatten → Linear
//   cnn-avgpool-{relu,elu,tanh}            the same with AvgPool2d(2)
//   myrtle{5,7,10}[:<width>]               Shankar et al. 2020 (the catapult notebook's CNNs), below
//   cnn:<layer>,<layer>,…:<act>[:nobias]   a general CNN, grammar below
//   fc-bn-{relu,elu,tanh}, cnn-bn-{…}      fc-* / cnn-* with BatchNorm after each hidden activation, below
//   vgg11[:w<mult>]                        VGG-11 (configuration A, no dropout), below
//   resnet20, resnet32                     He et al.'s CIFAR ResNets, below
// Ids that need an image input (cnn*, myrtle*) refuse a flat one.
import { parseActivation, type ActName } from '../backend/activations.js';
import type { Shape } from './layer.js';
import type { InitScheme } from './init.js';
import { buildModel, type LayerSpec, type Model } from './model.js';

/** The reference code's fully connected families, with hidden width 200. */
const FC_FAMILY = ['tanh', 'relu', 'elu', 'softplus', 'hardtanh'];
const CNN_FAMILY = ['relu', 'elu', 'tanh'];

export interface ArchInfo {
  specs: LayerSpec[];
  /** The init the architecture's paper uses, when it is not PyTorch's default. */
  init?: InitScheme;
}

export const ARCH_HELP = 'fc-{tanh,relu,elu,softplus,hardtanh}, fc-tanh-depth{1..4}, mlp:<w1>x<w2>…:<act>[:nobias], ' +
  'cnn-{relu,elu,tanh}, cnn-avgpool-{relu,elu,tanh}, fc-bn-{relu,elu,tanh}, cnn-bn-{relu,elu,tanh}, myrtle{5,7,10}[:<width>], cnn:<c32,p2,…,f128>:<act>[:nobias], ' +
  'vgg11[:w<mult>], resnet20, resnet32';

function mlpSpecs(widths: number[], act: ActName, bias: boolean, classes: number): LayerSpec[] {
  const specs: LayerSpec[] = [{ kind: 'flatten' }];
  for (const w of widths) specs.push({ kind: 'dense', out: w, bias }, { kind: 'act', act });
  specs.push({ kind: 'dense', out: classes, bias });
  return specs;
}

/**
 * The layers of architecture `id` for `classes` outputs. Throws one line
 * naming the accepted forms for an unknown id.
 */
export function parseArchId(id: string, classes: number): ArchInfo {
  const fc = /^fc-([a-z]+)(?:-depth([1-9]\d*))?$/.exec(id);
  if (fc) {
    const [, act, depth] = fc;
    if (!FC_FAMILY.includes(act)) throw new Error(`unknown architecture '${id}': fc-<act> takes ${FC_FAMILY.join(', ')}`);
    const d = depth ? Number(depth) : 2;
    if (depth && act !== 'tanh') throw new Error(`unknown architecture '${id}': only fc-tanh-depth{1..4} exists in the reference`);
    if (d > 4) throw new Error(`unknown architecture '${id}': fc-tanh-depth takes 1..4 (use mlp:200x200x…:tanh for deeper)`);
    return { specs: mlpSpecs(Array(d).fill(200), parseActivation(act), true, classes) };
  }
  const m = /^mlp:([0-9x]*):([a-z]+)(:nobias)?$/.exec(id);
  if (m) {
    const widths = m[1] === '' ? [] : m[1].split('x').map(Number);
    if (widths.some((w) => !Number.isInteger(w) || w <= 0)) throw new Error(`architecture '${id}': widths must be positive integers like mlp:32x32:tanh`);
    return { specs: mlpSpecs(widths, parseActivation(m[2]), !m[3], classes) };
  }
  const bn = /^(fc|cnn)-bn-([a-z]+)$/.exec(id);
  if (bn) return { specs: batchNormSpecs(id, bn[1] as 'fc' | 'cnn', bn[2], classes) };
  const cnn = /^cnn-(avgpool-)?([a-z]+)$/.exec(id);
  if (cnn) {
    if (!CNN_FAMILY.includes(cnn[2])) throw new Error(`unknown architecture '${id}': cnn-<act> takes ${CNN_FAMILY.join(', ')}`);
    const act = parseActivation(cnn[2]), pool = cnn[1] ? 'avgpool' as const : 'maxpool' as const;
    const specs: LayerSpec[] = [];
    for (const w of [32, 32]) specs.push({ kind: 'conv', out: w, kh: 3, pad: 1, bias: true }, { kind: 'act', act }, { kind: pool, k: 2 });
    specs.push({ kind: 'flatten' }, { kind: 'dense', out: classes, bias: true });
    return { specs };
  }
  const my = /^myrtle(5|7|10)(?::([1-9]\d*))?$/.exec(id);
  if (my) return { specs: myrtleSpecs({ 5: 1, 7: 2, 10: 3 }[my[1] as '5' | '7' | '10'], my[2] ? Number(my[2]) : 32, classes), init: { kind: 'normal', sigmaW: Math.SQRT2, sigmaOut: 1 } };
  if (id.startsWith('myrtle')) throw new Error(`unknown architecture '${id}': use myrtle5, myrtle7 or myrtle10, optionally with :<width> (e.g. myrtle5:64)`);
  const vgg = /^vgg11(-bn)?(?::w(\d*\.?\d+))?$/.exec(id);
  if (vgg) return { specs: vggSpecs(id, vgg[2] ? Number(vgg[2]) : 1, classes, !!vgg[1]), init: { kind: 'he', conv: 'fan_out', linear: 'pytorch' } };
  if (id.startsWith('vgg')) throw new Error(`unknown architecture '${id}': use vgg11 or vgg11-bn, optionally with a width multiplier (e.g. vgg11:w0.25)`);
  const rn = /^resnet(20|32)$/.exec(id);
  if (rn) return { specs: resnetSpecs(rn[1] === '20' ? 3 : 5, classes), init: { kind: 'he', conv: 'fan_in', linear: 'fan_in' } };
  const gen = /^cnn:([^:]+):([a-z]+)(:nobias)?$/.exec(id);
  if (gen) return { specs: generalCnnSpecs(id, gen[1], parseActivation(gen[2]), !gen[3], classes) };
  throw new Error(`unknown architecture '${id}': use ${ARCH_HELP}`);
}

/**
 * Myrtle-n (Shankar et al. 2020, as the catapult notebook builds it): a 3×3
 * conv, then three stages of n 3×3 convs (n = 1, 2, 3 for depth 5, 7, 10),
 * a 2×2 average pool after the first two stages and a global average pool
 * after the third, then a linear readout. ReLU, SAME padding, no bias,
 * `width` channels; init N(0, 2/fan_in) hidden, N(0, 1/fan_in) readout.
 */
function myrtleSpecs(n: number, width: number, classes: number): LayerSpec[] {
  const conv = (): LayerSpec[] => [{ kind: 'conv', out: width, kh: 3, pad: 'same', bias: false }, { kind: 'act', act: 'relu' }];
  const specs: LayerSpec[] = [...conv()];
  for (let stage = 0; stage < 3; stage++) {
    for (let j = 0; j < n; j++) specs.push(...conv());
    specs.push(stage < 2 ? { kind: 'avgpool', k: 2 } : { kind: 'avgpool', k: 'global' });
  }
  specs.push({ kind: 'flatten' }, { kind: 'dense', out: classes, bias: false });
  return specs;
}

/**
 * VGG-11, configuration A (Simonyan & Zisserman), as the reference's CIFAR
 * code builds it without dropout: features = [Conv2d(3×3, pad 1) → ReLU]
 * with MaxPool2d(2) at the Ms of 64, M, 128, M, 256, 256, M, 512, 512, M,
 * 512, 512, M, then classifier = Linear(512·h·w, 512) → ReLU → Linear(512,
 * 512) → ReLU → Linear(512, classes) (512 on 32×32 inputs); module names
 * features.<i>, classifier.<i> as in that code. `mult` scales every width
 * (vgg11:w0.0625 for small tests), rounded, at least 1.
 */
function vggSpecs(id: string, mult: number, classes: number, batchNorm = false): LayerSpec[] {
  if (!(mult > 0) || !Number.isFinite(mult)) throw new Error(`architecture '${id}': the width multiplier must be a positive number, like vgg11:w0.25`);
  const w = (c: number) => Math.max(1, Math.round(c * mult));
  const specs: LayerSpec[] = [];
  let i = 0;
  for (const c of [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'] as const) {
    if (c === 'M') specs.push({ kind: 'maxpool', k: 2, name: `features.${i++}` });
    else {
      // vgg11-bn: Conv2d → BatchNorm2d → ReLU, the torchvision order (indices shift accordingly).
      specs.push({ kind: 'conv', out: w(c), kh: 3, pad: 1, bias: true, name: `features.${i++}` });
      if (batchNorm) specs.push({ kind: 'batchnorm', name: `features.${i++}` });
      specs.push({ kind: 'act', act: 'relu', name: `features.${i++}` });
    }
  }
  specs.push({ kind: 'flatten' },
    { kind: 'dense', out: w(512), bias: true, name: 'classifier.0' }, { kind: 'act', act: 'relu', name: 'classifier.1' },
    { kind: 'dense', out: w(512), bias: true, name: 'classifier.2' }, { kind: 'act', act: 'relu', name: 'classifier.3' },
    { kind: 'dense', out: classes, bias: true, name: 'classifier.4' });
  return specs;
}

/**
 * The CIFAR ResNets of He et al. 2016 (§4.2), in the widely used PyTorch
 * code's names: conv1 (3×3, 16 channels, no bias) → bn1 → ReLU, three stages
 * layer1..3 of n basic blocks (16, 32, 64 channels; the first block of
 * stages 2 and 3 has stride 2 and the option-A shortcut), a global average
 * pool and linear; a block is conv1 → bn1 → ReLU → conv2 → bn2, plus the
 * shortcut, then ReLU. n = 3: resnet20, n = 5: resnet32.
 */
function resnetSpecs(n: number, classes: number): LayerSpec[] {
  const bn = (name: string): LayerSpec[] => BATCHNORM ? [BATCHNORM(name)] : [];
  const conv = (out: number, stride: number, name: string): LayerSpec => ({ kind: 'conv', out, kh: 3, stride, pad: 1, bias: false, name });
  const specs: LayerSpec[] = [conv(16, 1, 'conv1'), ...bn('bn1'), { kind: 'act', act: 'relu' }];
  let inC = 16;
  [16, 32, 64].forEach((c, stage) => {
    for (let b = 0; b < n; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      specs.push({
        kind: 'residual', name: `layer${stage + 1}.${b}`, shortcut: stride === 1 && inC === c ? 'identity' : 'optionA',
        inner: [conv(c, stride, 'conv1'), ...bn('bn1'), { kind: 'act', act: 'relu' }, conv(c, 1, 'conv2'), ...bn('bn2')],
      }, { kind: 'act', act: 'relu' });
      inC = c;
    }
  });
  specs.push({ kind: 'avgpool', k: 'global' }, { kind: 'flatten' }, { kind: 'dense', out: classes, bias: true, name: 'linear' });
  if (!BATCHNORM) throw new Error(`resnet${6 * n + 2} needs BatchNorm, which this build lacks`);
  return specs;
}

/** BatchNorm2d under a PyTorch module name. */
const BATCHNORM: ((name: string) => LayerSpec) | null = (name) => ({ kind: 'batchnorm', name });

/**
 * cnn:<layers>:<act>[:nobias], layers separated by commas:
 *   c<C>[k<K>][s<S>][p<P>|same]  Conv2d to C channels, K×K kernel (default 3),
 *                               stride S (1), padding P (default 'same' at stride 1, else 0), then act
 *   p<K> / a<K>                 MaxPool2d(K) / AvgPool2d(K); ag: global average pool
 *   f<W>                        Linear to W units, then act (flattens first)
 *   bn                          BatchNorm2d (BatchNorm1d after an f<W>) of what comes before
 * A Flatten and the Linear readout to the classes close the list.
 * Example: cnn:c32,p2,c64,p2,f128:relu.
 */
function generalCnnSpecs(id: string, body: string, act: ActName, bias: boolean, classes: number): LayerSpec[] {
  const specs: LayerSpec[] = [];
  let flat = false;
  for (const tok of body.split(',')) {
    const c = /^c([1-9]\d*)(?:k([1-9]\d*))?(?:s([1-9]\d*))?(?:p(\d+)|(same))?$/.exec(tok);
    const p = /^([pa])([1-9]\d*|g)$/.exec(tok);
    const f = /^f([1-9]\d*)$/.exec(tok);
    if (tok === 'bn') {
      specs.push({ kind: 'batchnorm' });
    } else if (c && !flat) {
      const stride = c[3] ? Number(c[3]) : 1;
      const pad = c[4] !== undefined ? Number(c[4]) : c[5] || stride === 1 ? 'same' as const : 0;
      specs.push({ kind: 'conv', out: Number(c[1]), kh: c[2] ? Number(c[2]) : 3, stride, pad, bias }, { kind: 'act', act });
    } else if (p && !flat) {
      if (p[2] === 'g' && p[1] === 'p') throw new Error(`architecture '${id}': global pooling is 'ag' (average)`);
      specs.push({ kind: p[1] === 'p' ? 'maxpool' : 'avgpool', k: p[2] === 'g' ? 'global' : Number(p[2]) });
    } else if (f) {
      if (!flat) specs.push({ kind: 'flatten' });
      flat = true;
      specs.push({ kind: 'dense', out: Number(f[1]), bias }, { kind: 'act', act });
    } else {
      throw new Error(`architecture '${id}': cannot read '${tok}'${flat ? ' after a dense layer (convolutions and pools come first)' : ''}; ` +
        'layers are c<C>[k<K>][s<S>][p<P>|same], p<K>, a<K>, ag, f<W>, bn (e.g. cnn:c32,p2,c64,p2,f128:relu)');
    }
  }
  if (!flat) specs.push({ kind: 'flatten' });
  specs.push({ kind: 'dense', out: classes, bias });
  return specs;
}

/** The model of architecture `id` on per-example inputs of `inShape` with `classes` outputs. */
export function modelFromArch(id: string, inShape: Shape, classes: number): Model {
  const info = parseArchId(id, classes);
  const needsImage = info.specs.some((s) => s.kind === 'conv' || s.kind === 'maxpool' || s.kind === 'avgpool' || s.kind === 'residual');
  if (needsImage && inShape.length !== 3) {
    throw new Error(`architecture '${id}' needs image inputs [C, H, W], but the data is flat (shape [${inShape}]): use an image dataset (cifar10, fmnist, mnist, svhn) or an npz with [N, C, H, W] arrays`);
  }
  return buildModel(info.specs, inShape);
}

/**
 * Cohen et al.'s BatchNorm variants (their archs.py fully_connected_net_bn
 * and convnet_bn): fc-bn-<act> is Flatten → [Linear(d, 200) → act →
 * BatchNorm1d(200)] × 2 → Linear(200, c); cnn-bn-<act> is [Conv2d(3×3, pad 1)
 * → act → BatchNorm2d → MaxPool2d(2)] × [32, 32] → Flatten → Linear.
 */
function batchNormSpecs(id: string, family: 'fc' | 'cnn', actName: string, classes: number): LayerSpec[] {
  if (!CNN_FAMILY.includes(actName)) throw new Error(`unknown architecture '${id}': ${family}-bn-<act> takes ${CNN_FAMILY.join(', ')}`);
  const act = parseActivation(actName);
  const specs: LayerSpec[] = [];
  if (family === 'fc') {
    specs.push({ kind: 'flatten' });
    for (const w of [200, 200]) specs.push({ kind: 'dense', out: w, bias: true }, { kind: 'act', act }, { kind: 'batchnorm' });
  } else {
    for (const w of [32, 32]) specs.push({ kind: 'conv', out: w, kh: 3, pad: 1, bias: true }, { kind: 'act', act }, { kind: 'batchnorm' }, { kind: 'maxpool', k: 2 });
    specs.push({ kind: 'flatten' });
  }
  specs.push({ kind: 'dense', out: classes, bias: true });
  return specs;
}
