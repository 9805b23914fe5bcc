// NumPy .npy reader (format versions 1.0, 2.0 and 3.0), bytes in → typed
// array out; no fs, so it runs in a browser too. The writer for the run
// records is core/ts/io/npy.ts.
//
// Layout: magic "\x93NUMPY", major and minor version bytes, the header length
// (uint16 LE in v1, uint32 LE in v2/v3), then the header: a Python dict
// literal {'descr': '<f4', 'fortran_order': False, 'shape': (N, d), } padded
// with spaces and a newline (latin-1 in v1/v2, UTF-8 in v3), then the data.
// Only little-endian (or byte-order-free) numeric dtypes in C order are read.

import { shown } from './shown.js';

export type NpyDtype = 'f4' | 'f8' | 'i1' | 'u1' | 'i2' | 'u2' | 'i4' | 'u4' | 'i8' | 'u8' | 'b1';

export type NpyData =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

export interface NpyArray {
  /** The dtype as the header wrote it, e.g. '<f4', '|u1'. */
  descr: string;
  dtype: NpyDtype;
  shape: number[];
  /** Values in C order (b1 as 0/1 bytes). Always a fresh, aligned buffer. */
  data: NpyData;
}

const ITEM: Record<NpyDtype, number> = { f4: 4, f8: 8, i1: 1, u1: 1, i2: 2, u2: 2, i4: 4, u4: 4, i8: 8, u8: 8, b1: 1 };

export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && bytes[0] === 0x93 && String.fromCharCode(...bytes.subarray(1, 6)) === 'NUMPY';
}

