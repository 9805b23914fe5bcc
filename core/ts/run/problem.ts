// What a run trains: the objectives the loop needs (full batch, test,
// abridged measurement set, optional minibatch), the parameter count and the
// initial θ. A layer-list model (nn/arch.ts ids: MLPs, CNNs) on a dataset, or one of the theory slides' toy objectives
// (dataset id toy:xyzw | toy:x2y2 | toy:xy, no data, architecture ignored),
// or a quadratic with a given spectrum (quadratic:λ1,λ2,…).
import type { Backend } from '../backend/types.js';
import { modelFromArch, parseArchId } from '../nn/arch.js';
import type { Model } from '../nn/model.js';
import { initParams, namedInitScheme } from '../nn/init.js';
import { ModelObjective } from '../objective/model-objective.js';
import { uploadData, type DeviceData } from '../objective/data.js';
import { ToyObjective, TOY_PARAMS, type ToyModel } from '../objective/toy.js';
import { QuadraticObjective } from '../objective/quadratic.js';
import type { Objective } from '../objective/types.js';
import { normals, uniforms } from '../rng/philox.js';
import type { RunConfig } from './config.js';
import type { BatchSampler, ParamBlock } from '../measure/suite.js';

/** Training/test data as the engine needs it (datasets/ produces this shape). */
export interface RunData {
  /** Per-example input shape ([C, H, W] for images); [d] when absent. */
  shape?: number[];
  d: number;
  c: number;
  train: { X: Float32Array; Y: Float32Array; N: number };
  test: { X: Float32Array; Y: Float32Array; N: number };
}

export interface RunProblem {
  P: number;
  full: Objective;
  test: Objective;
  measure: Objective;
  /** Minibatch objective and how to load minibatch t into it (SGD runs). */
  mini: { obj: Objective; fill(t: number): void } | null;
  initialTheta(): Float32Array;
  /** Whether accuracy means something (classification). */
  hasAccuracy: boolean;
  /** Model objectives the host may autotune kernels for. */
  tunable: ModelObjective[];
  /** The model (checkpoint keys); null for toy objectives and quadratics. */
  model: Model | null;
  /** Fresh seeded minibatches of `size` training examples for measures (null: no data). */
  sampler(size: number): BatchSampler | null;
  /** θ ranges of each layer (state-dict prefix), for per-layer measures. */
  blocks: ParamBlock[];
  dispose(): void;
}

/** quadratic:λ1,λ2,… → the spectrum of ½ θᵀ diag(λ) θ; null for other ids. */
export function quadraticSpectrum(dataset: string): number[] | null {
  const m = /^quadratic:(.*)$/.exec(dataset);
  if (!m) return null;
  // Number('') is 0: without the empty-entry check 'quadratic:,' would be the spectrum [0, 0].
  const parts = m[1].split(',').map((s) => s.trim());
  const lams = parts.map(Number);
  if (parts.some((s) => s === '') || lams.some((x) => !Number.isFinite(x))) {
    throw new Error(`dataset '${dataset}': quadratic:<λ1>,<λ2>,… takes a comma-separated list of finite numbers, e.g. quadratic:1,10,100`);
  }
  return lams;
}

/** Parameter count of a data-free objective id (toy:…, quadratic:…), else null. */
export function dataFreeParams(dataset: string): number | null {
  const toy = toyModelOf(dataset);
  if (toy) return TOY_PARAMS[toy];
  const q = quadraticSpectrum(dataset);
  return q ? q.length : null;
}

export function toyModelOf(dataset: string): ToyModel | null {
  const m = /^toy:(xyzw|x2y2|xy)$/.exec(dataset);
  return m ? (m[1] as ToyModel) : null;
}

export function buildProblem(backend: Backend, cfg: RunConfig, data: RunData | null): RunProblem {
  const toy = toyModelOf(cfg.dataset);
  if (toy) return toyProblem(backend, cfg, toy);
  const spectrum = quadraticSpectrum(cfg.dataset);
  if (spectrum) return quadraticProblem(backend, cfg, spectrum);
  if (!data) throw new Error(`dataset '${cfg.dataset}' needs data`);
  return modelProblem(backend, cfg, data);
}

