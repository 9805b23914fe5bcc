// NumPy .npz (np.savez / np.savez_compressed) → the engine's Dataset; pure:
// bytes in, no fs. An .npz is a zip of .npy files, stored or deflated. The
// zip directory is read here with every offset and size checked against the
// file, deflated members are inflated by fflate into a buffer of the size the
// directory announces, and every member's CRC-32 is verified, so a corrupt or
// truncated file gives a one-line error and never different numbers.
//
// Keys are Keras-style: x_train, y_train and optionally x_test, y_test.
//   x: (N, d) | (N, H, W) → one channel, (1, H, W) | (N, C, H, W) channels first.
//   y: integer (N,) or (N, 1) → class labels: one-hot targets, c = max label + 1
//      over both splits; float (N,) or (N, c) → regression targets as given.
// Without x_test/y_test the test split is the training split (the same object,
// as the Chebyshev sets do). Values are used exactly as stored (f4 bit for bit;
// f8 and integers rounded to float32) unless `standardize` asks for per-feature
// standardisation with training-set statistics.
import { inflateSync } from 'fflate';
import type { Dataset, Split } from '../synthetic.js';
import { oneHot, type FeatureStats } from '../preprocess.js';
import { isNpy, parseNpy, shapeString, type NpyArray } from './npy-read.js';
import { printable } from './shown.js';

// ---- zip -------------------------------------------------------------------
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

interface ZipEntry { name: string; method: number; flags: number; crc: number; csize: number; usize: number; local: number }

export interface ZipReader {
  /** Member names, in directory order. */
  names: string[];
  /** A member's bytes (decompressed, CRC-checked), or null when absent. */
  read(name: string): Uint8Array | null;
}

/** Deflate never expands more than ~1032:1; a directory that claims more is corrupt. */
const MAX_INFLATE_RATIO = 1032;