export const shapeString = (shape: number[]): string => (shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`);

// ---- the header dict: a small Python literal parser ------------------------
type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue };

function parsePyLiteral(s: string): PyValue {
  let i = 0;
  const ws = () => { while (i < s.length && /\s/.test(s[i])) i++; };
  const fail = (what: string): never => { throw new Error(`${what} at character ${i}`); };
  const value = (depth: number): PyValue => {
    if (depth > 8) fail('nesting too deep');
    ws();
    const ch = s[i];
    if (ch === '{') {
      i++;
      const out: { [k: string]: PyValue } = {};
      for (;;) {
        ws();
        if (s[i] === '}') { i++; return out; }
        const k = value(depth + 1);
        if (typeof k !== 'string') fail('a dict key that is not a string');
        ws();
        if (s[i] !== ':') fail("expected ':'");
        i++;
        out[k as string] = value(depth + 1);
        ws();
        if (s[i] === ',') i++;
        else if (s[i] !== '}') fail("expected ',' or '}'");
      }
    }
    if (ch === '(' || ch === '[') {
      const close = ch === '(' ? ')' : ']';
      i++;
      const out: PyValue[] = [];
      for (;;) {
        ws();
        if (s[i] === close) { i++; return out; }
        out.push(value(depth + 1));
        ws();
        if (s[i] === ',') i++;
        else if (s[i] !== close) fail(`expected ',' or '${close}'`);
      }
    }
    if (ch === "'" || ch === '"') {
      const end = s.indexOf(ch, i + 1);
      if (end < 0) fail('unterminated string');
      const str = s.slice(i + 1, end);
      i = end + 1;
      return str;
    }
    const m = /^(True|False|None|-?\d+L?)/.exec(s.slice(i, i + 40));
    if (!m) return fail(`unexpected ${ch === undefined ? 'end' : `'${ch}'`}`);
    i += m[1].length;
    if (m[1] === 'True') return true;
    if (m[1] === 'False') return false;
    if (m[1] === 'None') return null;
    return Number(m[1].replace('L', ''));
  };
  const v = value(0);
  ws();
  if (i !== s.length) fail('trailing characters');
  return v;
}

/** The fix for a dtype this reader does not take. */
function dtypeFix(descr: string): string {
  if (/^>[fiu]\d$/.test(descr)) return `big-endian: save x.astype('<${descr.slice(1)}')`;
  return "save it as float32 (x.astype(np.float32)), float64, or an integer type ((u)int8/16/32/64)";
}

/**
 * Parses one .npy file. `name` prefixes every error (e.g. 'x_train'); errors
 * are one line: what was found, and the fix.
 */
export function parseNpy(bytes: Uint8Array, name = 'array'): NpyArray {
  if (!isNpy(bytes)) throw new Error(`${name}: not a .npy array (no \\x93NUMPY magic): was it written by np.save/np.savez?`);
  if (bytes.length < 10) throw new Error(`${name}: truncated .npy header (${bytes.length} bytes)`);
  const major = bytes[6], minor = bytes[7];
  if (![1, 2, 3].includes(major) || minor !== 0) throw new Error(`${name}: .npy format version ${major}.${minor} is not supported (1.0, 2.0, 3.0 are): save it again with a current NumPy`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw new Error(`${name}: truncated .npy header (${bytes.length} bytes)`);
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  if (start + hlen > bytes.length) throw new Error(`${name}: truncated .npy header (it says ${hlen} bytes, ${bytes.length - start} remain)`);
  // NumPy itself refuses headers over 10000 bytes unless told otherwise.
  if (hlen > 1 << 20) throw new Error(`${name}: .npy header length ${hlen} is implausible (a corrupt file?)`);
  const raw = bytes.subarray(start, start + hlen);
  let text = '';
  try {
    if (major === 3) text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    else for (const b of raw) text += String.fromCharCode(b);
  } catch {
    throw new Error(`${name}: .npy header is not valid UTF-8`);
  }
  let dict: PyValue;
  try { dict = parsePyLiteral(text); } catch (e) {
    throw new Error(`${name}: .npy header is not a NumPy header dict (${(e as Error).message}): ${JSON.stringify(text.trim().slice(0, 80))}`);
  }
  if (typeof dict !== 'object' || dict === null || Array.isArray(dict)) throw new Error(`${name}: .npy header is not a dict: ${JSON.stringify(text.trim().slice(0, 80))}`);
  const { descr, fortran_order: fortran, shape } = dict;
  if (typeof descr !== 'string') throw new Error(`${name}: dtype ${JSON.stringify(descr)} (a structured or record array) is not supported: save a plain numeric array`);
  if (typeof fortran !== 'boolean') throw new Error(`${name}: .npy header has no fortran_order flag`);
  if (!Array.isArray(shape) || shape.some((n) => typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)) {
    throw new Error(`${name}: .npy header has no valid shape (${JSON.stringify(shape)})`);
  }
  const dims = shape as number[];
  const m = /^([<|=])([fiub])(\d)$/.exec(descr);
  const dtype = (m ? `${m[2]}${m[3]}` : '') as NpyDtype;
  if (!m || !(dtype in ITEM) || (m[1] === '=' && ITEM[dtype] > 1)) throw new Error(`${name}: dtype ${/^[ -~]{1,20}$/.test(descr) ? descr : shown(descr)} is not supported: ${dtypeFix(descr)}`);
  if (fortran && dims.filter((n) => n !== 1).length > 1) {
    throw new Error(`${name}: the array is in Fortran order (fortran_order True): save np.ascontiguousarray(${name}) instead`);
  }
  const count = dims.reduce((a, b) => a * b, 1);
  const nbytes = count * ITEM[dtype];
  const dataStart = start + hlen;
  const have = bytes.length - dataStart;
  if (have < nbytes) throw new Error(`${name}: truncated data: shape ${shapeString(dims)} ${descr} needs ${nbytes} bytes, the file has ${have}`);
  if (have > nbytes) throw new Error(`${name}: ${have - nbytes} bytes after the ${shapeString(dims)} ${descr} data: the header's shape does not match the file`);
  const buf = bytes.slice(dataStart, dataStart + nbytes).buffer;
  const data: NpyData = {
    f4: () => new Float32Array(buf), f8: () => new Float64Array(buf), i1: () => new Int8Array(buf), u1: () => new Uint8Array(buf),
    i2: () => new Int16Array(buf), u2: () => new Uint16Array(buf), i4: () => new Int32Array(buf), u4: () => new Uint32Array(buf),
    i8: () => new BigInt64Array(buf), u8: () => new BigUint64Array(buf), b1: () => new Uint8Array(buf),
  }[dtype]();
  return { descr, dtype, shape: dims, data };
}
