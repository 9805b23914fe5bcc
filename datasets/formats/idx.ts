// IDX loader (MNIST, Fashion-MNIST: `train-images-idx3-ubyte[.gz]`, ...),
// bytes in → arrays out; no fs/process so it also runs in a browser.
//
// Format: magic = 0x00 0x00 <type> <ndims>, then ndims big-endian uint32
// sizes, then the data in row-major (C) order. MNIST images are 0x00000803
// (uint8, dims N,rows,cols), labels 0x00000801 (uint8, dims N). Only the
// unsigned-byte type (0x08) is supported: it is the only one those sets use.
// Files are often kept gzipped; fflate's gunzipSync keeps this synchronous
// (DecompressionStream would force async) and works in browsers too.
import { gunzipSync } from 'fflate';

export interface Idx {
  /** Row-major uint8 values, length = product of dims. */
  data: Uint8Array;
  dims: number[];
}

const TYPE_NAMES: Record<number, string> = {
  0x08: 'uint8', 0x09: 'int8', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64',
};

/** True when the bytes start with the gzip member header 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export function parseIdx(input: Uint8Array): Idx {
  let bytes = input;
  if (isGzip(input)) {
    try {
      bytes = gunzipSync(input);
    } catch (e) {
      throw new Error(`IDX file: gzip stream is corrupt or truncated (${(e as Error).message})`);
    }
  }
  if (bytes.length < 4) throw new Error(`IDX file: only ${bytes.length} bytes, too short for the magic number`);
  const [z0, z1, type, ndims] = bytes;
  if (z0 !== 0 || z1 !== 0 || !(type in TYPE_NAMES) || ndims === 0) {
    const hex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
    throw new Error(`IDX file: bad magic 0x${hex} (expected 0x000008NN, e.g. 0x00000803 images, 0x00000801 labels)`);
  }
  if (type !== 0x08) throw new Error(`IDX file: element type ${TYPE_NAMES[type]} is not supported, only uint8`);
  const headerLen = 4 + 4 * ndims;
  if (bytes.length < headerLen) throw new Error(`IDX file: truncated header (${bytes.length} of ${headerLen} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const have = bytes.length - headerLen;
  if (have < count) {
    throw new Error(`IDX file: truncated, dims [${dims.join(', ')}] need ${count} data bytes but ${have} remain`);
  }
  if (have > count) {
    throw new Error(`IDX file: ${have - count} trailing bytes after the [${dims.join(', ')}] data (wrong dims?)`);
  }
  return { data: bytes.slice(headerLen), dims };
}
