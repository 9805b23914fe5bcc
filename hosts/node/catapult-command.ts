// `eoslab catapult DATASET ARCH LOSS`: the early-training phase diagram of
// the catapult notebook (Kalra & Barkeshli). Per architecture: λ₀ from a
// step-0 measurement, then every c = 2^x of the grid trained at η = c/λ₀ as
// one batched sweep group (core/ts/run/sweep.ts), λ₁ every step; the
// analysis (core/ts/run/catapult.ts) gives catapult.csv and phase.json, and
// over widths and depths phase.csv and figures/phase.svg. Members record in
// memory: a catapult grid is tens of short runs whose only product is the
// table, so no run directories are written.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_RUN, MAX_SEED, validateRun, validateRunData, type RunConfig } from '../../core/ts/run/config.js';
import { INIT_SCHEMES, type InitSchemeName } from '../../core/ts/nn/init.js';
import { parseValues } from '../../core/ts/run/sweep-spec.js';
import { MAX_GROUP_K, runSweepGroup } from '../../core/ts/run/sweep.js';
import { safeComponent, sha256Hex } from '../../core/ts/run/identity.js';
import type { MetricsRow } from '../../core/ts/run/records.js';
import type { RunData } from '../../core/ts/run/problem.js';
import { archGrid, catapultCsv, catapultRow, cGrid, phaseCsv, phaseOf, trajectoriesCsv, type ArchPoint, type CatapultTrace, type Phase } from '../../core/ts/run/catapult.js';
import { absoluteDatasetId, loadDatasetNode } from './dataset-files.js';
import { createHostBackend, type BackendFlags } from './run-command.js';
import { writeAtomic } from './run-dir.js';
import { num } from './decimal-flag.js';

export interface CatapultOptions {
  dataset: string;
  arch: string;
  loss: 'mse' | 'ce';
  steps: number;
  divSteps: number;
  xStart: number;
  xStep: number;
  xMax: number;
  sharpEps: number;
  batchSize: number;
  seed: number;
  datasetSeed: number;
  initScheme: InitSchemeName;
  initScale: number;
  widths: number[] | null;
  depths: number[] | null;
  divergeLoss: number;
  maxK: number;
  abridgedSize: number;
  physicalBatchSize: number;
  eigSolver: RunConfig['eigSolver'];
  standardize: boolean;
  out?: string;
}

type Backend = Awaited<ReturnType<typeof createHostBackend>>['backend'];

/** Rows in memory: the trajectory is all a catapult member yields. */
function memorySink(rows: MetricsRow[]) {
  return { row: (r: MetricsRow) => { rows.push(r); }, checkpoint: () => {} };
}

function baseConfig(o: CatapultOptions, arch: string): RunConfig {
  return {
    ...DEFAULT_RUN, kind: 'train', dataset: absoluteDatasetId(o.dataset), arch, loss: o.loss, lr: 1, maxSteps: Math.max(o.steps, o.divSteps),
    opt: { name: 'gd' }, batchSize: o.batchSize, seed: o.seed, datasetSeed: o.datasetSeed, physicalBatchSize: o.physicalBatchSize,
    neigs: 1, eigFreq: 1, eigSolver: o.eigSolver, abridgedSize: o.abridgedSize, divergeLoss: o.divergeLoss,
    initScheme: o.initScheme, initScale: o.initScale,
  };
}

/** λ₀ and L₀: step 0 of a member that takes no step (every c starts from the same θ₀). */
async function initialPoint(backend: Backend, cfg: RunConfig, data: RunData): Promise<{ lambda0: number; loss0: number }> {
  const rows: MetricsRow[] = [];
  await runSweepGroup(backend, [{ cfg: { ...cfg, maxSteps: 0 }, sink: memorySink(rows) }], data);
  const lambda0 = rows[0]?.lambdas[0] ?? NaN, loss0 = rows[0]?.train_loss ?? NaN;
  if (!(lambda0 > 0) || !Number.isFinite(lambda0)) throw new Error(`${cfg.arch}: the sharpness at initialisation is ${lambda0}, not positive, so η = c/λ₀ is undefined: check the data and --init-scale`);
  if (!(loss0 > 0) || !Number.isFinite(loss0)) throw new Error(`${cfg.arch}: the initial loss is ${loss0}: the loss ratios need a positive L₀ (is the data already fit?)`);
  return { lambda0, loss0 };
}

