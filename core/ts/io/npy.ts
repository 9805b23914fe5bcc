// NumPy .npy (format 1.0) for float32 arrays that grow by rows: the header
// is padded to a fixed 128 bytes so a writer can rewrite the shape in place
// after appending rows, and `np.load` reads the file at any moment.
export const NPY_HEADER_BYTES = 128;

export function npyHeader(shape: number[], descr: '<f4' | '<f8' = '<f4'): Uint8Array {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const room = NPY_HEADER_BYTES - 10 - 1; // magic+version+len, trailing newline
  if (dict.length > room) throw new Error(`npy header too long for shape (${shape.join(', ')})`);
  dict = dict.padEnd(room, ' ') + '\n';
  const out = new Uint8Array(NPY_HEADER_BYTES);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0]);
  new DataView(out.buffer).setUint16(8, NPY_HEADER_BYTES - 10, true);
  out.set(new TextEncoder().encode(dict), 10);
  return out;
}

export function encodeNpy(data: Float32Array, shape: number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new Error(`npy: ${data.length} values do not fill shape (${shape.join(', ')})`);
  const out = new Uint8Array(NPY_HEADER_BYTES + data.byteLength);
  out.set(npyHeader(shape));
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), NPY_HEADER_BYTES);
  return out;
}

/** Header text for an error: quoted, control bytes escaped, cut short (a corrupt header can hold anything). */
const quoted = (text: string) => JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);

/**
 * Reads a float32 .npy as this module writes it (any header length, v1.0).
 * Bytes past the data are allowed: a writer appends rows before it rewrites
 * the shape. `where` names the file in errors.
 */
export function decodeNpy(bytes: Uint8Array, where = 'npy'): { data: Float32Array; shape: number[] } {
  if (bytes.length < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') {
    throw new Error(`${where}: not a .npy file (bad magic)`);
  }
  if (bytes[6] !== 1 || bytes[7] !== 0) throw new Error(`${where}: .npy format ${bytes[6]}.${bytes[7]}, only 1.0 is read here`);
  const hlen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(8, true);
  if (10 + hlen > bytes.length) throw new Error(`${where}: truncated .npy header (it says ${hlen} bytes, ${bytes.length - 10} remain)`);
  let header = '';
  for (const b of bytes.subarray(10, 10 + hlen)) header += String.fromCharCode(b);
  if (!/'descr':\s*'<f4'/.test(header)) throw new Error(`${where}: only little-endian float32 is supported (header ${quoted(header.trim())})`);
  if (!/'fortran_order':\s*False/.test(header)) throw new Error(`${where}: Fortran order is not supported (header ${quoted(header.trim())})`);
  const m = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!m) throw new Error(`${where}: header has no shape (header ${quoted(header.trim())})`);
  const parts = m[1].split(',').map((t) => t.trim());
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop(); // '(3,)' for one dimension
  // Each dimension is checked before the product sizes anything: '-1', '', '1e9' or 2^60 are corrupt.
  if (parts.some((t) => !/^\d{1,15}$/.test(t))) throw new Error(`${where}: header shape ${quoted(`(${m[1]})`)} is not a tuple of sizes`);
  const shape = parts.map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const have = bytes.length - 10 - hlen;
  if (!(4 * n <= have)) throw new Error(`${where}: file is truncated (${have} of ${4 * n} data bytes)`);
  const body = bytes.slice(10 + hlen, 10 + hlen + 4 * n);
  return { data: new Float32Array(body.buffer), shape };
}
