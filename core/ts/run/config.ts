// The configuration of one experiment run, its validation (one clear error
// per mistake), and the reference-style run directory name.
import type { LossName } from '../backend/types.js';
import type { RunData } from './problem.js';
import type { MeasureSettings } from '../measure/suite.js';
import { measureNamed } from '../measure/registry.js';
import type { FreqRule } from '../measure/schedule.js';
import { INIT_SCHEMES, type InitSchemeName } from '../nn/init.js';
import { checkOptimizerConfig, OPTIMIZER_FLAGS, OPTIMIZERS, type OptimizerConfig, type OptimizerName } from '../optim/optimizers.js';

export type EigSolverName = 'lanczos' | 'lobpcg' | 'power';

export interface LrDrop {
  step: number;
  lr: number;
}

export interface RunConfig {
  kind: 'train' | 'flow';
  dataset: string;
  arch: string;
  loss: LossName;
  /** train: the learning rate η (before drops). flow: unused. */
  lr: number;
  /** train: number of updates. flow: integration time. */
  maxSteps: number;
  /** flow: output interval in time units. */
  tick: number;
  /** flow: h = min(alpha/λ̂, maxStepSize). */
  alpha: number;
  maxStepSize: number;
  opt: OptimizerConfig;
  /** Minibatch size for SGD-style runs; 0 = full batch. */
  batchSize: number;
  seed: number;
  datasetSeed: number;
  physicalBatchSize: number;
  /** Eigenvalues measured; with neigsAuto, the cap on the tracked block (so the columns are fixed). */
  neigs: number;
  /** `--neigs auto:F[:KMAX]`: track every eigenvalue above F × threshold (null: a fixed neigs). */
  neigsAuto: number | null;
  eigFreq: number;
  eigSolver: EigSolverName;
  lambdaA: boolean;
  /** Examples used for curvature measurements (first n of the training set); 0 = all. */
  abridgedSize: number;
  accGoal: number | null;
  lossGoal: number | null;
  /** Learning-rate changes: the lr from `step` on (a single drop or a list). */
  lrDrops: LrDrop[];
  /** Random projection dimension of θ for projections.npy; 0 = none. */
  nproj: number;
  iterateFreq: number;
  checkpointEvery: number;
  /** Loss above this counts as divergence. */
  divergeLoss: number;
  /** Explicit initial θ (toy objectives, e.g. the minimalist example's symmetric starts); null: seeded init. */
  init: number[] | null;
  /** θ₀ = initScale × the seeded init (init-scale experiments); runs recorded before it had 1. */
  initScale: number;
  /** Which seeded init (core/ts/nn/init.ts INIT_SCHEMES); runs recorded before it had 'default'. */
  initScheme: InitSchemeName;
  /** Steps whose row evaluates the test set (`--test-freq`; default every step). */
  testFreq: FreqRule;
  /** The measurement suite's measures this run takes (core/ts/measure/registry.ts), by name; absent: none. */
  measures?: Record<string, MeasureSettings>;
}

export const DEFAULT_RUN: Omit<RunConfig, 'kind' | 'dataset' | 'arch' | 'loss' | 'lr' | 'maxSteps'> = {
  tick: 1, alpha: 1, maxStepSize: 1,
  opt: { name: 'gd' }, batchSize: 0, seed: 0, datasetSeed: 0, physicalBatchSize: 1000,
  neigs: 2, neigsAuto: null, eigFreq: 10, eigSolver: 'lobpcg', lambdaA: false, abridgedSize: 5000,
  accGoal: null, lossGoal: null, lrDrops: [], nproj: 0, iterateFreq: 1, checkpointEvery: 0, divergeLoss: 1e8,
  init: null, initScale: 1, initScheme: 'default', testFreq: { every: 1, after: [] },
};

/** The cap on the block `--neigs auto:F` grows to when no KMAX is given. */
export const NEIGS_AUTO_CAP = 8;

