// `eoslab sweep train DATASET ARCH LOSS LRS MAX_STEPS [flags]` and
// `eoslab sweep CONFIG.json`: LR, MAX_STEPS and every numeric flag take
// lists and ranges (0.01,0.02 | 0..4 | 2^0:4:0.25), the members are their
// Cartesian product, and members that can share a dispatch run as K batched
// models (core/ts/run/sweep.ts). A config file is the same command written
// as JSON: its keys are the flags' names, so both paths share one parser.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { DEFAULT_RUN, MAX_SEED, OPTIMIZER_ALIASES, parseLrDrops, resolveOptimizer, type RunConfig } from '../../core/ts/run/config.js';
import { OPTIMIZERS, type OptimizerConfig } from '../../core/ts/optim/optimizers.js';
import { cartesian, parseValues, type SweepAxis } from '../../core/ts/run/sweep-spec.js';
import { MAX_GROUP_K } from '../../core/ts/run/sweep.js';
import { INIT_SCHEMES } from '../../core/ts/nn/init.js';
import { absoluteDatasetId } from './dataset-files.js';
import type { BackendFlags } from './run-command.js';
import { runSweep, type SweepMemberPlan } from './sweep-run.js';
import { emitSlurm, mergeSweep } from './sweep-slurm.js';

interface ListFlag {
  flag: string;
  /** commander's key. */
  key: string;
  check(x: number): boolean;
  what: string;
  apply(c: RunConfig, x: number): void;
}

const isInt = (x: number) => Number.isSafeInteger(x) && x >= 0;
const opt = (k: keyof OptimizerConfig) => (c: RunConfig, x: number) => { (c.opt as unknown as Record<string, number>)[k] = x; };

/** Every numeric flag of `train` that a sweep takes as a list, with train's range check. */
const LIST_FLAGS: ListFlag[] = [
  { flag: '--seed', key: 'seed', check: (x) => isInt(x) && x <= MAX_SEED, what: `integers from 0 to ${MAX_SEED}`, apply: (c, x) => { c.seed = x; } },
  { flag: '--dataset-seed', key: 'datasetSeed', check: (x) => isInt(x) && x <= MAX_SEED, what: `integers from 0 to ${MAX_SEED}`, apply: (c, x) => { c.datasetSeed = x; } },
  { flag: '--beta', key: 'beta', check: (x) => x >= 0 && x < 1, what: 'in [0, 1)', apply: opt('beta') },
  { flag: '--beta1', key: 'beta1', check: (x) => x >= 0 && x < 1, what: 'in [0, 1)', apply: opt('beta1') },
  { flag: '--beta2', key: 'beta2', check: (x) => x >= 0 && x <= 1, what: 'in [0, 1]', apply: opt('beta2') },
  { flag: '--eps', key: 'eps', check: (x) => x >= 0, what: 'non-negative', apply: opt('eps') },
  { flag: '--batch-size', key: 'batchSize', check: isInt, what: 'non-negative integers', apply: (c, x) => { c.batchSize = x; } },
  { flag: '--physical-batch-size', key: 'physicalBatchSize', check: (x) => isInt(x) && x >= 1, what: 'positive integers', apply: (c, x) => { c.physicalBatchSize = x; } },
  { flag: '--neigs', key: 'neigs', check: (x) => isInt(x) && x >= 1, what: 'positive integers', apply: (c, x) => { c.neigs = x; } },
  { flag: '--eig-freq', key: 'eigFreq', check: isInt, what: 'non-negative integers', apply: (c, x) => { c.eigFreq = x; } },
  { flag: '--abridged-size', key: 'abridgedSize', check: isInt, what: 'non-negative integers', apply: (c, x) => { c.abridgedSize = x; } },
  { flag: '--acc-goal', key: 'accGoal', check: (x) => x > 0 && x <= 1, what: 'in (0, 1]', apply: (c, x) => { c.accGoal = x; } },
  { flag: '--loss-goal', key: 'lossGoal', check: (x) => x > 0, what: 'positive', apply: (c, x) => { c.lossGoal = x; } },
  { flag: '--checkpoint-every', key: 'checkpointEvery', check: isInt, what: 'non-negative integers', apply: (c, x) => { c.checkpointEvery = x; } },
  { flag: '--diverge-loss', key: 'divergeLoss', check: (x) => x > 0, what: 'positive', apply: (c, x) => { c.divergeLoss = x; } },
  { flag: '--init-scale', key: 'initScale', check: (x) => x > 0, what: 'positive', apply: (c, x) => { c.initScale = x; } },
];

/** The flag's values, each range-checked: one line naming the flag for the first bad one. */
export function flagValues(flag: string, s: string, check: (x: number) => boolean, what: string): number[] {
  const xs = parseValues(flag, s);
  const bad = xs.find((x) => !check(x));
  if (bad !== undefined) throw new Error(`${flag} values must be ${what}, got ${bad} (from '${s}')`);
  return xs;
}

const column = (flag: string) => flag.replace(/^--/, '').replace(/-/g, '_');