function explicitInit(cfg: RunConfig, P: number): Float32Array | null {
  if (!cfg.init) return null;
  if (cfg.init.length !== P) throw new Error(`--init gives ${cfg.init.length} values, the model has ${P} parameters`);
  return Float32Array.from(cfg.init);
}

function toyProblem(backend: Backend, cfg: RunConfig, model: ToyModel): RunProblem {
  if (cfg.batchSize > 0) throw new Error(`--batch-size does not apply to the toy objective ${cfg.dataset} (it has no data)`);
  const obj = new ToyObjective(backend, model);
  const P = TOY_PARAMS[model];
  return {
    P, full: obj, test: obj, measure: obj, mini: null, hasAccuracy: false, tunable: [], model: null, sampler: () => null, blocks: [],
    // Without --init: N(0, 1) coordinates from the seed.
    initialTheta: () => explicitInit(cfg, P) ?? Float32Array.from(normals(cfg.seed, 0, 0, P)),
    dispose: () => obj.dispose(),
  };
}

/** ½ θᵀ diag(λ) θ: GD is stable iff η < 2/λ_max, the analytic case of the slides. */
function quadraticProblem(backend: Backend, cfg: RunConfig, spectrum: number[]): RunProblem {
  if (cfg.batchSize > 0) throw new Error(`--batch-size does not apply to ${cfg.dataset} (it has no data)`);
  const P = spectrum.length, A = new Float32Array(P * P);
  spectrum.forEach((l, i) => { A[i * P + i] = l; });
  const obj = new QuadraticObjective(backend, A, P);
  return {
    P, full: obj, test: obj, measure: obj, mini: null, hasAccuracy: false, tunable: [], model: null, sampler: () => null, blocks: [],
    initialTheta: () => explicitInit(cfg, P) ?? Float32Array.from(normals(cfg.seed, 0, 0, P)),
    dispose: () => obj.dispose(),
  };
}

/** The model of the run's architecture id on this data's input shape. */
export function runModel(cfg: Pick<RunConfig, 'arch'>, data: Pick<RunData, 'shape' | 'd' | 'c'>): Model {
  const shape = data.shape ?? [data.d];
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.d) throw new Error(`data shape [${shape}] holds ${n} values per example, not d = ${data.d}`);
  return modelFromArch(cfg.arch, shape, data.c);
}

function modelProblem(backend: Backend, cfg: RunConfig, data: RunData): RunProblem {
  const model = runModel(cfg, data);
  // Architectures from papers with their own init (Myrtle: normal, σ_w² = 2) use it unless --init-scheme names another.
  const scheme = namedInitScheme(cfg.initScheme, parseArchId(cfg.arch, data.c).init);
  const up = (s: RunData['train']) => uploadData(backend, s.X, s.Y, s.N, data.d, data.c);
  const train = up(data.train);
  const test = data.test === data.train ? train : up(data.test);
  const objs: ModelObjective[] = [];
  const obj = (d: DeviceData) => {
    const o = new ModelObjective(backend, model, d, { loss: cfg.loss, physicalBatch: cfg.physicalBatchSize });
    objs.push(o);
    return o;
  };
  const full = obj(train);
  const testObj = test === train ? full : obj(test);
  const nAbr = cfg.abridgedSize > 0 ? Math.min(cfg.abridgedSize, train.N) : train.N;
  // The abridged set is the first n rows of the resident training data: a view, no copy.
  const measure = nAbr === train.N ? full : obj({ ...train, N: nAbr });
  let mini: RunProblem['mini'] = null, miniData: DeviceData | null = null;
  if (cfg.batchSize > 0) {
    const B = Math.min(cfg.batchSize, train.N);
    const md = uploadData(backend, new Float32Array(B * data.d), new Float32Array(B * data.c), B, data.d, data.c);
    miniData = md;
    mini = { obj: obj(md), fill: (t) => fillMinibatch(backend, cfg, data, md, t) };
  }
  const samplers = new Map<number, { sampler: BatchSampler; data: DeviceData }>();
  const sampler = (size: number): BatchSampler => {
    const B = Math.min(size, train.N);
    let s = samplers.get(B);
    if (!s) {
      const sd = uploadData(backend, new Float32Array(B * data.d), new Float32Array(B * data.c), B, data.d, data.c);
      const o = obj(sd);
      s = { data: sd, sampler: { size: B, draw: (stream, index) => { fillRandomBatch(backend, cfg.seed, data, sd, stream, index); return o; } } };
      samplers.set(B, s);
    }
    return s.sampler;
  };
  return {
    P: model.P, full, test: testObj, measure, mini, hasAccuracy: data.c > 1, tunable: objs, model, sampler, blocks: paramBlocks(model),
    initialTheta: () => explicitInit(cfg, model.P) ?? initParams(model, { seed: cfg.seed, scheme, scale: cfg.initScale ?? 1 }),
    dispose() {
      objs.forEach((o) => o.dispose());
      const bufs = new Set([train.X, train.Y, test.X, test.Y]);
      if (miniData) { bufs.add(miniData.X); bufs.add(miniData.Y); }
      for (const { data: sd } of samplers.values()) { bufs.add(sd.X); bufs.add(sd.Y); }
      bufs.forEach((b) => backend.release(b));
    },
  };
}

