// What makes two runs the same run. A run directory is reused only when the
// run it holds was asked for with every number-changing setting equal, and
// default directory names carry a hash of those settings, so two runs that
// differ anywhere never share one. Ids are sanitised into path components
// that cannot leave the results folder.
import { DEFAULT_RUN, type RunConfig } from './config.js';
import { measureNamed } from '../measure/registry.js';
import { formatFreq } from '../measure/schedule.js';
import { makeOptimizer, OPTIMIZER_FLAGS, type OptimizerConfig, type OptimizerName } from '../optim/optimizers.js';

/**
 * Every RunConfig field changes the numbers or the records (physicalBatchSize
 * the summation order, checkpointEvery and nproj the files, eigFreq and the
 * goals the rows and the stop), so every one of them counts. The label is how
 * the user sets it on the command line.
 */
const LABELS: Record<keyof RunConfig, string> = {
  kind: 'command (train/flow)', dataset: 'DATASET', arch: 'ARCH', loss: 'LOSS', lr: 'LR', maxSteps: 'MAX_STEPS',
  tick: 'TICK', alpha: '--alpha', maxStepSize: '--max-step-size', opt: '--opt', batchSize: '--batch-size',
  seed: '--seed', datasetSeed: '--dataset-seed', physicalBatchSize: '--physical-batch-size', neigs: '--neigs',
  eigFreq: '--eig-freq', eigSolver: '--eig-solver', lambdaA: '--lambda-a', abridgedSize: '--abridged-size',
  accGoal: '--acc-goal', lossGoal: '--loss-goal', lrDrops: '--lr-drop', nproj: '--nproj', iterateFreq: '--iterate-freq',
  checkpointEvery: '--checkpoint-every', divergeLoss: '--diverge-loss', init: '--init', measures: '--<measure>',
  neigsAuto: '--neigs auto:F', testFreq: '--test-freq', initScale: '--init-scale', initScheme: '--init-scheme',
};

/**
 * Fields added after runs were recorded without them: at their default they
 * stay out of the canonical form, so the hash (and default directory) of
 * every run recorded before them is unchanged.
 */
const LATER_FIELDS: Partial<Record<keyof RunConfig, (v: unknown) => boolean>> = {
  neigsAuto: (v) => v === null || v === undefined,
  testFreq: (v) => v === undefined || formatFreq(v as RunConfig['testFreq']) === '1',
  initScale: (v) => v === undefined || v === 1,
  initScheme: (v) => v === undefined || v === 'default',
};

const OPT_LABELS: Record<keyof OptimizerConfig, string> = {
  name: '--opt', beta: '--beta', beta1: '--beta1', beta2: '--beta2', eps: '--eps', biasCorrection: '--no-bias-correction',
};

/**
 * The optimizer's hyper-parameters as they act: the ones it takes, defaults
 * filled in (an Adam run recorded without beta1 ran with 0.9).
 */
export function effectiveOptimizer(o: OptimizerConfig): Record<string, string | number | boolean> {
  let full: Record<string, unknown> = { ...o };
  try { full = { ...makeOptimizer(o).config }; } catch { /* an invalid recorded config: compare it as written */ }
  const out: Record<string, string | number | boolean> = { name: o.name };
  for (const k of OPTIMIZER_FLAGS[o.name as OptimizerName] ?? []) {
    if (full[k] !== undefined) out[k] = full[k] as number | boolean;
  }
  return out;
}

/**
 * The configuration in canonical form: absent fields (a run recorded before
 * the field existed) take their defaults, the optimizer its effective
 * hyper-parameters, drops are sorted; keys in a fixed order.
 */