/** `--neigs K` or `--neigs auto:F[:KMAX]` → neigs (the cap) and neigsAuto (F). */
export function parseNeigs(s: string): { neigs: number; neigsAuto: number | null } {
  const t = s.trim();
  if (/^\d+$/.test(t) && Number(t) >= 1 && Number.isSafeInteger(Number(t))) return { neigs: Number(t), neigsAuto: null };
  const m = /^auto:((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?::(\d+))?$/.exec(t);
  const F = m ? Number(m[1]) : NaN, cap = m?.[2] !== undefined ? Number(m[2]) : NEIGS_AUTO_CAP;
  if (!m || !(F > 0) || !Number.isFinite(F) || !(Number.isSafeInteger(cap) && cap >= 1)) {
    throw new Error(`--neigs takes a positive integer K or auto:F[:KMAX] (F > 0, e.g. auto:0.9 or auto:0.9:4), got '${s}'`);
  }
  return { neigs: cap, neigsAuto: F };
}

/** Learning rate in force at step t. */
export function lrAt(cfg: Pick<RunConfig, 'lr' | 'lrDrops'>, t: number): number {
  let lr = cfg.lr;
  for (const d of cfg.lrDrops) if (t >= d.step) lr = d.lr;
  return lr;
}

export function parseLrDrops(s: string): LrDrop[] {
  const parts = s.split(',');
  if (parts.some((p) => p.trim() === '')) throw new Error(`--lr-drop takes STEP:LR[,STEP:LR…] without empty entries, got '${s}'`);
  return parts.map((part) => {
    const m = /^(\d+):([0-9.eE+-]+)$/.exec(part.trim());
    const lr = m ? Number(m[2]) : NaN;
    if (!m || !(lr > 0) || !Number.isFinite(lr) || !Number.isSafeInteger(Number(m[1]))) {
      throw new Error(`--lr-drop takes STEP:LR[,STEP:LR…] with an integer STEP and a finite positive LR, got '${part}'`);
    }
    return { step: Number(m[1]), lr };
  }).sort((a, b) => a.step - b.step);
}

/** The names users know for minibatch methods: sgd is GD on minibatches, sgdm heavy-ball momentum on minibatches. */
export const OPTIMIZER_ALIASES: Record<string, OptimizerName> = { sgd: 'gd', sgdm: 'polyak' };

/** An optimizer name as typed (aliases included) → the engine's name; sgd/sgdm need a minibatch. */
export function resolveOptimizer(name: string, batchSize: number): OptimizerName {
  const alias = OPTIMIZER_ALIASES[name];
  if (alias) {
    if (!(batchSize > 0)) throw new Error(`--opt ${name} needs --batch-size B (minibatches); full-batch ${name === 'sgd' ? 'GD is --opt gd' : 'momentum is --opt polyak'}`);
    return alias;
  }
  if (!OPTIMIZERS.includes(name as OptimizerName)) throw new Error(`unknown optimizer '${name}': use one of ${[...OPTIMIZERS, ...Object.keys(OPTIMIZER_ALIASES)].join(', ')}`);
  return name as OptimizerName;
}

/** Seeds key Philox (64 bits) after mixing with step counters in float64: below 2^32 every mix stays an exact integer. */
export const MAX_SEED = 2 ** 32 - 1;

/** Throws one clear error for the first problem found. */
export function validateRun(c: RunConfig): void {
  const posInt = (k: keyof RunConfig, v: number, allowZero = true) => {
    if (!Number.isInteger(v) || v < 0 || (!allowZero && v === 0)) throw new Error(`--${flag(k)} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${v}`);
  };
  if (!OPTIMIZERS.includes(c.opt.name as OptimizerName)) throw new Error(`unknown optimizer '${c.opt.name}': use one of ${OPTIMIZERS.join(', ')}`);
  if (c.loss !== 'mse' && c.loss !== 'ce') throw new Error(`unknown loss '${c.loss}': use mse or ce`);
  if (c.kind === 'train') {
    if (!(c.lr > 0) || !Number.isFinite(c.lr)) throw new Error(`learning rate must be positive, got ${c.lr}`);
    posInt('maxSteps', c.maxSteps);
  } else {
    if (!(c.tick > 0)) throw new Error(`tick must be positive, got ${c.tick}`);
    if (!(c.maxSteps > 0)) throw new Error(`max time must be positive, got ${c.maxSteps}`);
    if (!(c.alpha > 0)) throw new Error(`--alpha must be positive, got ${c.alpha}`);
    if (!(c.maxStepSize > 0)) throw new Error(`--max-step-size must be positive, got ${c.maxStepSize}`);
    if (c.eigFreq < 1) throw new Error('gradient flow needs the sharpness for its step size: --eig-freq must be ≥ 1');
  }
  posInt('batchSize', c.batchSize);
  posInt('physicalBatchSize', c.physicalBatchSize, false);
  posInt('neigs', c.neigs, false);
  posInt('eigFreq', c.eigFreq);
  posInt('abridgedSize', c.abridgedSize);
  posInt('nproj', c.nproj);
  posInt('iterateFreq', c.iterateFreq, false);
  posInt('checkpointEvery', c.checkpointEvery);
  posInt('seed', c.seed);
  posInt('datasetSeed', c.datasetSeed);
  for (const k of ['seed', 'datasetSeed'] as const) if (c[k] > MAX_SEED) throw new Error(`--${flag(k)} must be at most 2^32 − 1 = ${MAX_SEED}, got ${c[k]}`);
  if (!(c.divergeLoss > 0)) throw new Error(`--diverge-loss must be positive, got ${c.divergeLoss}`);
  if (c.init && c.init.some((x) => !Number.isFinite(x))) throw new Error('--init takes finite numbers');
  if (c.initScale !== undefined && !(c.initScale > 0 && Number.isFinite(c.initScale))) throw new Error(`--init-scale must be a positive number, got ${c.initScale}`);
  if (c.initScheme !== undefined && !INIT_SCHEMES.includes(c.initScheme)) throw new Error(`unknown --init-scheme '${c.initScheme}': use ${INIT_SCHEMES.join(', ')}`);
  for (const d of c.lrDrops) if (!(d.lr > 0 && Number.isFinite(d.lr)) || !Number.isSafeInteger(d.step) || d.step < 0) throw new Error(`--lr-drop ${d.step}:${d.lr}: STEP must be a non-negative integer and LR finite and positive`);
  if (!['lanczos', 'lobpcg', 'power'].includes(c.eigSolver)) throw new Error(`unknown eigen-solver '${c.eigSolver}': use lanczos, lobpcg or power`);
  if (c.lambdaA && !['adam', 'rmsprop'].includes(c.opt.name)) throw new Error(`--lambda-a needs an adaptive optimizer (adam, rmsprop), not ${c.opt.name}`);
  if (c.accGoal !== null && !(c.accGoal > 0 && c.accGoal <= 1)) throw new Error(`--acc-goal must be in (0, 1], got ${c.accGoal}`);
  if (c.lossGoal !== null && !(c.lossGoal > 0)) throw new Error(`--loss-goal must be positive, got ${c.lossGoal}`);
  const allowed = OPTIMIZER_FLAGS[c.opt.name];
  for (const k of ['beta', 'beta1', 'beta2', 'eps', 'biasCorrection'] as const) {
    if (c.opt[k] !== undefined && !allowed.includes(k)) {
      const takers = OPTIMIZERS.filter((o) => OPTIMIZER_FLAGS[o].includes(k)).flatMap((o) => [o, ...Object.keys(OPTIMIZER_ALIASES).filter((a) => OPTIMIZER_ALIASES[a] === o)]);
      throw new Error(`--${flag(k)} does not apply to ${c.opt.name}: it is for ${takers.join(', ')}` +
        (allowed.length ? `; ${c.opt.name} takes ${allowed.map((a) => '--' + flag(a)).join(', ')}` : ''));
    }
  }
  if (c.neigsAuto !== null && c.neigsAuto !== undefined) {
    if (!(c.neigsAuto > 0 && Number.isFinite(c.neigsAuto))) throw new Error(`--neigs auto:F needs F > 0, got ${c.neigsAuto}`);
    if (c.kind === 'flow') throw new Error('--neigs auto:F tracks eigenvalues above F × the optimizer\'s threshold, and gradient flow has none: give --neigs K');
    if (['adam', 'rmsprop'].includes(c.opt.name)) throw new Error(`--neigs auto:F compares λ's with 2/η-type thresholds, and ${c.opt.name}'s bounds λ_A: give --neigs K`);
  }
  const tf = c.testFreq;
  if (tf !== undefined && (!tf || !Number.isSafeInteger(tf.every) || tf.every < 0 || !Array.isArray(tf.after)
    || tf.after.some((a) => !Number.isSafeInteger(a.step) || a.step < 0 || !Number.isSafeInteger(a.every) || a.every < 0))) {
    throw new Error('--test-freq must be F or F,STEP:F2,… with non-negative integers');
  }
  checkOptimizerConfig(c.opt);
  validateMeasures(c);
}

/** Each requested measure exists, its options are in range, and it applies to this run. */
export function validateMeasures(c: RunConfig, hasData = !/^(toy|quadratic):/.test(c.dataset)): void {
  for (const [name, s] of Object.entries(c.measures ?? {})) {
    const m = measureNamed(name);
    if (!s || typeof s !== 'object' || !s.freq || !Array.isArray(s.freq.after) || !Number.isSafeInteger(s.freq.every) || s.freq.every < 0) {
      throw new Error(`--${m.flag}-freq must be F or F,STEP:F2,… with non-negative integers`);
    }
    for (const o of m.options) {
      const v = s.options?.[o.name] ?? o.default;
      const bad = o.check(v);
      if (bad) throw new Error(`--${m.flag}-${o.name} must be ${bad}, got ${v}`);
    }
    for (const k of Object.keys(s.options ?? {})) {
      if (!m.options.some((o) => o.name === k)) throw new Error(`--${m.flag} has no option '${k}' (it takes ${m.options.map((o) => `--${m.flag}-${o.name}`).join(', ') || 'none'})`);
    }
    const options = Object.fromEntries(m.options.map((o) => [o.name, s.options?.[o.name] ?? o.default]));
    const why = m.unsupported?.({ hasData, batchSize: c.batchSize, kind: c.kind, opt: c.opt.name, options });
    if (why) throw new Error(`--${m.flag} ${why}`);
  }
}

/**
 * The checks that need the data (null: a data-free objective, toy:… or quadratic:…).
 * Cross-entropy and accuracy need classes: on one output they would run and
 * print a meaningless loss 0 or ignore the goal.
 */
export function validateRunData(c: RunConfig, data: RunData | null): void {
  const classes = data ? data.c : 0;
  const what = data ? `dataset ${c.dataset} has one output (regression)` : `${c.dataset} is an objective without data`;
  if (c.loss === 'ce' && classes < 2) throw new Error(`ce needs a classification dataset, and ${what}: use mse`);
  if (c.accGoal !== null && classes < 2) throw new Error(`--acc-goal needs a classification dataset, and ${what}: use --loss-goal`);
  if (data && (data.train.N === 0 || data.test.N < 0)) throw new Error(`dataset ${c.dataset} has no training examples: check its files`);
  if (data && c.batchSize > data.train.N) throw new Error(`--batch-size ${c.batchSize} exceeds the ${data.train.N} training examples`);
}

/** camelCase option → its --kebab-case flag. */
export function flag(k: string): string {
  if (k === 'biasCorrection') return 'no-bias-correction';
  if (k === 'lambdaA') return 'lambda-a';
  return k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}
