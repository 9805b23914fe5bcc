// safetensors codec (https://github.com/huggingface/safetensors): u64 LE header
// length, JSON header, then a contiguous little-endian byte buffer.
// Pure: no fs / Node APIs, so it runs unchanged in browsers, Deno and Node.

export type Dtype = 'F32' | 'F64' | 'I64' | 'I32' | 'U8';
export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
export interface TensorEntry { name: string; dtype: Dtype; shape: number[]; data: TensorData }

const DTYPES: Record<Dtype, { size: number; make: (n: number) => TensorData; ctor: Function }> = {
  F32: { size: 4, make: (n) => new Float32Array(n), ctor: Float32Array },
  F64: { size: 8, make: (n) => new Float64Array(n), ctor: Float64Array },
  I64: { size: 8, make: (n) => new BigInt64Array(n), ctor: BigInt64Array },
  I32: { size: 4, make: (n) => new Int32Array(n), ctor: Int32Array },
  U8: { size: 1, make: (n) => new Uint8Array(n), ctor: Uint8Array },
};

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Byte copy (not DataView get/setFloat*) so NaN payloads survive; on a
// big-endian host each element's bytes are reversed in place afterwards.
function copyLE(src: Uint8Array, dst: Uint8Array, elemSize: number): void {
  dst.set(src);
  if (HOST_LE || elemSize === 1) return;
  for (let i = 0; i < dst.length; i += elemSize) dst.subarray(i, i + elemSize).reverse();
}

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function isShape(s: unknown): s is number[] {
  return Array.isArray(s) && s.every((d) => Number.isSafeInteger(d) && d >= 0);
}

export function encodeSafetensors(tensors: TensorEntry[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`safetensors: metadata value for "${k}" must be a string`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const t of tensors) {
    const info = DTYPES[t.dtype];
    if (!info) throw new Error(`safetensors: tensor "${t.name}" has unsupported dtype ${String(t.dtype)}`);
    if (!t.name || t.name === '__metadata__') throw new Error(`safetensors: invalid tensor name "${t.name}"`);
    if (Object.prototype.hasOwnProperty.call(header, t.name)) throw new Error(`safetensors: duplicate tensor name "${t.name}"`);
    if (!isShape(t.shape)) throw new Error(`safetensors: tensor "${t.name}" has invalid shape ${JSON.stringify(t.shape)}`);
    if (!(t.data instanceof info.ctor)) throw new Error(`safetensors: tensor "${t.name}" data is not a ${info.ctor.name} (dtype ${t.dtype})`);
    if (t.data.length !== numel(t.shape)) {
      throw new Error(`safetensors: tensor "${t.name}" has ${t.data.length} elements but shape [${t.shape}] needs ${numel(t.shape)}`);
    }
    const n = t.data.byteLength;
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const hlen = Math.ceil(json.length / 8) * 8; // keeps the data buffer 8-byte aligned
  const out = new Uint8Array(8 + hlen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hlen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + hlen);
  let p = 8 + hlen;
  for (const t of tensors) {
    copyLE(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), out.subarray(p, p + t.data.byteLength), DTYPES[t.dtype].size);
    p += t.data.byteLength;
  }
  return out;
}

/** A name from a file's header, for an error: quoted and escaped, so a corrupt header cannot break the line. */
function q(name: string): string {
  const s = JSON.stringify(name);
  return s.length > 82 ? `${s.slice(0, 81)}…"` : s;
}

export function decodeSafetensors(bytes: Uint8Array, where = 'safetensors'): { tensors: TensorEntry[]; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new Error(`${where}: file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const hlen64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (hlen64 > BigInt(bytes.length - 8)) {
    throw new Error(`${where}: header length ${hlen64} exceeds the ${bytes.length - 8} bytes after the length prefix (truncated file?)`);
  }
  const hlen = Number(hlen64);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + hlen)));
  } catch (e) {
    throw new Error(`${where}: header is not valid UTF-8 JSON: ${(e as Error).message.replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, 160)}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error(`${where}: header JSON is not an object`);

  const data = bytes.subarray(8 + hlen);
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${where}: __metadata__ is not an object`);
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw new Error(`${where}: __metadata__ value for ${q(k)} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const r = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof r !== 'object' || r === null) throw new Error(`${where}: header entry ${q(name)} is not an object`);
    if (typeof r.dtype !== 'string' || !Object.prototype.hasOwnProperty.call(DTYPES, r.dtype)) {
      throw new Error(`${where}: tensor ${q(name)} has unsupported dtype ${JSON.stringify(r.dtype)} (supported: ${Object.keys(DTYPES).join(', ')})`);
    }
    if (!isShape(r.shape)) throw new Error(`${where}: tensor ${q(name)} has invalid shape ${JSON.stringify(r.shape)}`);
    const off = r.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[0] > off[1]) {
      throw new Error(`${where}: tensor ${q(name)} has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const dtype = r.dtype as Dtype, shape = r.shape, [begin, end] = off as [number, number];
    const want = numel(shape) * DTYPES[dtype].size;
    if (end - begin !== want) {
      throw new Error(`${where}: tensor ${q(name)} spans ${end - begin} bytes but ${dtype} shape [${shape}] needs ${want}`);
    }
    entries.push({ name, dtype, shape, begin, end });
  }

  // Like the reference implementation: tensors must tile the data buffer
  // exactly, with no gaps, overlaps or trailing bytes.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of entries) {
    if (e.begin !== pos) {
      throw new Error(`${where}: tensor ${q(e.name)} starts at byte ${e.begin}, expected ${pos} (offsets must be contiguous, no gaps or overlaps)`);
    }
    pos = e.end;
  }
  if (pos !== data.length) {
    throw new Error(`${where}: tensors cover ${pos} bytes but the data buffer has ${data.length} (truncated or trailing bytes)`);
  }

  const tensors = entries.map(({ name, dtype, shape, begin, end }): TensorEntry => {
    const info = DTYPES[dtype];
    const out = info.make(numel(shape));
    // Copy into a fresh, aligned array: the source offset may not be a
    // multiple of the element size.
    copyLE(data.subarray(begin, end), new Uint8Array(out.buffer), info.size);
    return { name, dtype, shape, data: out };
  });
  return { tensors, metadata };
}
