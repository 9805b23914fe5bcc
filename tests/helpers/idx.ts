// IDX files in the published layout (big-endian magic 0x0803 images /
// 0x0801 labels, then the dimensions), for tests that need MNIST-shaped files.
export function idxFile(magic: number, dims: number[], data: Uint8Array): Uint8Array {
  const head = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  head.setUint32(0, magic);
  dims.forEach((d, i) => head.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(head.byteLength + data.length);
  out.set(new Uint8Array(head.buffer));
  out.set(data, head.byteLength);
  return out;
}