export interface SweepCommandContext {
  backendOptions(cmd: Command): Command;
  backendFlags(o: Record<string, unknown>): BackendFlags;
  command: string;
  log(s: string): void;
}

function trainCommand(cmd: Command, x: SweepCommandContext): Command {
  let c = x.backendOptions(cmd
    .description('a sweep of train runs: lists and ranges in LRS, MAX_STEPS and numeric flags, their Cartesian product, batched K models per dispatch')
    .argument('<dataset>', 'dataset id')
    .argument('<arch>', 'architecture')
    .argument('<loss>', 'mse or ce')
    .argument('<lrs>', 'learning rates: 0.01,0.02,0.04 | 2^-4:0:1 | …')
    .argument('<max_steps>', 'updates to run (a list takes several)'));
  for (const f of LIST_FLAGS) c = c.option(`${f.flag} <list>`, `${f.flag.slice(2)} values (list or range)`);
  return c
    .addOption(new Option('--opt <name>', 'optimizer').choices([...OPTIMIZERS, ...Object.keys(OPTIMIZER_ALIASES)]).default('gd'))
    .option('--no-bias-correction', 'Adam without bias correction')
    .option('--lambda-a', 'also track λ_A (adam, rmsprop)')
    .addOption(new Option('--eig-solver <name>', 'eigen-solver').choices(['lanczos', 'lobpcg', 'power']).default(DEFAULT_RUN.eigSolver))
    .option('--init-scheme <names>', `seeded init, or several separated by commas (${INIT_SCHEMES.join(', ')})`)
    .option('--lr-drop <drops>', 'learning-rate drops STEP:LR[,STEP:LR…]; alternatives separated by ; (none: no drop) are swept')
    .option('--standardize', 'npz: datasets: standardise input features')
    .option('--max-k <k>', `models batched per dispatch (at most ${MAX_GROUP_K}; memory may lower it)`)
    .option('--out <dir>', 'folder of sweep.json and sweep.csv (default $EOSLAB_RESULTS/sweeps/…); members go where `train` puts them')
    .option('--force', 'recompute finished members')
    .option('--emit <slurm_dir...>', 'write DIR/sweep.json and a SLURM job array DIR/sweep.slurm (one task per group) instead of running: --emit slurm DIR')
    .option('--group <g>', 'run only group g of the sweep (what an array task of --emit slurm runs)');
}

/** The members of a `sweep train` invocation, and the definition a config file would hold. */
export function planMembers(dataset: string, arch: string, loss: string, lrs: string, steps: string, o: Record<string, unknown>, given: (k: string) => boolean):
    { members: SweepMemberPlan[]; columns: string[]; definition: Record<string, unknown> } {
  if (loss !== 'mse' && loss !== 'ce') throw new Error(`LOSS must be mse or ce, got '${loss}'`);
  const axes: SweepAxis[] = [
    { name: 'lr', values: flagValues('LRS', lrs, (x) => x > 0, 'positive') },
    { name: 'max_steps', values: flagValues('MAX_STEPS', steps, isInt, 'non-negative integers') },
  ];
  const definition: Record<string, unknown> = { dataset, arch, loss, lr: lrs, max_steps: steps };
  const flags = LIST_FLAGS.filter((f) => given(f.key));
  for (const f of flags) {
    axes.push({ name: column(f.flag), values: flagValues(f.flag, String(o[f.key]), f.check, f.what) });
    definition[column(f.flag)] = String(o[f.key]);
  }
  if (given('lrDrop')) {
    const alts = String(o.lrDrop).split(';').map((s) => s.trim());
    alts.forEach((a) => { if (a !== 'none') parseLrDrops(a); });
    axes.push({ name: 'lr_drop', values: alts });
    definition.lr_drop = String(o.lrDrop);
  }
  if (given('initScheme')) {
    const names = String(o.initScheme).split(',').map((s) => s.trim());
    const bad = names.find((n) => !(INIT_SCHEMES as readonly string[]).includes(n));
    if (bad !== undefined) throw new Error(`--init-scheme values must be ${INIT_SCHEMES.join(', ')}, got '${bad}' (from '${o.initScheme}')`);
    axes.push({ name: 'init_scheme', values: names });
    definition.init_scheme = String(o.initScheme);
  }
  for (const k of ['opt', 'eigSolver', 'lambdaA', 'standardize', 'maxK'] as const) if (given(k)) definition[column('--' + k.replace(/[A-Z]/g, (ch) => '-' + ch.toLowerCase()))] = o[k];
  if (given('biasCorrection')) definition.bias_correction = o.biasCorrection;
  const members = cartesian(axes).map((params): SweepMemberPlan => {
    const cfg: RunConfig = {
      ...DEFAULT_RUN, kind: 'train', dataset: absoluteDatasetId(dataset), arch, loss, lr: params.lr as number, maxSteps: params.max_steps as number,
      opt: { name: 'gd' }, batchSize: 0, eigSolver: o.eigSolver as RunConfig['eigSolver'], lambdaA: !!o.lambdaA, lrDrops: [],
    };
    for (const f of flags) f.apply(cfg, params[column(f.flag)] as number);
    cfg.opt.name = resolveOptimizer(o.opt as string, cfg.batchSize);
    if (given('biasCorrection')) cfg.opt.biasCorrection = o.biasCorrection as boolean;
    if (params.lr_drop !== undefined && params.lr_drop !== 'none') cfg.lrDrops = parseLrDrops(params.lr_drop as string);
    if (params.init_scheme !== undefined) cfg.initScheme = params.init_scheme as RunConfig['initScheme'];
    return { params, cfg };
  });
  return { members, columns: axes.map((a) => a.name), definition };
}