/** Opens a zip archive held in memory. Errors are one line, prefixed by `where`. */
export function openZip(bytes: Uint8Array, where: string): ZipReader {
  const bad = (what: string): never => { throw new Error(`${where}: ${what}`); };
  const notZip = (why: string): never => bad(`not a zip archive (${why}): an .npz is written by np.savez(path, x_train=…, y_train=…) or np.savez_compressed`);
  if (isNpy(bytes)) bad('this is a single .npy array, not an .npz: save the arrays with np.savez(path, x_train=…, y_train=…[, x_test=…, y_test=…])');
  if (bytes.length < 22) notZip(`only ${bytes.length} bytes`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => v.getUint16(o, true), u32 = (o: number) => v.getUint32(o, true);
  const u64 = (o: number) => {
    const x = u32(o) + u32(o + 4) * 2 ** 32;
    return Number.isSafeInteger(x) ? x : Infinity;
  };
  // End of central directory: the last signature within the final 22 + 65535 bytes.
  let eocd = -1;
  for (let p = bytes.length - 22; p >= Math.max(0, bytes.length - 22 - 65535); p--) {
    if (u32(p) === 0x06054b50) { eocd = p; break; }
  }
  if (eocd < 0) notZip(bytes[0] === 0x1f && bytes[1] === 0x8b ? 'it is gzip' : 'no end-of-directory record: truncated, or another format');
  let count = u16(eocd + 10), cdSize = u32(eocd + 12), cdOff = u32(eocd + 16);
  if (u16(eocd + 8) !== count) bad(`corrupt zip end record (${u16(eocd + 8)} entries on this disk, ${count} in all): multi-disk archives are not read`);
  if (count === 0xffff || cdSize === 0xffffffff || cdOff === 0xffffffff) {
    // ZIP64: the locator sits right before the end record and points at the ZIP64 end record.
    const loc = eocd - 20;
    if (loc < 0 || u32(loc) !== 0x07064b50) bad('truncated or corrupt zip (ZIP64 locator missing)');
    const z = u64(loc + 8);
    if (!(z + 56 <= loc) || u32(z) !== 0x06064b50) bad('truncated or corrupt zip (ZIP64 end record missing)');
    count = u64(z + 32); cdSize = u64(z + 40); cdOff = u64(z + 48);
  }
  if (!(cdOff + cdSize <= eocd) || count > cdSize / 46) bad(`truncated or corrupt zip (the directory of ${count} entries at ${cdOff}+${cdSize} does not fit the ${bytes.length}-byte file)`);
  const entries: ZipEntry[] = [];
  let p = cdOff;
  const end = cdOff + cdSize;
  for (let k = 0; k < count; k++) {
    if (p + 46 > end || u32(p) !== 0x02014b50) bad(`corrupt zip directory (entry ${k + 1} of ${count})`);
    const nlen = u16(p + 28), xlen = u16(p + 30), clen = u16(p + 32);
    if (p + 46 + nlen + xlen + clen > end) bad(`corrupt zip directory (entry ${k + 1} of ${count} overruns it)`);
    const e: ZipEntry = {
      name: printable(new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nlen)), 200),
      flags: u16(p + 8), method: u16(p + 10), crc: u32(p + 16), csize: u32(p + 20), usize: u32(p + 24), local: u32(p + 42),
    };
    // ZIP64 extra field (id 1): the 64-bit values of whichever fields read 0xFFFFFFFF, in this order.
    if (e.usize === 0xffffffff || e.csize === 0xffffffff || e.local === 0xffffffff) {
      let x = p + 46 + nlen;
      const xend = x + xlen;
      while (x + 4 <= xend && u16(x) !== 1) x += 4 + u16(x + 2);
      if (x + 4 > xend) bad(`corrupt zip directory (${e.name}: ZIP64 sizes missing)`);
      let f = x + 4;
      const fend = Math.min(xend, f + u16(x + 2));
      for (const key of ['usize', 'csize', 'local'] as const) {
        if (e[key] !== 0xffffffff) continue;
        if (f + 8 > fend) bad(`corrupt zip directory (${e.name}: ZIP64 sizes missing)`);
        e[key] = u64(f); f += 8;
      }
    }
    entries.push(e);
    p += 46 + nlen + xlen + clen;
  }
  // Every directory byte accounted for: a corrupt entry count cannot silently hide members.
  if (p !== end) bad(`corrupt zip directory (${count} entries end at byte ${p - cdOff} of ${cdSize})`);
  const read = (name: string): Uint8Array | null => {
    const e = entries.find((x) => x.name === name);
    if (!e) return null;
    const what = `member ${name}`;
    if (e.flags & 1) bad(`${what} is encrypted: save the arrays with np.savez`);
    if (!(e.local + 30 <= bytes.length) || u32(e.local) !== 0x04034b50) bad(`truncated or corrupt zip (${what}: no local header at offset ${e.local})`);
    const start = e.local + 30 + u16(e.local + 26) + u16(e.local + 28);
    if (!(start + e.csize <= bytes.length)) bad(`truncated file: ${what} needs ${e.csize} bytes at offset ${start}, the file has ${bytes.length} in all`);
    const raw = bytes.subarray(start, start + e.csize);
    let out: Uint8Array;
    if (e.method === 0) {
      if (e.usize !== e.csize) bad(`corrupt zip directory (${what} is stored with ${e.csize} bytes but says ${e.usize})`);
      out = raw;
    } else if (e.method === 8) {
      if (e.usize > e.csize * MAX_INFLATE_RATIO + 1024) bad(`corrupt zip directory (${what}: ${e.usize} bytes cannot inflate from ${e.csize})`);
      try { out = inflateSync(raw, { out: new Uint8Array(e.usize) }); } catch (err) {
        return bad(`corrupt or truncated deflate data in ${what} (${(err as Error).message})`);
      }
      if (out.length !== e.usize) bad(`corrupt or truncated deflate data in ${what} (${out.length} of ${e.usize} bytes)`);
    } else {
      return bad(`${what} uses zip compression method ${e.method}; np.savez (stored) and np.savez_compressed (deflate) are read`);
    }
    if (crc32(out) !== e.crc) bad(`${what} fails its CRC-32 check: the file is corrupt (copy it again)`);
    return out;
  };
  return { names: entries.map((e) => e.name), read };
}

// ---- arrays → Dataset ------------------------------------------------------
export interface NpzOptions {
  /** Standardise each input feature with the training split's mean and (population) std. */
  standardize?: boolean;
}

/** The largest label taken: classes = max label + 1 one-hot columns. */
export const MAX_CLASSES = 65536;

const isFloat = (a: NpyArray) => a.dtype === 'f4' || a.dtype === 'f8';
const isBig = (a: NpyArray) => a.dtype === 'i8' || a.dtype === 'u8';

function indexString(name: string, shape: number[], flat: number): string {
  const idx: number[] = [];
  for (let k = shape.length - 1; k >= 0; k--) { idx.unshift(flat % shape[k]); flat = Math.floor(flat / shape[k]); }
  return `${name}[${idx.join(', ')}]`;
}

