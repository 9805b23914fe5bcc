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
import { crc32 } from './npz.js';
import { oneLine } from './shown.js';

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

// Deflate expands at most ~1032:1, so a gzip trailer announcing more than
// that is forged or corrupt; fflate would allocate whatever it announces.
const MAX_INFLATE_RATIO = 1032;

/** A whole gzip file → its bytes, the trailer's size and CRC-32 checked (fflate checks neither). */
function gunzipChecked(input: Uint8Array, where: string): Uint8Array {
  const bad = (why: string) => new Error(`${where}: gzip stream is corrupt or truncated (${why}): download the file again`);
  if (input.length < 18) throw bad(`only ${input.length} bytes`);
  const v = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const size = v.getUint32(input.length - 4, true), crc = v.getUint32(input.length - 8, true);
  if (size > input.length * MAX_INFLATE_RATIO) throw bad(`its trailer announces ${size} bytes from ${input.length}`);
  let out: Uint8Array;
  try {
    out = gunzipSync(input, { out: new Uint8Array(size) });
  } catch (e) {
    throw bad(oneLine((e as Error).message));
  }
  if (out.length !== size) throw bad(`${out.length} bytes inflated, the trailer says ${size}`);
  if (crc32(out) !== crc) throw bad('CRC-32 mismatch');
  return out;
}

/** Parses an IDX file (gzipped or not); `where` names it in errors (its path, where known). */
export function parseIdx(input: Uint8Array, where = 'IDX file'): Idx {
  const bytes = isGzip(input) ? gunzipChecked(input, where) : input;
  if (bytes.length < 4) throw new Error(`${where}: only ${bytes.length} bytes, too short for the magic number`);
  const [z0, z1, type, ndims] = bytes;
  if (z0 !== 0 || z1 !== 0 || !(type in TYPE_NAMES) || ndims === 0) {
    const hex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
    throw new Error(`${where}: bad magic 0x${hex} (expected 0x000008NN, e.g. 0x00000803 images, 0x00000801 labels)`);
  }
  if (type !== 0x08) throw new Error(`${where}: element type ${TYPE_NAMES[type]} is not supported, only uint8`);
  const headerLen = 4 + 4 * ndims;
  if (bytes.length < headerLen) throw new Error(`${where}: truncated header (${bytes.length} of ${headerLen} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const have = bytes.length - headerLen;
  if (have < count) {
    throw new Error(`${where}: truncated, dims [${dims.join(', ')}] need ${count} data bytes but ${have} remain`);
  }
  if (have > count) {
    throw new Error(`${where}: ${have - count} trailing bytes after the [${dims.join(', ')}] data (wrong dims?)`);
  }
  return { data: bytes.slice(headerLen), dims };
}