export function canonicalConfig(c: RunConfig): Record<string, unknown> {
  const full = { ...DEFAULT_RUN, ...stripUndefined(c) } as RunConfig;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(LABELS).sort() as (keyof RunConfig)[]) {
    const v = full[k];
    if (LATER_FIELDS[k]?.(v)) continue;
    if (k === 'opt') out[k] = effectiveOptimizer(v as OptimizerConfig);
    else if (k === 'lrDrops') out[k] = [...((v as RunConfig['lrDrops']) ?? [])].sort((a, b) => a.step - b.step).map((d) => ({ step: d.step, lr: d.lr }));
    else if (k === 'measures') out[k] = canonicalMeasures(v as RunConfig['measures']);
    else if (k === 'testFreq') out[k] = formatFreq(v as RunConfig['testFreq']);
    else out[k] = v === undefined ? null : v;
  }
  return out;
}

export interface ConfigDifference {
  /** The command-line name: a flag (`--lr-drop`) or a positional (`LR`, `DATASET`). */
  flag: string;
  recorded: string;
  requested: string;
}

/** Every setting in which the requested run differs from the recorded one. */
export function configDifferences(recorded: RunConfig, requested: RunConfig): ConfigDifference[] {
  const a = canonicalConfig(recorded), b = canonicalConfig(requested);
  const diffs: ConfigDifference[] = [];
  const flow = requested.kind === 'flow';
  for (const k of Object.keys(LABELS) as (keyof RunConfig)[]) {
    if (k === 'opt') {
      const oa = a.opt as Record<string, unknown>, ob = b.opt as Record<string, unknown>;
      if (oa.name !== ob.name) { diffs.push({ flag: '--opt', recorded: show(oa.name), requested: show(ob.name) }); continue; }
      for (const ok of Object.keys(OPT_LABELS) as (keyof OptimizerConfig)[]) {
        if (ok !== 'name' && oa[ok] !== ob[ok]) diffs.push({ flag: OPT_LABELS[ok], recorded: show(oa[ok]), requested: show(ob[ok]) });
      }
      continue;
    }
    if (JSON.stringify(a[k]) === JSON.stringify(b[k])) continue;
    if (k === 'measures') {
      const ma = a[k] as Record<string, unknown>, mb = b[k] as Record<string, unknown>;
      for (const name of [...new Set([...Object.keys(ma), ...Object.keys(mb)])].sort()) {
        if (JSON.stringify(ma[name]) !== JSON.stringify(mb[name])) {
          diffs.push({ flag: `--${measureNamed(name).flag}`, recorded: showMeasure(ma[name]), requested: showMeasure(mb[name]) });
        }
      }
      continue;
    }
    const flag = flow && k === 'maxSteps' ? 'MAX_TIME' : LABELS[k];
    if (k === 'testFreq') { diffs.push({ flag, recorded: show(a[k] ?? '1'), requested: show(b[k] ?? '1') }); continue; }
    diffs.push({ flag, recorded: k === 'lrDrops' ? showDrops(a[k]) : show(a[k]), requested: k === 'lrDrops' ? showDrops(b[k]) : show(b[k]) });
  }
  return diffs;
}

/** The command-line names of the settings that differ (empty: the same run). */
export function configDiff(recorded: RunConfig, requested: RunConfig): string[] {
  return configDifferences(recorded, requested).map((d) => d.flag);
}

/** `--lr-drop: none vs 20:0.1, LR: 0.5 vs 0.3` */
export function describeDifferences(diffs: ConfigDifference[]): string {
  return diffs.map((d) => `${d.flag}: ${d.recorded} vs ${d.requested}`).join(', ');
}

/** Measures by name (sorted), each with its rule and every option, defaults filled in. */
function canonicalMeasures(m: RunConfig['measures']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(m ?? {}).sort()) {
    const s = m![name], def = measureNamed(name);
    const options: Record<string, number | string> = {};
    for (const o of def.options) options[o.name] = s.options?.[o.name] ?? o.default;
    out[name] = { freq: formatFreq(s.freq), options };
  }
  return out;
}

function showMeasure(v: unknown): string {
  if (!v) return 'off';
  const m = v as { freq: string; options: Record<string, unknown> };
  return `every ${m.freq}${Object.entries(m.options).map(([k, x]) => ` ${k}=${x}`).join('')}`;
}