/** Float32 copy of the values (the array itself for f4); NaN, ±inf and float32 overflow are refused. */
function toFloat32(a: NpyArray, name: string, where: string): Float32Array {
  const src = a.data;
  if (isFloat(a)) {
    const f = src as Float32Array | Float64Array;
    for (let i = 0; i < f.length; i++) {
      if (!Number.isFinite(f[i])) throw new Error(`${where}: ${name} holds ${f[i]} at ${indexString(name, a.shape, i)} (the first non-finite value): remove or replace NaN and infinite values before saving`);
    }
    if (f instanceof Float32Array) return f;
  }
  const out = new Float32Array(src.length);
  if (isBig(a)) {
    const b = src as BigInt64Array | BigUint64Array;
    for (let i = 0; i < b.length; i++) out[i] = Number(b[i]);
  } else {
    out.set(src as Exclude<typeof src, BigInt64Array | BigUint64Array>);
  }
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw new Error(`${where}: ${name} holds ${Number(src[i])} at ${indexString(name, a.shape, i)}, beyond float32's range: rescale it before saving`);
  }
  return out;
}

/** Integer labels; negative or huge ones are refused. */
function toLabels(a: NpyArray, name: string, where: string): Int32Array {
  const out = new Int32Array(a.data.length);
  for (let i = 0; i < a.data.length; i++) {
    const y = Number(a.data[i]);
    if (y < 0) throw new Error(`${where}: ${name} holds the label ${y} at ${indexString(name, a.shape, i)}: class labels must be 0, 1, …, c − 1`);
    if (y >= MAX_CLASSES) throw new Error(`${where}: ${name} holds the label ${a.data[i]} at ${indexString(name, a.shape, i)}: labels up to ${MAX_CLASSES - 1} are taken (c = max label + 1); regression targets are float (y.astype(np.float32))`);
    out[i] = y;
  }
  return out;
}

/** The per-example input shape: [d], [1, H, W] or [C, H, W]. */
function exampleShape(x: NpyArray, name: string, where: string): number[] {
  const s = x.shape;
  if (s.length === 2) return [s[1]];
  if (s.length === 3) return [1, s[1], s[2]];
  if (s.length === 4) return s.slice(1);
  const hint = s.length === 1 ? `; one feature per example is ${name}[:, None]` : '';
  throw new Error(`${where}: ${name} has shape ${shapeString(s)}: expected (N, d), (N, H, W) or (N, C, H, W) — channels first: x.transpose(0, 3, 1, 2) for (N, H, W, C)${hint}`);
}

/** Per-feature mean and population std (two passes, float64); std 0 for a constant feature. */
export function floatFeatureStats(X: Float32Array, N: number, d: number): FeatureStats {
  const mean = new Float64Array(d), std = new Float64Array(d);
  for (let i = 0; i < N; i++) for (let j = 0; j < d; j++) mean[j] += X[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= N;
  for (let i = 0; i < N; i++) for (let j = 0; j < d; j++) { const t = X[i * d + j] - mean[j]; std[j] += t * t; }
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j] / N);
  return { mean, std };
}

/** (x − mean)/std per feature, as datasets/preprocess.ts standardises pixels; a constant feature is only centred. */
export function standardizeFloat(X: Float32Array, N: number, d: number, stats: FeatureStats): Float32Array {
  const out = new Float32Array(N * d);
  const inv = stats.std.map((s) => (s > 0 ? 1 / s : 1));
  for (let i = 0; i < N; i++) for (let j = 0; j < d; j++) out[i * d + j] = (X[i * d + j] - stats.mean[j]) * inv[j];
  return out;
}

export interface NpzDataset extends Dataset {
  shape: number[];
}

/**
 * An .npz's bytes → a Dataset. `where` names the file in errors and in
 * `source` (the absolute path on Node). Errors are one line: what was found
 * and the fix.
 */
