// MATLAB level-5 MAT-file reader (numeric arrays only), bytes in → arrays
// out; no fs/process so it also runs in a browser. Enough for SVHN's
// `train_32x32.mat` / `test_32x32.mat` / `extra_32x32.mat`.
//
// Layout (MathWorks "MAT-File Format", level 5):
//   header: 116 bytes text, 8 bytes subsystem offset, u16 version 0x0100,
//           2 chars endian indicator ('IM' when written little-endian);
//   then data elements: 8-byte tag (u32 type, u32 byte count), data padded
//   to 8 bytes. "Small" elements (count ≤ 4) pack u16 count | u16 type into
//   the first tag word and the data into the second.
//   miCOMPRESSED (15) holds a zlib stream that inflates to further elements
//   (not padded: writers place the next tag right after the stream).
//   miMATRIX (14) holds sub-elements: array flags (class in the low byte),
//   dimensions (miINT32), name (miINT8), real part (any numeric type — MATLAB
//   stores e.g. a double array as miUINT8 when the values fit, so we convert
//   to the class's type), [imaginary part].
import { unzlibSync } from 'fflate';
import { oneLine, printable, shown } from './shown.js';

export type MatData =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

export interface MatVar {
  /** MATLAB dimensions; data is column-major (first index fastest). */
  dims: number[];
  data: MatData;
  /** MATLAB class name: 'double', 'single', 'uint8', ... */
  class: string;
}

const KIND = 'MAT v5 file';
const MI_MATRIX = 14;
const MI_COMPRESSED = 15;

// Data element type → [bytes per element, DataView getter]
const MI_TYPES: Record<number, [number, (v: DataView, o: number, le: boolean) => number | bigint]> = {
  1: [1, (v, o) => v.getInt8(o)],
  2: [1, (v, o) => v.getUint8(o)],
  3: [2, (v, o, le) => v.getInt16(o, le)],
  4: [2, (v, o, le) => v.getUint16(o, le)],
  5: [4, (v, o, le) => v.getInt32(o, le)],
  6: [4, (v, o, le) => v.getUint32(o, le)],
  7: [4, (v, o, le) => v.getFloat32(o, le)],
  9: [8, (v, o, le) => v.getFloat64(o, le)],
  12: [8, (v, o, le) => v.getBigInt64(o, le)],
  13: [8, (v, o, le) => v.getBigUint64(o, le)],
};

// Array class (mxCLASS) → [name, typed-array constructor, matching mi type]
type Ctor = new (n: number) => MatData;
const CLASSES: Record<number, [string, Ctor, number]> = {
  6: ['double', Float64Array, 9],
  7: ['single', Float32Array, 7],
  8: ['int8', Int8Array, 1],
  9: ['uint8', Uint8Array, 2],
  10: ['int16', Int16Array, 3],
  11: ['uint16', Uint16Array, 4],
  12: ['int32', Int32Array, 5],
  13: ['uint32', Uint32Array, 6],
  14: ['int64', BigInt64Array, 12],
  15: ['uint64', BigUint64Array, 13],
};

interface Element {
  type: number;
  data: Uint8Array;
  /** Offset just past this element (padding included). */
  next: number;
}

function readElement(b: Uint8Array, v: DataView, at: number, le: boolean, what: string): Element {
  if (at + 8 > b.length) throw new Error(`${KIND}: truncated at offset ${at} while reading ${what}`);
  const w0 = v.getUint32(at, le);
  if (w0 >>> 16 !== 0) {
    // small data element: the 4 data bytes follow in the same 8-byte tag
    const size = w0 >>> 16;
    if (size > 4) throw new Error(`${KIND}: bad small element size ${size} at offset ${at} (${what})`);
    return { type: w0 & 0xffff, data: b.subarray(at + 4, at + 4 + size), next: at + 8 };
  }
  const size = v.getUint32(at + 4, le);
  const end = at + 8 + size;
  if (end > b.length) {
    throw new Error(`${KIND}: truncated — ${what} at offset ${at} declares ${size} bytes, ${b.length - at - 8} remain`);
  }
  const next = w0 === MI_COMPRESSED ? end : Math.min(b.length, at + 8 + Math.ceil(size / 8) * 8);
  return { type: w0, data: b.subarray(at + 8, end), next };
}

function numbers(e: Element, le: boolean, what: string): (number | bigint)[] {
  const t = MI_TYPES[e.type];
  if (!t) throw new Error(`${KIND}: ${what} has non-numeric element type ${e.type}`);
  const v = new DataView(e.data.buffer, e.data.byteOffset, e.data.byteLength);
  const out: (number | bigint)[] = [];
  for (let o = 0; o + t[0] <= e.data.length; o += t[0]) out.push(t[1](v, o, le));
  return out;
}

/** Converts a real-part element to the array class's typed array. */
function convert(e: Element, cls: [string, Ctor, number], count: number, le: boolean, name: string): MatData {
  const t = MI_TYPES[e.type];
  if (!t) throw new Error(`${KIND}: variable '${name}' has real-part type ${e.type}, not numeric`);
  if (e.data.length !== count * t[0]) {
    throw new Error(`${KIND}: variable '${name}' has ${e.data.length / t[0]} values, dims need ${count}`);
  }
  const out = new cls[1](count);
  if (e.type === cls[2] && (le || t[0] === 1)) {
    // same type, native byte order: one copy (the SVHN pixel array is 225 MB)
    new Uint8Array(out.buffer).set(e.data);
    return out;
  }
  const v = new DataView(e.data.buffer, e.data.byteOffset, e.data.byteLength);
  const big = out instanceof BigInt64Array || out instanceof BigUint64Array;
  for (let i = 0; i < count; i++) {
    const x = t[1](v, i * t[0], le);
    (out as unknown as (number | bigint)[])[i] = big ? BigInt(x) : Number(x);
  }
  return out;
}