/** The grid's members, batched maxK at a time, in increasing c; stops after the first batch with a divergence (the notebook's "until divergence"). */
async function runGrid(backend: Backend, cfg: RunConfig, data: RunData, cs: number[], lambda0: number, maxK: number, log: (s: string) => void): Promise<CatapultTrace[]> {
  const traces: CatapultTrace[] = [];
  for (let i = 0; i < cs.length; i += maxK) {
    const part = cs.slice(i, i + maxK), rows = part.map(() => [] as MetricsRow[]);
    const results = await runSweepGroup(backend, part.map((c, j) => ({ cfg: { ...cfg, lr: c / lambda0 }, sink: memorySink(rows[j]) })), data);
    part.forEach((c, j) => traces.push({
      c, eta: c / lambda0, losses: rows[j].map((r) => r.train_loss), sharpness: rows[j].map((r) => r.lambdas[0] ?? null), diverged: results[j].reason === 'diverged',
    }));
    const div = traces.find((t) => t.diverged);
    if (div) {
      if (i + maxK < cs.length) log(`  c = ${fmt(div.c)} diverged: the grid stops at c = ${fmt(part[part.length - 1])}`);
      break;
    }
  }
  return traces;
}

const fmt = (x: number | null) => x === null ? '—' : Number(x.toPrecision(4)).toString();

export async function runCatapult(o: CatapultOptions, flags: BackendFlags, log: (s: string) => void): Promise<string> {
  const points = archGrid(o.arch, o.widths, o.depths);
  const cs = cGrid(o.xStart, o.xStep, o.xMax);
  for (const p of points) validateRun(baseConfig(o, p.arch));
  const ds = await loadDatasetNode(absoluteDatasetId(o.dataset), { seed: o.datasetSeed, standardize: o.standardize });
  const data: RunData = { shape: ds.shape, d: ds.d, c: ds.c, train: ds.train, test: ds.test };
  for (const p of points) validateRunData(baseConfig(o, p.arch), data);
  const settings = { ...o, out: undefined, dataset: absoluteDatasetId(o.dataset) };
  const dir = o.out ? resolve(o.out) : resolve(process.env.EOSLAB_RESULTS || 'runs', 'catapult',
    safeComponent(`${o.dataset}_${o.arch}_${sha256Hex(JSON.stringify(settings)).slice(0, 8)}`));
  mkdirSync(dir, { recursive: true });
  const dev = await createHostBackend(flags, { backend: flags.backend, threads: flags.threads });
  log(dev.why);
  log(`catapult: ${points.length} architecture${points.length > 1 ? 's' : ''} × up to ${cs.length} values of c (2^${o.xStart} … 2^${o.xMax}), ${o.steps} steps` +
    `${o.batchSize ? ` of SGD, batch ${o.batchSize}` : ' of GD'}, init ${o.initScheme}${o.initScale !== 1 ? ` × ${o.initScale}` : ''}: ${dir}`);
  const entries: { point: ArchPoint; phase: Phase }[] = [];
  try {
    for (const p of points) {
      const cfg = baseConfig(o, p.arch);
      const { lambda0, loss0 } = await initialPoint(dev.backend, cfg, data);
      log(`${p.arch}: λ₀ = ${fmt(lambda0)}, L₀ = ${fmt(loss0)}`);
      const traces = await runGrid(dev.backend, cfg, data, cs, lambda0, o.maxK, log);
      const rows = traces.map((t) => catapultRow(t, lambda0, loss0, o.steps));
      const phase = phaseOf(rows, lambda0, loss0, o.sharpEps);
      const sub = points.length > 1 ? join(dir, safeComponent(p.arch)) : dir;
      mkdirSync(sub, { recursive: true });
      writeAtomic(join(sub, 'catapult.csv'), catapultCsv(rows));
      writeAtomic(join(sub, 'trajectories.csv'), trajectoriesCsv(traces, lambda0, loss0));
      writeAtomic(join(sub, 'phase.json'), JSON.stringify({
        arch: p.arch, width: p.width, depth: p.depth, ...phase,
        settings: { steps: o.steps, div_steps: o.divSteps, sharp_eps: o.sharpEps, x_start: o.xStart, x_step: o.xStep, x_max: o.xMax, batch_size: o.batchSize,
          seed: o.seed, dataset_seed: o.datasetSeed, init_scheme: o.initScheme, init_scale: o.initScale, diverge_loss: o.divergeLoss, dataset: o.dataset, loss: o.loss },
      }, null, 2) + '\n');
      log(`${p.arch}: c_loss = ${fmt(phase.c_loss)}, c_sharp = ${fmt(phase.c_sharp)}, c_max = ${fmt(phase.c_max)}` +
        (phase.c_diverged === null ? ` (nothing diverged up to 2^${o.xMax}: c_max is a lower bound)` : ''));
      entries.push({ point: p, phase });
    }
  } finally {
    dev.backend.destroy();
  }
  writeAtomic(join(dir, 'phase.csv'), phaseCsv(entries));
  if (entries.some((e) => e.point.width !== null)) {
    // Loaded here: vega and vega-lite would add their start-up time to every other command.
    const [{ renderSvg }, { phaseFigure }] = await Promise.all([import('./plot-command.js'), import('../../core/ts/plot/catapult.js')]);
    mkdirSync(join(dir, 'figures'), { recursive: true });
    writeAtomic(join(dir, 'figures', 'phase.svg'), await renderSvg(phaseFigure(entries, `${o.dataset}, ${o.loss}, T = ${o.steps}, init ${o.initScheme}`)));
  }
  log(`phase.csv: ${join(dir, 'phase.csv')}`);
  return dir;
}