function show(v: unknown): string {
  if (v === null || v === undefined) return 'none';
  if (Array.isArray(v)) return v.length ? v.join(',') : 'none';
  return String(v);
}

function showDrops(v: unknown): string {
  const d = v as { step: number; lr: number }[];
  return d.length ? d.map((x) => `${x.step}:${x.lr}`).join(',') : 'none';
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const MAX_COMPONENT = 80;

/**
 * One path component from any string: only [A-Za-z0-9._=+-] kept, never `.`
 * or `..`, at most 80 characters (a longer one keeps its head and a hash of
 * the whole, so distinct long ids stay distinct).
 */
export function safeComponent(s: string): string {
  let c = s.replace(/[^A-Za-z0-9._=+-]/g, '_');
  if (c === '' || /^\.+$/.test(c)) c = c.replace(/\./g, '_') || '_';
  if (c.length > MAX_COMPONENT) c = c.slice(0, MAX_COMPONENT - 9) + '_' + sha256Hex(s).slice(0, 8);
  return c;
}

/** The dataset's component: `npz:PATH` by the file's base name (the path itself must not steer where the run goes). */
function datasetComponent(id: string): string {
  if (id.startsWith('npz:')) {
    const base = id.slice(4).split(/[/\\]/).filter(Boolean).pop() ?? '';
    return safeComponent(`npz_${base}`);
  }
  return safeComponent(id);
}

/**
 * The default run directory, relative to the results folder: the reference's
 * readable {dataset}/{arch}/seed_{s}/{loss}/{opt}/lr_{η}[_extra], the leaf
 * ending in 8 hex digits of SHA-256 of the canonical configuration (and of
 * `extra`, e.g. --standardize), so runs that differ in any setting never
 * share a directory.
 */
export function runDirName(c: RunConfig, extra: Record<string, unknown> = {}): string {
  const hash = sha256Hex(JSON.stringify({ config: canonicalConfig(c), ...sortKeys(extra) })).slice(0, 8);
  const dataFree = /^(toy|quadratic):/.test(c.dataset);
  const parts = [datasetComponent(c.dataset), dataFree ? 'objective' : safeComponent(c.arch), safeComponent(`seed_${c.seed}`), safeComponent(c.loss)];
  if (c.kind === 'flow') return [...parts, 'flow', safeComponent(`tick_${c.tick}_${hash}`)].join('/');
  const o = c.opt;
  const tags = [
    o.beta !== undefined ? `beta_${o.beta}` : '', o.beta1 !== undefined ? `beta1_${o.beta1}` : '',
    o.beta2 !== undefined ? `beta2_${o.beta2}` : '', o.eps !== undefined ? `eps_${o.eps}` : '',
    o.biasCorrection === false ? 'nobc' : '', c.batchSize ? `bs_${c.batchSize}` : '',
  ].filter(Boolean);
  const optName = c.batchSize && o.name === 'gd' ? 'sgd' : o.name;
  // The hash goes last and is kept even when the readable part is cut to fit.
  const leaf = ['lr_' + c.lr, ...tags].join('_');
  const room = MAX_COMPONENT - hash.length - 1;
  return [...parts, safeComponent(optName), safeComponent(leaf).slice(0, room) + '_' + hash].join('/');
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/**
 * SHA-256 of a string's UTF-8 bytes, lower-case hex. Synchronous and pure:
 * core/ cannot reach node:crypto, and WebCrypto's digest is async. Meant for
 * short inputs (names); data is hashed by the host.
 */
export function sha256Hex(s: string): string {
  const msg = new TextEncoder().encode(s);
  const len = Math.ceil((msg.length + 9) / 64) * 64;
  const buf = new Uint8Array(len);
  buf.set(msg);
  buf[msg.length] = 0x80;
  const dv = new DataView(buf.buffer);
  dv.setUint32(len - 8, Math.floor(msg.length / 0x20000000));
  dv.setUint32(len - 4, (msg.length * 8) >>> 0);
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < len; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = dv.getUint32(off + 4 * i);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  return Array.from(h, (x) => x.toString(16).padStart(8, '0')).join('');
}
