// CIFAR-10 loaders, bytes in → arrays out. No fs/process: these also run in
// a browser on the bytes of a File the user picked.
//
// Both upstream distributions store each 32×32 RGB image as 3072 bytes:
// 1024 R, 1024 G, 1024 B, each plane row-major. That is already CHW, so the
// loaders copy pixel bytes verbatim and never reorder them.
import { BufferReader, NameRegistry, Parser } from 'pickleparser';
import { oneLine, shown } from './shown.js';

export interface Cifar10 {
  /** N×3072 uint8 pixels, CHW per image (plane c, row r, col x at c*1024 + r*32 + x). */
  images: Uint8Array;
  /** N labels in 0..9. */
  labels: Uint8Array;
  N: number;
}

export const CIFAR_PIXELS = 3072;
const RECORD = 1 + CIFAR_PIXELS;

function checkLabels(labels: Uint8Array, kind: string): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= 10) throw new Error(`${kind}: record ${i} has label ${labels[i]}, expected 0..9`);
  }
}

/**
 * Binary version (`cifar-10-batches-bin/data_batch_*.bin`, `test_batch.bin`):
 * a bare concatenation of 3073-byte records, 1 label byte then 3072 pixels.
 */
export function cifar10FromBinary(bytes: Uint8Array): Cifar10 {
  const kind = 'CIFAR-10 binary batch';
  if (bytes.length === 0 || bytes.length % RECORD !== 0) {
    throw new Error(
      `${kind}: length ${bytes.length} is not a positive multiple of the ${RECORD}-byte record ` +
        `(truncated file, or not the binary version?)`,
    );
  }
  const N = bytes.length / RECORD;
  const images = new Uint8Array(N * CIFAR_PIXELS);
  const labels = new Uint8Array(N);
  for (let n = 0; n < N; n++) {
    labels[n] = bytes[n * RECORD];
    images.set(bytes.subarray(n * RECORD + 1, (n + 1) * RECORD), n * CIFAR_PIXELS);
  }
  checkLabels(labels, kind);
  return { images, labels, N };
}

// ---- python version -------------------------------------------------------
//
// `cifar-10-batches-py/data_batch_1..5`, `test_batch` are Python 2 cPickle
// protocol-2 dicts {'data': ndarray uint8 N×3072, 'labels': [int], ...}.
// Python-2 `str` (dict keys and the array's raw bytes) is a BINSTRING /
// SHORT_BINSTRING opcode; pickleparser decodes those with
// TextDecoder('ascii'), which WHATWG maps to windows-1252 — that would mangle
// bytes 0x80..0x9F. So we hand the parser a reader that decodes them as
// latin1 (one char per byte, exactly what Python 3 `encoding='latin1'` does)
// and turn strings back into bytes with `pyBytes`.
//
// A numpy array pickles as
//   _reconstruct(ndarray, (0,), b'b')  then BUILD with
//   state = (1, shape, dtype('u1', 0, 1) [BUILD (3, '|', None, None, None, -1, -1, 0)], fortran, raw)
// so we register `_reconstruct` and `dtype` as constructors of small
// objects whose __setstate__ keeps what we need. Python 3 protocol ≥ 3
// writes raw bytes as BINBYTES (a Uint8Array here); Python 3 protocol 2
// writes them as `_codecs.encode(latin1_str, 'latin1')`, also registered;
// protocol 5 uses `_frombuffer(bytearray, dtype, shape, order)` instead.

class Latin1Reader extends BufferReader {
  override string(size: number, encoding: 'ascii' | 'utf-8'): string {
    const b = this.bytes(size);
    const data = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    if (encoding === 'utf-8') return new TextDecoder('utf-8').decode(data);
    return latin1(data);
  }
}

function latin1(b: Uint8Array): string {
  const parts: string[] = [];
  const CHUNK = 8192; // String.fromCharCode's argument count is bounded
  for (let i = 0; i < b.length; i += CHUNK) {
    parts.push(String.fromCharCode.apply(null, b.subarray(i, i + CHUNK) as unknown as number[]));
  }
  return parts.join('');
}

/** Python bytes/str (latin1 string or Uint8Array) → bytes; undefined otherwise. */
function pyBytes(v: unknown): Uint8Array | undefined {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') {
    const out = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c > 255) return undefined;
      out[i] = c;
    }
    return out;
  }
  return undefined;
}

