// Seeded, deterministic byte mutators and a "clean outcome" check for fuzzing
// loaders. Every mutation is derived from (seed, index) alone, so a failure
// printed as "seed S #i" reproduces with `mutations(S, input, i + 1)` and taking
// the last one, whatever other mutations ran before it.

export interface Mutation {
  /** What was done, with its parameters (e.g. "forge-u32be@4=0xffffffff"). */
  kind: string;
  bytes: Uint8Array;
  /** The seed and index that regenerate exactly this mutation. */
  seed: number;
  index: number;
}

export interface MutationHints {
  /** Offsets of length/dimension/offset fields: forged integers go there more often than at random. */
  fields?: number[];
  /** Offsets where the structure changes (end of header, start of a member): truncations favour them. */
  boundaries?: number[];
}

/** mulberry32: tiny, fast and good enough to pick offsets; not the engine's Philox on purpose (no core import). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Mixing seed and index (rather than one stream for the whole run) is what lets
// a single mutation be regenerated from its index.
function streamFor(seed: number, index: number): () => number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return mulberry32(h ^ (h >>> 15));
}

type Rng = () => number;
const int = (r: Rng, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[int(r, xs.length)];

// The values a forged header is most likely to break a loader with: sign bit,
// all ones (also -1), beyond 2^32 and beyond exact doubles, and zero.
const FORGED_64: readonly bigint[] = [2n ** 31n, 2n ** 32n - 1n, 2n ** 53n, 0n, 2n ** 64n - 1n, 2n ** 63n, 1n];
const FORGED_32: readonly number[] = [0x80000000, 0xffffffff, 0x7fffffff, 0, 0x00200000, 1, 0x10000];
const FORGED_TEXT: readonly string[] = ['2147483648', '4294967295', '9007199254740992', '0', '-1', '1e400', '99999999999999999999999', ''];

function offsetFor(r: Rng, len: number, width: number, hints: MutationHints): number {
  const fields = hints.fields?.filter((o) => o >= 0 && o < len) ?? [];
  if (fields.length > 0 && r() < 0.7) return Math.min(pick(r, fields), Math.max(0, len - width));
  return int(r, Math.max(1, len - width + 1));
}

function forgeInt(r: Rng, src: Uint8Array, hints: MutationHints): [string, Uint8Array] {
  const out = src.slice();
  const wide = r() < 0.5, le = r() < 0.5, width = wide ? 8 : 4;
  if (out.length < width) return ['forge-skipped(short)', out];
  const at = offsetFor(r, out.length, width, hints);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (wide) {
    const v = pick(r, FORGED_64);
    dv.setBigUint64(at, v, le);
    return [`forge-u64${le ? 'le' : 'be'}@${at}=0x${v.toString(16)}`, out];
  }
  const v = pick(r, FORGED_32);
  dv.setUint32(at, v, le);
  return [`forge-u32${le ? 'le' : 'be'}@${at}=0x${v.toString(16)}`, out];
}

// Text headers (npy's dict, pickle's opcodes with decimal args) carry their
// sizes as digits: replace one run of digits with a hostile number.
function forgeText(r: Rng, src: Uint8Array): [string, Uint8Array] {
  const runs: [number, number][] = [];
  for (let i = 0; i < src.length && runs.length < 256; i++) {
    if (src[i] >= 0x30 && src[i] <= 0x39) {
      let j = i;
      while (j < src.length && src[j] >= 0x30 && src[j] <= 0x39) j++;
      runs.push([i, j]);
      i = j;
    }
  }
  if (runs.length === 0) return flip(r, src);
  const [a, b] = pick(r, runs);
  const text = pick(r, FORGED_TEXT);
  const rep = new TextEncoder().encode(text);
  const out = new Uint8Array(src.length - (b - a) + rep.length);
  out.set(src.subarray(0, a));
  out.set(rep, a);
  out.set(src.subarray(b), a + rep.length);
  return [`forge-text@${a}="${text}"`, out];
}

function truncate(r: Rng, src: Uint8Array, hints: MutationHints): [string, Uint8Array] {
  const marks = [...(hints.boundaries ?? []), ...(hints.fields ?? [])].filter((o) => o >= 0 && o <= src.length);
  let at: number;
  if (marks.length > 0 && r() < 0.6) at = Math.max(0, Math.min(src.length - 1, pick(r, marks) + int(r, 5) - 2));
  else at = int(r, Math.max(1, src.length));
  return [`truncate@${at}`, src.slice(0, at)];
}

function flip(r: Rng, src: Uint8Array): [string, Uint8Array] {
  const out = src.slice();
  if (out.length === 0) return ['flip-skipped(empty)', out];
  const n = 1 + int(r, 8), at: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = int(r, out.length), bit = int(r, 8);
    out[i] ^= 1 << bit;
    at.push(i);
  }
  return [`bitflip@${at.join(',')}`, out];
}

function overwrite(r: Rng, src: Uint8Array): [string, Uint8Array] {
  const out = src.slice();
  if (out.length === 0) return ['overwrite-skipped(empty)', out];
  const n = 1 + int(r, 8), start = int(r, out.length);
  for (let k = 0; k < n && start + k < out.length; k++) out[start + k] = r() < 0.5 ? pick(r, [0, 0xff, 0x7f, 0x80]) : int(r, 256);
  return [`overwrite@${start}+${n}`, out];
}

function append(r: Rng, src: Uint8Array): [string, Uint8Array] {
  const n = 1 + int(r, 64);
  const out = new Uint8Array(src.length + n);
  out.set(src);
  for (let k = 0; k < n; k++) out[src.length + k] = int(r, 256);
  return [`append+${n}`, out];
}

function duplicate(r: Rng, src: Uint8Array): [string, Uint8Array] {
  if (src.length === 0) return ['duplicate-skipped(empty)', src.slice()];
  const a = int(r, src.length), n = 1 + int(r, Math.min(64, src.length - a)), at = int(r, src.length + 1);
  const out = new Uint8Array(src.length + n);
  out.set(src.subarray(0, at));
  out.set(src.subarray(a, a + n), at);
  out.set(src.subarray(at), at + n);
  return [`duplicate[${a},${a + n})@${at}`, out];
}

function one(r: Rng, src: Uint8Array, hints: MutationHints): [string, Uint8Array] {
  const u = r();
  if (u < 0.16) return truncate(r, src, hints);
  if (u < 0.32) return flip(r, src);
  if (u < 0.44) return overwrite(r, src);
  if (u < 0.68) return forgeInt(r, src, hints);
  if (u < 0.76) return forgeText(r, src);
  if (u < 0.84) return append(r, src);
  return duplicate(r, src);
}

/**
 * `count` mutated copies of `input` (never modified), deterministic in `seed`.
 * About one in six stacks two or three mutations, since loaders often
 * survive each fault alone but not a forged length next to a truncation.
 */