export function npzDataset(id: string, bytes: Uint8Array, where: string, o: NpzOptions = {}): NpzDataset {
  const zip = openZip(bytes, where);
  const keys = zip.names.map((n) => n.replace(/\.npy$/, ''));
  const found = keys.length ? keys.join(', ') : 'none';
  const save = 'np.savez(path, x_train=X, y_train=Y[, x_test=…, y_test=…])';
  const has = (k: string) => zip.names.includes(`${k}.npy`);
  for (const k of ['x_train', 'y_train']) if (!has(k)) throw new Error(`${where}: no ${k} in the .npz (keys found: ${found}): save it with ${save}`);
  const withTest = has('x_test') || has('y_test');
  if (withTest && !(has('x_test') && has('y_test'))) {
    throw new Error(`${where}: ${has('x_test') ? 'x_test without y_test' : 'y_test without x_test'} (keys found: ${found}): save both, or neither to test on the training split`);
  }
  const load = (k: string): NpyArray => {
    const a = parseNpy(zip.read(`${k}.npy`)!, k);
    if (a.shape.length === 0) throw new Error(`${where}: ${k} is a scalar: it needs one row per example`);
    if (a.shape.some((n) => n === 0)) throw new Error(`${where}: ${k} is empty (shape ${shapeString(a.shape)})${k.endsWith('test') ? ': leave x_test and y_test out to test on the training split' : ': the training split needs at least one example'}`);
    return a;
  };
  const parse = (k: string): NpyArray => {
    try { return load(k); } catch (e) {
      const msg = (e as Error).message;
      throw new Error(msg.startsWith(where) ? msg : `${where}: ${msg}`);
    }
  };
  const xTr = parse('x_train'), yTr = parse('y_train');
  const xTe = withTest ? parse('x_test') : null, yTe = withTest ? parse('y_test') : null;

  for (const [k, x] of [['x_train', xTr], ['x_test', xTe]] as const) {
    if (x && x.dtype === 'b1') throw new Error(`${where}: ${k} is boolean: save the inputs as numbers (${k}.astype(np.float32))`);
  }
  const shape = exampleShape(xTr, 'x_train', where);
  if (xTe) {
    const st = exampleShape(xTe, 'x_test', where);
    if (st.join() !== shape.join()) throw new Error(`${where}: x_test's examples have shape ${shapeString(st)}, x_train's have ${shapeString(shape)}: save both splits with the same per-example shape`);
  }
  const d = shape.reduce((a, b) => a * b, 1);

  const classification = !isFloat(yTr);
  const targetsPer = (y: NpyArray, k: string): number => {
    const s = y.shape;
    if (!isFloat(y)) {
      if (s.length === 1 || (s.length === 2 && s[1] === 1)) return 1;
      throw new Error(`${where}: ${k} is ${y.descr} with shape ${shapeString(s)}: integer y is class labels, shape (N,) or (N, 1) (one-hot rows: ${k}.argmax(1); regression targets: float)`);
    }
    if (s.length === 1) return 1;
    if (s.length === 2) return s[1];
    throw new Error(`${where}: ${k} has shape ${shapeString(s)}: float y is regression targets, shape (N,) or (N, c)`);
  };
  const cTr = targetsPer(yTr, 'y_train');
  for (const [xk, x, yk, y] of [['x_train', xTr, 'y_train', yTr], ['x_test', xTe, 'y_test', yTe]] as const) {
    if (x && y && x.shape[0] !== y.shape[0]) throw new Error(`${where}: ${xk} has ${x.shape[0]} examples, ${yk} has ${y.shape[0]}: they must match row for row`);
  }
  if (yTe) {
    if (isFloat(yTe) !== !classification) {
      throw new Error(`${where}: y_train is ${yTr.descr} (${classification ? 'class labels' : 'regression targets'}), y_test is ${yTe.descr} (${classification ? 'regression targets' : 'class labels'}): save both as integers (classification) or both as floats (regression)`);
    }
    const cTe = targetsPer(yTe, 'y_test');
    if (!classification && cTe !== cTr) throw new Error(`${where}: y_test has ${cTe} targets per example, y_train has ${cTr}: they must agree`);
  }

  const XTr = toFloat32(xTr, 'x_train', where);
  const XTe = xTe ? toFloat32(xTe, 'x_test', where) : null;
  let train: Split, test: Split, c: number;
  if (classification) {
    const lTr = toLabels(yTr, 'y_train', where), lTe = yTe ? toLabels(yTe, 'y_test', where) : null;
    let max = 0;
    for (const l of [lTr, lTe]) if (l) for (let i = 0; i < l.length; i++) if (l[i] > max) max = l[i];
    c = max + 1;
    train = { X: XTr, Y: oneHot(lTr, c), N: xTr.shape[0], labels: lTr };
    test = lTe && XTe ? { X: XTe, Y: oneHot(lTe, c), N: xTe!.shape[0], labels: lTe } : train;
  } else {
    c = cTr;
    train = { X: XTr, Y: toFloat32(yTr, 'y_train', where), N: xTr.shape[0] };
    test = XTe ? { X: XTe, Y: toFloat32(yTe!, 'y_test', where), N: xTe!.shape[0] } : train;
  }
  if (o.standardize) {
    const stats = floatFeatureStats(train.X, train.N, d);
    const std = (s: Split): Split => ({ ...s, X: standardizeFloat(s.X, s.N, d, stats) });
    const t = std(train);
    test = test === train ? t : std(test);
    train = t;
  }
  const source = `NumPy .npz ${where} (x_train ${shapeString(xTr.shape)} ${xTr.descr}, y_train ${shapeString(yTr.shape)} ${yTr.descr}` +
    (xTe ? `, x_test ${shapeString(xTe.shape)}, y_test ${shapeString(yTe!.shape)}` : ', no test split: test = train') +
    `; ${o.standardize ? 'standardised per feature with training-set mean and std' : 'values as given'})`;
  return { id, task: classification ? 'classification' : 'regression', d, c, train, test, source, shape };
}

/** SHA-256 of the bytes, lower-case hex, by WebCrypto (Node ≥ 20, Deno, browsers). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