class PyDtype {
  descr: string;
  endian = '|';
  constructor(descr: unknown) {
    const b = pyBytes(descr); // 'u1' arrives as str (py2/py3) or bytes
    this.descr = b ? latin1(b) : String(descr);
  }
  __setstate__(state: unknown[]): void {
    if (typeof state[1] === 'string') this.endian = state[1];
  }
}

class PyNdarray {
  shape: number[] = [];
  dtype?: PyDtype;
  fortran = false;
  raw?: Uint8Array;
  __setstate__(state: unknown[]): void {
    // (version, shape, dtype, is_fortran, raw); version is absent in very old numpy
    const s = state.length === 5 ? state.slice(1) : state;
    this.shape = (s[0] as unknown[]).map(Number);
    this.dtype = s[1] as PyDtype;
    this.fortran = Boolean(s[2]);
    this.raw = pyBytes(s[3]);
  }
}

function cifarNames(): NameRegistry {
  const r = new NameRegistry();
  const reconstruct = () => new PyNdarray();
  r.register('numpy.core.multiarray', '_reconstruct', reconstruct);
  r.register('numpy._core.multiarray', '_reconstruct', reconstruct); // numpy ≥ 2 module path
  // protocol 5 (numpy ≥ 1.16): _frombuffer(bytearray, dtype, shape, order)
  const frombuffer = (buf: unknown, dtype: PyDtype, shape: unknown[], order: unknown) => {
    const a = new PyNdarray();
    a.__setstate__([shape, dtype, order === 'F', buf]);
    return a;
  };
  r.register('numpy.core.numeric', '_frombuffer', frombuffer);
  r.register('numpy._core.numeric', '_frombuffer', frombuffer);
  r.register('numpy', 'dtype', (descr: unknown) => new PyDtype(descr));
  r.register('_codecs', 'encode', (s: unknown) => s); // latin1 string is our bytes form
  r.register('numpy', 'ndarray', function ndarray() {}); // class arg of _reconstruct, unused
  return r;
}

/** Looks up a dict entry whose key is b'name' / 'name' in any pickle form. */
function dictGet(dict: Map<unknown, unknown>, name: string): unknown {
  for (const [k, v] of dict) {
    const kb = pyBytes(k);
    if (kb && latin1(kb) === name) return v;
  }
  return undefined;
}

/** Python version: one pickled batch file (`data_batch_1`, ..., `test_batch`). */
export function cifar10FromPickle(bytes: Uint8Array): Cifar10 {
  const kind = 'CIFAR-10 python batch';
  if (bytes.length < 2 || bytes[0] !== 0x80) {
    throw new Error(`${kind}: not a protocol-2+ pickle (first byte ${bytes[0]}, expected 0x80)`);
  }
  let obj: unknown;
  try {
    const parser = new Parser({ nameResolver: cifarNames(), unpicklingTypeOfDictionary: 'Map' });
    obj = parser.read(new Latin1Reader(bytes));
  } catch (e) {
    throw new Error(`${kind}: could not unpickle (${oneLine(String((e as Error)?.message ?? e))})`);
  }
  if (!(obj instanceof Map)) throw new Error(`${kind}: pickle does not hold a dict`);
  const data = dictGet(obj, 'data');
  const labelList = dictGet(obj, 'labels');
  if (!(data instanceof PyNdarray)) throw new Error(`${kind}: no numpy array under key 'data'`);
  if (!Array.isArray(labelList)) throw new Error(`${kind}: no list under key 'labels'`);
  const [N, D] = data.shape;
  if (data.shape.length !== 2 || D !== CIFAR_PIXELS) {
    throw new Error(`${kind}: 'data' has shape (${data.shape.join(', ')}), expected (N, ${CIFAR_PIXELS})`);
  }
  if (data.dtype?.descr !== 'u1') throw new Error(`${kind}: 'data' dtype is ${shown(data.dtype?.descr)}, expected u1`);
  if (data.fortran) throw new Error(`${kind}: 'data' is Fortran-ordered, expected C order`);
  if (!data.raw || data.raw.length !== N * D) {
    throw new Error(`${kind}: 'data' holds ${data.raw?.length ?? 0} bytes, expected ${N * D}`);
  }
  if (labelList.length !== N) throw new Error(`${kind}: ${labelList.length} labels for ${N} images`);
  const labels = new Uint8Array(N);
  labelList.forEach((l, i) => {
    if (!Number.isInteger(l) || l < 0 || l >= 10) throw new Error(`${kind}: label ${i} is ${typeof l === 'number' ? l : shown(l)}, expected 0..9`);
    labels[i] = l;
  });
  return { images: new Uint8Array(data.raw), labels, N };
}
