// The measurement suite's contract. A measure is a small module over
// operators (objectives, Hessian and Gauss-Newton products, samplers of
// minibatches): it never sees a model class. Each declares its CLI switch
// (`--<flag>`, `--<flag>-freq F[,STEP:F2…]`, `--<flag>-<option> V`), its
// metrics.csv columns, and `run`, called at the steps its rule fires with
// θ_t and the full-batch gradient of that step. Every Monte Carlo draw is
// seeded from (run seed, measure, step, draw), so a measure gives the same
// numbers on every host and backend, and again after a resume.
import type { Backend, Buf } from '../backend/types.js';
import type { Objective } from '../objective/types.js';
import type { Optimizer, OptState } from '../optim/optimizers.js';
import type { EigResult } from './lanczos.js';
import type { FreqRule } from './schedule.js';
import type { SymOperator } from './operator.js';

/** A measure's settings as recorded in RunConfig.measures[name]: its frequency rule and option values. */
export interface MeasureSettings {
  freq: FreqRule;
  options: Record<string, number | string>;
}

export interface MeasureOption {
  /** Option key and flag suffix: `--<measure flag>-<name>`. */
  name: string;
  help: string;
  default: number | string;
  /** null when the value is acceptable, else what it must be ("a positive integer"). */
  check(v: number | string): string | null;
  /** How the CLI reads the text (default: a plain decimal number). */
  kind?: 'number' | 'string';
}

/** A range of θ belonging to one layer (per-layer sharpness), from the model's state-dict layout. */
export interface ParamBlock {
  /** The layer's state-dict prefix, e.g. '0' for '0.weight' and '0.bias'. */
  name: string;
  off: number;
  size: number;
}

/** Fresh, seeded minibatches of the training set (measures' own draws, independent of the training order). */
export interface BatchSampler {
  readonly size: number;
  /** Loads draw `index` of a measure's stream (measureStream(id, step)) into the sampler's objective and returns it. */
  draw(stream: number, index: number): Objective;
}

export interface MeasureContext {
  readonly backend: Backend;
  /** Run seed (measures mix it with their stream and the step). */
  readonly seed: number;
  readonly step: number;
  /** The learning rate of this step (NaN for gradient flow). */
  readonly lr: number;
  /** The training minibatch size (0: a full-batch run). */
  readonly batchSize: number;
  /** The run's --neigs: how many eigenvalues its eigen-measures report. */
  readonly neigs: number;
  readonly P: number;
  /** θ_t: a measure must leave it as it found it, bit for bit. */
  readonly theta: Buf;
  /** ∇L(θ_t) on the full training set, and its norm. */
  readonly grad: Buf;
  readonly gradNorm: number;
  readonly trainLoss: number;
  /** The training loss on all training examples. */
  readonly full: Objective;
  /** The curvature set (the first --abridged-size examples): Hessian products for λ's. */
  readonly curvature: Objective;
  /** Minibatches of `size` examples drawn afresh; null for objectives without data. */
  batches(size: number): BatchSampler | null;
  /** The training minibatch of this step (SGD runs), else null. */
  liveBatch(): Objective | null;
  /** The latest Hessian solve (this step or before), vectors unit-norm; null before the first. */
  readonly eig: { step: number; values: number[]; vectors: Buf[] } | null;
  /** The optimizer's stability threshold at this step (null for flow). */
  readonly threshold: number | null;
  readonly optimizer: { opt: Optimizer; state: OptState } | null;
  /** Per-layer parameter ranges (empty for objectives without layers). */
  readonly blocks: ParamBlock[];
  /** θ₀ as the run initialised it (recomputed from the seed: nothing stored). */
  initialTheta(): Float32Array;
  /** Top-k eigenpairs of op with the run's eigen-solver (vectors released by the caller). */
  solve(op: SymOperator, k: number, opts?: { warm?: Buf[]; tol?: number; stream?: number }): Promise<EigResult & { vectors: Buf[] }>;
  /** Emits a table for this step (the host writes `<name>/step_<t>.csv`). */
  table(name: string, columns: string[], rows: number[][]): Promise<void>;
  /** Scratch of P floats, released after the measure returns. */
  alloc(label: string): Buf;
  /** First scalar slot this measure may use; it owns [slot, slot + 1024). */
  readonly slot: number;
  /** A vector the host loaded for a measure (by its name, e.g. distance's --distance-to checkpoint): core reads no files. */
  reference?(name: string): Float32Array | null;
}

export type MeasureValues = Record<string, number | null>;

export interface MeasureDef {
  /** Config key and column stem, e.g. 'trace'. */
  name: string;
  /** CLI switch without dashes, e.g. 'trace'. */
  flag: string;
  help: string;
  options: MeasureOption[];
  /** The metrics.csv columns this measure fills (values it returns under other keys are an error). */
  columns(s: MeasureSettings, ctx: { neigs: number; blocks: string[] }): string[];
  /** Why it cannot run in this configuration (null: it can). */
  unsupported?(c: { hasData: boolean; batchSize: number; kind: 'train' | 'flow'; opt: string; options: Record<string, number | string> }): string | null;
  run(ctx: MeasureContext, s: MeasureSettings): Promise<MeasureValues>;
}

/** Scalar slots measures may use (objectives own [0, 2K), the run loop 16, solvers from 256, projections 1024–2047). */
export const MEASURE_SLOT = 2048;

/** ⟨a, b⟩ over n floats (one read-back). */
export async function dot(backend: Backend, a: Buf, b: Buf, n: number, slot: number): Promise<number> {
  backend.clearScalars(slot, 1);
  backend.reduce({ n, K: 1, x: { buf: a, off: 0, bs: 0 }, y: { buf: b, off: 0, bs: 0 }, slot });
  return (await backend.readScalars(slot, 1))[0];
}

/**
 * Philox stream of a measure's draws at a step: 0x60–0x7F in the top byte
 * (disjoint from the solvers', the run loop's and the data order's streams),
 * the measure's id, then the step (periodic after 2^24 steps).
 */
export function measureStream(measure: number, step: number): number {
  if (!(measure >= 0 && measure < 32)) throw new Error(`measure stream id ${measure} outside [0, 32)`);
  return ((0x60 + measure) * 0x1000000 + (step % 0x1000000)) >>> 0;
}

/**
 * A running mean with its standard error and the stopping rule the
 * stochastic-EoS reference uses: stop when se/|mean| < eps after at least
 * `min` draws, or at `max` draws.
 */
export class RunningMean {
  n = 0;
  private m = 0;
  private s = 0;
  add(x: number): void {
    this.n++;
    const d = x - this.m;
    this.m += d / this.n;
    this.s += d * (x - this.m);
  }
  get mean(): number { return this.n ? this.m : NaN; }
  /** Standard error of the mean (NaN below two draws). */
  get se(): number { return this.n > 1 ? Math.sqrt(this.s / (this.n - 1) / this.n) : NaN; }
  done(eps: number, min: number, max: number): boolean {
    if (this.n >= max) return true;
    return this.n >= min && this.se <= eps * Math.abs(this.m);
  }
}

export const positiveInt = (v: number | string) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? null : 'a positive integer');
export const positive = (v: number | string) => (typeof v === 'number' && v > 0 && Number.isFinite(v) ? null : 'a positive number');
export const nonNegativeInt = (v: number | string) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? null : 'a non-negative integer');