const isInt = (x: number) => Number.isSafeInteger(x) && x >= 0;
const list = (name: string) => (s: string) => {
  let xs: number[];
  try { xs = parseValues(name, s); } catch (e) { throw new InvalidArgumentError((e as Error).message); }
  if (xs.some((x) => !Number.isSafeInteger(x) || x < 1)) throw new InvalidArgumentError(`${name} takes positive integers (128,256,512 or 1..4), got '${s}'`);
  return xs;
};

export interface CatapultCommandContext {
  backendOptions(cmd: Command): Command;
  backendFlags(o: Record<string, unknown>): BackendFlags;
  log(s: string): void;
}

/** Adds `catapult DATASET ARCH LOSS` to the program. */
export function addCatapultCommand(program: Command, x: CatapultCommandContext): void {
  x.backendOptions(program.command('catapult')
    .description('the early-training (catapult) phase diagram: η = c/λ₀ over c = 2^x, batched per architecture; catapult.csv, phase.json, phase.csv, figures/phase.svg')
    .argument('<dataset>', 'dataset id')
    .argument('<arch>', 'architecture (with --widths/--depths: an mlp id whose activation and bias are kept, e.g. mlp:512:relu:nobias)')
    .argument('<loss>', 'mse or ce', (s: string) => { if (s !== 'mse' && s !== 'ce') throw new InvalidArgumentError(`LOSS must be mse or ce, got '${s}'`); return s; }))
    .option('--steps <T>', 'training steps per c (the notebook: 10)', num('--steps', (v) => isInt(v) && v >= 1, 'a positive integer'), 10)
    .option('--div-steps <n>', 'steps within which a c must not diverge for c_max (default: --steps)', num('--div-steps', (v) => isInt(v) && v >= 1, 'a positive integer'))
    .option('--x-start <x>', 'first c = 2^x', num('--x-start', () => true, 'a number'), 0)
    .option('--x-step <s>', 'step in x', num('--x-step', (v) => v > 0, 'a positive number'), 0.2)
    .option('--x-max <x>', 'last x tried (the grid stops earlier at a divergence)', num('--x-max', () => true, 'a number'), 8)
    .option('--sharp-eps <e>', 'c_sharp: the sharpness must exceed (1 + e)·λ₀', num('--sharp-eps', (v) => v >= 0, 'a non-negative number'), 0.05)
    .option('--batch-size <b>', 'SGD minibatch size (0: full-batch GD)', num('--batch-size', isInt, 'a non-negative integer'), 0)
    .option('--seed <s>', 'initialisation seed', num('--seed', (v) => isInt(v) && v <= MAX_SEED, `an integer from 0 to ${MAX_SEED}`), 0)
    .option('--dataset-seed <s>', 'data order / synthetic data seed', num('--dataset-seed', (v) => isInt(v) && v <= MAX_SEED, `an integer from 0 to ${MAX_SEED}`), 0)
    .addOption(new Option('--init-scheme <name>', 'seeded init (default: normal, the notebook\'s σ_w² = 2 hidden, 1 readout)').choices([...INIT_SCHEMES]).default('normal'))
    .option('--init-scale <s>', 'multiply θ₀ by s', num('--init-scale', (v) => v > 0, 'a positive number'), 1)
    .option('--widths <list>', 'hidden widths of the phase diagram (128,256,512)', list('--widths'))
    .option('--depths <list>', 'hidden-layer counts of the phase diagram (2,4)', list('--depths'))
    .option('--diverge-loss <l>', 'a train loss above l counts as divergence (the notebook: 1e5)', num('--diverge-loss', (v) => v > 0, 'a positive number'), 1e5)
    .option('--max-k <k>', `values of c batched per dispatch (at most ${MAX_GROUP_K})`, num('--max-k', (v) => isInt(v) && v >= 1 && v <= MAX_GROUP_K, `an integer from 1 to ${MAX_GROUP_K}`), 16)
    .option('--abridged-size <n>', 'examples used for the sharpness (first n; 0: all)', num('--abridged-size', isInt, 'a non-negative integer'), DEFAULT_RUN.abridgedSize)
    .option('--physical-batch-size <n>', 'examples per device pass', num('--physical-batch-size', (v) => isInt(v) && v >= 1, 'a positive integer'), DEFAULT_RUN.physicalBatchSize)
    .addOption(new Option('--eig-solver <name>', 'eigen-solver').choices(['lanczos', 'lobpcg', 'power']).default(DEFAULT_RUN.eigSolver))
    .option('--standardize', 'npz: datasets: standardise input features')
    .option('--out <dir>', 'output folder (default $EOSLAB_RESULTS/catapult/<dataset>_<arch>_<hash>)')
    .action(async (dataset: string, arch: string, loss: 'mse' | 'ce', o: Record<string, unknown>) => {
      const steps = o.steps as number;
      await runCatapult({
        dataset, arch, loss, steps, divSteps: (o.divSteps as number | undefined) ?? steps, xStart: o.xStart as number, xStep: o.xStep as number, xMax: o.xMax as number,
        sharpEps: o.sharpEps as number, batchSize: o.batchSize as number, seed: o.seed as number, datasetSeed: o.datasetSeed as number,
        initScheme: o.initScheme as InitSchemeName, initScale: o.initScale as number, widths: (o.widths as number[] | undefined) ?? null,
        depths: (o.depths as number[] | undefined) ?? null, divergeLoss: o.divergeLoss as number, maxK: o.maxK as number, abridgedSize: o.abridgedSize as number,
        physicalBatchSize: o.physicalBatchSize as number, eigSolver: o.eigSolver as RunConfig['eigSolver'], standardize: !!o.standardize, out: o.out as string | undefined,
      }, x.backendFlags(o), x.log);
    });
}