export function* mutations(seed: number, input: Uint8Array, count: number, hints: MutationHints = {}): Iterable<Mutation> {
  for (let index = 0; index < count; index++) {
    const r = streamFor(seed, index);
    const steps = r() < 0.17 ? 2 + int(r, 2) : 1;
    let bytes = input, kinds: string[] = [];
    for (let s = 0; s < steps; s++) {
      const [kind, out] = one(r, bytes, hints);
      kinds.push(kind);
      bytes = out;
    }
    yield { kind: kinds.join('+'), bytes, seed, index };
  }
}

/** The first bytes as hex, for a failure message short enough to read. */
export function hexPreview(bytes: Uint8Array, n = 24): string {
  const head = Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `${bytes.length} bytes: ${head}${bytes.length > n ? ' …' : ''}`;
}

export interface CleanOutcomeOptions {
  /** Time bound: slower than this is a failure (a loader looping or allocating from a forged header). */
  ms: number;
  /** What is being fed in; named in the failure so it reproduces. */
  mutation?: Mutation;
  /** Free-form context, e.g. the format. */
  label?: string;
  /** A clean error must also contain this (e.g. the file's name, where the loader knows it). */
  mustMention?: string;
}

const NATIVE_SUBCLASSES = ['TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError', 'AggregateError'];

/** Why `e` is not a clean refusal, or null when it is one (a plain Error with a one-line message). */
export function crashReason(e: unknown): string | null {
  if (!(e instanceof Error)) return `threw a non-Error: ${String(e).slice(0, 120)}`;
  const name = e.constructor?.name ?? e.name;
  if (NATIVE_SUBCLASSES.includes(name) || NATIVE_SUBCLASSES.includes(e.name)) return `${e.name}: ${e.message.slice(0, 200)}`;
  if (typeof e.message !== 'string' || e.message.trim() === '') return `Error with an empty message (stack only): ${(e.stack ?? '').split('\n')[1]?.trim() ?? ''}`;
  if (/[\r\n]/.test(e.message)) return `multi-line message: ${JSON.stringify(e.message.slice(0, 200))}`;
  return null;
}

/**
 * Runs fn and resolves 'ok' (returned) or 'error' (a clean one-line Error).
 * Throws an assertion naming the mutation kind, seed, index and a hex preview
 * on a crash or when fn takes longer than opts.ms. A synchronous fn that never
 * returns cannot be interrupted here; the time bound catches the slow-but-
 * finishing cases (huge allocations, quadratic scans) and async hangs.
 */
export async function expectCleanOutcome(fn: () => unknown | Promise<unknown>, opts: CleanOutcomeOptions): Promise<'ok' | 'error'> {
  const m = opts.mutation;
  const where = [opts.label, m ? `kind ${m.kind}, seed ${m.seed} #${m.index}, ${hexPreview(m.bytes)}` : undefined]
    .filter(Boolean).join('; ');
  const fail = (why: string): never => {
    const err = new Error(`fuzz: ${why} (${where || 'no mutation given'})`);
    err.name = 'FuzzFailure';
    throw err;
  };
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let outcome: 'ok' | 'error';
  try {
    const ret = fn();
    if (ret && typeof (ret as Promise<unknown>).then === 'function') {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { fuzzTimeout: true })), opts.ms);
      });
      await Promise.race([ret, timeout]);
    }
    outcome = 'ok';
  } catch (e) {
    if ((e as { fuzzTimeout?: boolean }).fuzzTimeout) fail(`did not finish within ${opts.ms} ms`);
    const why = crashReason(e);
    if (why) fail(`crash: ${why}`);
    if (opts.mustMention && !(e as Error).message.includes(opts.mustMention)) {
      fail(`the error does not name ${opts.mustMention}: ${(e as Error).message.slice(0, 200)}`);
    }
    outcome = 'error';
  } finally {
    if (timer) clearTimeout(timer);
  }
  const took = performance.now() - t0;
  if (took > opts.ms) fail(`took ${took.toFixed(0)} ms, over the ${opts.ms} ms bound`);
  return outcome;
}
