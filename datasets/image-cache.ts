// The compact cache eoslab keeps of a converted image dataset (e.g.
// $EOSLAB_DATASETS/fmnist-npm.bin): a 40-byte header then raw uint8 arrays.
//   0  "EOSLABDS"                     8 bytes
//   8  u32 LE: version (1), channels, height, width, classes, nTrain, nTest, 0
//   40 train images (nTrain·d) | train labels (nTrain) | test images (nTest·d) | test labels (nTest)
// Pure: bytes in, bytes out.
import type { RawImageSet } from './preprocess.js';

const MAGIC = 'EOSLABDS';
export const IMAGE_CACHE_HEADER = 40;

export function encodeImageCache(s: RawImageSet): Uint8Array {
  const [C, H, W] = s.shape, d = C * H * W;
  const a = s.train, b = s.test;
  const out = new Uint8Array(IMAGE_CACHE_HEADER + (a.N + b.N) * (d + 1));
  for (let i = 0; i < 8; i++) out[i] = MAGIC.charCodeAt(i);
  const dv = new DataView(out.buffer);
  [1, C, H, W, s.classes, a.N, b.N, 0].forEach((v, i) => dv.setUint32(8 + 4 * i, v, true));
  let o = IMAGE_CACHE_HEADER;
  for (const arr of [a.images, a.labels, b.images, b.labels]) { out.set(arr, o); o += arr.length; }
  return out;
}

/** The largest class count and image side a cache may declare: far beyond any image set eoslab reads. */
const MAX_CLASSES = 65536, MAX_SIDE = 4096, MAX_CHANNELS = 4;

export function decodeImageCache(bytes: Uint8Array, source: string): RawImageSet {
  const bad = (why: string) => new Error(`${source}: not an eoslab dataset cache (${why}); delete it and prepare again`);
  if (bytes.length < IMAGE_CACHE_HEADER) throw bad('too short');
  for (let i = 0; i < 8; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) throw bad('bad magic');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [version, C, H, W, classes, nTrain, nTest, zero] = Array.from({ length: 8 }, (_, i) => dv.getUint32(8 + 4 * i, true));
  if (version !== 1) throw bad(`version ${version}`);
  if (zero !== 0) throw bad(`reserved header word is ${zero}, not 0`);
  // Every header field is checked before it sizes anything: a forged class
  // count would otherwise size the one-hot targets (N × classes floats).
  if (!(C >= 1 && C <= MAX_CHANNELS && H >= 1 && H <= MAX_SIDE && W >= 1 && W <= MAX_SIDE)) throw bad(`image shape ${C}×${H}×${W}`);
  if (!(classes >= 2 && classes <= MAX_CLASSES)) throw bad(`${classes} classes`);
  if (nTrain === 0 || nTest === 0) throw bad(`${nTrain} training and ${nTest} test examples`);
  const d = C * H * W;
  if (bytes.length !== IMAGE_CACHE_HEADER + (nTrain + nTest) * (d + 1)) throw bad(`length ${bytes.length} does not match its header`);
  let o = IMAGE_CACHE_HEADER;
  const take = (n: number) => { const v = bytes.subarray(o, o + n); o += n; return v; };
  const train = { images: take(nTrain * d), labels: take(nTrain), N: nTrain };
  const test = { images: take(nTest * d), labels: take(nTest), N: nTest };
  for (const [name, s] of [['training', train], ['test', test]] as const) {
    const i = s.labels.findIndex((l) => l >= classes);
    if (i >= 0) throw bad(`${name} label ${i} is ${s.labels[i]}, beyond its ${classes} classes`);
  }
  return { shape: [C, H, W], classes, train, test, source };
}