/** Each layer's θ range: state-dict keys grouped by their prefix ('0.weight', '0.bias' → '0'). */
export function paramBlocks(model: Model): ParamBlock[] {
  const blocks: ParamBlock[] = [];
  for (const p of model.params) {
    const name = p.name.slice(0, p.name.lastIndexOf('.'));
    const last = blocks[blocks.length - 1];
    if (last && last.name === name && last.off + last.size === p.off) last.size += p.size;
    else blocks.push({ name, off: p.off, size: p.size });
  }
  return blocks;
}

/**
 * A measure's minibatch: B distinct training examples by a partial
 * Fisher-Yates shuffle driven by Philox (seed, stream, index), so draw i of
 * a stream (a measure at a step) is the same on every host and after a resume.
 */
function fillRandomBatch(backend: Backend, seed: number, data: RunData, mb: DeviceData, stream: number, index: number): void {
  const N = data.train.N, B = mb.N;
  const u = uniforms(seed, stream >>> 0, index * B, B);
  const idx = Int32Array.from({ length: N }, (_, i) => i);
  const X = new Float32Array(B * data.d), Y = new Float32Array(B * data.c);
  for (let j = 0; j < B; j++) {
    const r = j + Math.floor(u[j] * (N - j));
    const t = idx[j]; idx[j] = idx[r]; idx[r] = t;
    const i = idx[j];
    X.set(data.train.X.subarray(i * data.d, (i + 1) * data.d), j * data.d);
    Y.set(data.train.Y.subarray(i * data.c, (i + 1) * data.c), j * data.c);
  }
  backend.write(mb.X, X);
  backend.write(mb.Y, Y);
}

/** Minibatch t: epoch e = ⌊t·B/N⌋ of a Philox permutation seeded by the dataset seed (drop-last). */
function fillMinibatch(backend: Backend, cfg: RunConfig, data: RunData, mini: DeviceData, t: number): void {
  const N = data.train.N, B = mini.N, perEpoch = Math.floor(N / B);
  const epoch = Math.floor(t / perEpoch), k = t % perEpoch;
  const keys = uniforms(cfg.datasetSeed, 0x5000 + epoch, 0, N);
  const order = Array.from({ length: N }, (_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b);
  const X = new Float32Array(B * data.d), Y = new Float32Array(B * data.c);
  for (let j = 0; j < B; j++) {
    const i = order[k * B + j];
    X.set(data.train.X.subarray(i * data.d, (i + 1) * data.d), j * data.d);
    Y.set(data.train.Y.subarray(i * data.c, (i + 1) * data.c), j * data.c);
  }
  backend.write(mini.X, X);
  backend.write(mini.Y, Y);
}
