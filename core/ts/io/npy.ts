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

export function decodeNpy(bytes: Uint8Array): { data: Float32Array; shape: number[] } {
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== 'NUMPY') throw new Error('not a .npy file (bad magic)');
  const hlen = new DataView(bytes.buffer, bytes.byteOffset).getUint16(8, true);
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + hlen));
  if (!header.includes("'descr': '<f4'")) throw new Error(`npy: only little-endian float32 is supported (${header.trim()})`);
  if (header.includes("'fortran_order': True")) throw new Error('npy: Fortran order is not supported');
  const m = /'shape': \(([^)]*)\)/.exec(header);
  if (!m) throw new Error('npy: header has no shape');
  const shape = m[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const body = bytes.slice(10 + hlen, 10 + hlen + 4 * n);
  if (body.length !== 4 * n) throw new Error(`npy: file is truncated (${body.length} of ${4 * n} data bytes)`);
  return { data: new Float32Array(body.buffer), shape };
}