/** A config file's definition → the arguments of `sweep train` (keys are flag names; lists may be JSON arrays). */
export function configArgs(path: string): string[] {
  let v: unknown;
  try { v = JSON.parse(readFileSync(path, 'utf8')); } catch (e) { throw new Error(`cannot read sweep definition ${path} (${(e as Error).message.split('\n')[0]}): give a JSON file such as a sweep's sweep.json`); }
  const def = (v && typeof v === 'object' && 'definition' in v ? (v as { definition: unknown }).definition : v) as Record<string, unknown>;
  if (!def || typeof def !== 'object' || Array.isArray(def)) throw new Error(`${path} holds no sweep definition: give an object with dataset, arch, loss, lr, max_steps and flags`);
  const str = (k: string) => {
    const x = def[k];
    if (x === undefined || x === null || typeof x === 'object' && !Array.isArray(x)) throw new Error(`${path}: '${k}' is missing: a sweep definition needs dataset, arch, loss, lr and max_steps`);
    return Array.isArray(x) ? x.join(',') : String(x);
  };
  const args = ['train', str('dataset'), str('arch'), str('loss'), str('lr'), str('max_steps')];
  for (const [k, x] of Object.entries(def)) {
    if (['dataset', 'arch', 'loss', 'lr', 'max_steps'].includes(k)) continue;
    if (k === 'bias_correction') { if (x === false) args.push('--no-bias-correction'); continue; }
    const flag = '--' + k.replace(/_/g, '-');
    if (x === true) args.push(flag);
    else if (x !== false && x !== null) args.push(flag, Array.isArray(x) ? x.join(',') : String(x));
  }
  return args;
}

/** Adds `sweep` (CONFIG.json) and `sweep train …` to the program. */
export function addSweepCommand(program: Command, x: SweepCommandContext): void {
  const sweep = program.command('sweep')
    .description('many train runs as K batched models per dispatch: `sweep train DATASET ARCH LOSS LRS MAX_STEPS [flags]`, `sweep CONFIG.json`, or `sweep merge DIR` after a SLURM array')
    .argument('[config]', 'a sweep definition (JSON; a sweep\'s sweep.json reruns it)')
    // Flags after CONFIG.json (--backend, --threads, --force, …) go to `sweep train` as if written there.
    .argument('[flags...]', 'sweep train flags that add to or override the file\'s')
    .allowUnknownOption();
  const train = trainCommand(sweep.command('train'), x).action(async (dataset: string, arch: string, loss: string, lrs: string, steps: string, o: Record<string, unknown>, cmd: Command) => {
    const given = (k: string) => cmd.getOptionValueSource(k) === 'cli';
    const { members, columns, definition } = planMembers(dataset, arch, loss, lrs, steps, o, given);
    const maxK = o.maxK === undefined ? MAX_GROUP_K : flagValues('--max-k', String(o.maxK), (k) => isInt(k) && k >= 1, 'positive integers')[0];
    const plan = { members, columns, definition, maxK, standardize: !!o.standardize, out: o.out as string | undefined, force: !!o.force };
    if (o.emit !== undefined) {
      const e = o.emit as string[];
      if (e.length !== 2 || e[0] !== 'slurm') throw new Error(`--emit takes slurm and a folder (--emit slurm DIR), got '${e.join(' ')}'`);
      if (given('group')) throw new Error('--emit writes every group\'s array task: leave out --group');
      const backendArgs = (['backend', 'threads'] as const).flatMap((k) => given(k) ? [`--${k}`, String(o[k])] : []);
      emitSlurm(plan, e[1], { backendArgs, command: x.command, log: x.log });
      return;
    }
    const group = given('group') ? flagValues('--group', String(o.group), isInt, 'a non-negative integer (an array task index)') : undefined;
    if (group && group.length !== 1) throw new Error(`--group takes one group number, got '${o.group}'`);
    await runSweep({ ...plan, group: group?.[0] }, x.backendFlags(o), x.command, x.log);
  });
  sweep.command('merge')
    .description('write DIR/sweep.csv from the members of DIR/sweep.json (after the array tasks of --emit slurm DIR have run)')
    .argument('<dir>', 'the folder of --emit slurm DIR')
    .action((dir: string) => { mergeSweep(dir, x.log); });
  sweep.action(async (config: string | undefined, flags: string[]) => {
    if (!config) throw new Error('sweep needs `train DATASET ARCH LOSS LRS MAX_STEPS [flags]` or a CONFIG.json');
    await train.parseAsync([...configArgs(config).slice(1), ...flags], { from: 'user' });
  });
}