/** Parses one miMATRIX payload; returns undefined for classes we skip. */
function parseMatrix(b: Uint8Array, le: boolean): [string, MatVar] | undefined {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const flagsEl = readElement(b, v, 0, le, 'array flags');
  const flags = numbers(flagsEl, le, 'array flags').map(Number);
  const classId = flags[0] & 0xff;
  const complex = (flags[0] & 0x0800) !== 0;
  const dimsEl = readElement(b, v, flagsEl.next, le, 'dimensions');
  const dims = numbers(dimsEl, le, 'dimensions').map(Number);
  if (dims.some((n) => n < 0)) throw new Error(`${KIND}: negative dimension in [${dims.join(', ')}] (a corrupt file?)`);
  const nameEl = readElement(b, v, dimsEl.next, le, 'array name');
  const name = printable(new TextDecoder().decode(nameEl.data));
  const cls = CLASSES[classId];
  // char/cell/struct/sparse/object arrays and complex numbers are not needed
  // for image datasets; skip them rather than fail on an unrelated variable.
  if (!cls || complex) return undefined;
  const real = readElement(b, v, nameEl.next, le, `real part of '${name}'`);
  const count = dims.reduce((a, c) => a * c, 1);
  return [name, { dims, data: convert(real, cls, count, le, name), class: cls[0] }];
}

function parseElements(b: Uint8Array, le: boolean, out: Map<string, MatVar>, nested = false): void {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 0;
  while (at < b.length) {
    const e = readElement(b, v, at, le, 'data element');
    if (e.type === MI_COMPRESSED) {
      // Writers never nest them; nesting would let a small file inflate by 1000× per level.
      if (nested) throw new Error(`${KIND}: miCOMPRESSED element inside another at offset ${at} (a corrupt file?)`);
      let inflated: Uint8Array;
      try {
        inflated = unzlibSync(e.data);
      } catch (err) {
        throw new Error(`${KIND}: corrupt miCOMPRESSED element at offset ${at} (${oneLine((err as Error).message)})`);
      }
      parseElements(inflated, le, out, true);
    } else if (e.type === MI_MATRIX && e.data.length > 0) {
      const r = parseMatrix(e.data, le);
      if (r) out.set(r[0], r[1]);
    }
    at = e.next;
  }
}

/** All numeric variables of a level-5 MAT file, by name. */
export function parseMatV5(bytes: Uint8Array): Map<string, MatVar> {
  if (bytes.length < 128) throw new Error(`${KIND}: only ${bytes.length} bytes, shorter than the 128-byte header`);
  const text = new TextDecoder('latin1').decode(bytes.subarray(0, 116));
  if (text.startsWith('MATLAB 7.3')) {
    throw new Error(`${KIND}: this is a v7.3 (HDF5) MAT file; re-save with -v7 or convert it`);
  }
  const endian = String.fromCharCode(bytes[126], bytes[127]);
  if (endian !== 'IM' && endian !== 'MI') {
    throw new Error(`${KIND}: bad endian indicator ${shown(endian)} at byte 126 (not a level-5 MAT file?)`);
  }
  const le = endian === 'IM';
  const version = new DataView(bytes.buffer, bytes.byteOffset).getUint16(124, le);
  if (version !== 0x0100) throw new Error(`${KIND}: version 0x${version.toString(16)}, expected 0x0100`);
  const out = new Map<string, MatVar>();
  parseElements(bytes.subarray(128), le, out);
  return out;
}

export interface Svhn {
  /** N×3072 uint8 pixels, CHW per image (channel c, row r, col x at c*1024 + r*32 + x). */
  images: Uint8Array;
  /** N labels in 0..9 (SVHN's label 10 is digit 0). */
  labels: Uint8Array;
  N: number;
}

/** SVHN cropped-digits file: X uint8 32×32×3×N (column-major), y N×1 in 1..10. */
export function svhnFromMat(bytes: Uint8Array): Svhn {
  const vars = parseMatV5(bytes);
  const X = vars.get('X');
  const y = vars.get('y');
  if (!X || !y) throw new Error(`${KIND}: SVHN needs variables 'X' and 'y', found [${[...vars.keys()].join(', ')}]`);
  const [H, W, C, N = 1] = X.dims;
  if (X.class !== 'uint8' || H !== 32 || W !== 32 || C !== 3 || X.dims.length > 4) {
    throw new Error(`${KIND}: SVHN 'X' is ${X.class} [${X.dims.join('×')}], expected uint8 32×32×3×N`);
  }
  if (y.data.length !== N) throw new Error(`${KIND}: SVHN 'y' has ${y.data.length} labels for ${N} images`);
  // MATLAB X(r, c, ch, n) sits at r + 32c + 1024ch + 3072n (column-major);
  // CHW wants r*32 + c within each channel plane: a 32×32 transpose per plane.
  const src = X.data as Uint8Array;
  const images = new Uint8Array(N * 3072);
  for (let plane = 0; plane < N * 3; plane++) {
    const base = plane * 1024;
    for (let c = 0; c < 32; c++) {
      for (let r = 0; r < 32; r++) images[base + r * 32 + c] = src[base + c * 32 + r];
    }
  }
  const labels = new Uint8Array(N);
  for (let n = 0; n < N; n++) {
    const l = Number(y.data[n]);
    if (!Number.isInteger(l) || l < 1 || l > 10) throw new Error(`${KIND}: SVHN label ${n} is ${l}, expected 1..10`);
    labels[n] = l % 10; // 10 means digit 0
  }
  return { images, labels, N };
}
