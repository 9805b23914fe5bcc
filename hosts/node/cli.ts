// The `eoslab` command (commander). Errors print as one line and exit 1.
import { Command, InvalidArgumentError } from 'commander';
import { runDemo } from './demo.js';

function num(name: string, check: (x: number) => boolean, what: string) {
  return (s: string) => {
    const x = Number(s);
    if (!Number.isFinite(x) || !check(x)) throw new InvalidArgumentError(`${name} must be ${what}, got '${s}'`);
    return x;
  };
}
const int = (name: string) => num(name, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer');

export function buildCli(): Command {
  const program = new Command('eoslab')
    .description('Edge-of-Stability laboratory: curvature-tracked training with exact Hessian-vector products on WebGPU');
  program.command('demo', { isDefault: true })
    .description('full-batch GD on a small MLP, printing loss and λ₁ (exact HVP) against 2/η')
    .option('--dataset <id>', 'dataset id (chebyshev-{3,4,5}-20, gmm-<n>-<d>-<c>)', 'gmm-256-16-4')
    .option('--arch <id>', 'architecture (fc-tanh, mlp:32x32:tanh, …)', 'mlp:64x64:tanh')
    .option('--loss <name>', 'mse or ce', 'mse')
    .option('--lr <eta>', 'learning rate η', num('--lr', (x) => x > 0, 'a positive number'), 0.2)
    .option('--steps <n>', 'gradient steps', int('--steps'), 60)
    .option('--eig-freq <n>', 'measure λ₁ every n steps (0: never)', int('--eig-freq'), 10)
    .option('--seed <s>', 'initialisation and data seed', int('--seed'), 0)
    .option('--physical-batch-size <n>', 'examples per device pass', int('--physical-batch-size'), 1000)
    .option('--save <file>', 'write the final θ as safetensors (PyTorch nn.Sequential keys)')
    .action(async (o) => {
      if (o.loss !== 'mse' && o.loss !== 'ce') throw new InvalidArgumentError(`--loss must be mse or ce, got '${o.loss}'`);
      await runDemo({ dataset: o.dataset, arch: o.arch, loss: o.loss, lr: o.lr, steps: o.steps, eigFreq: o.eigFreq, seed: o.seed, physicalBatch: o.physicalBatchSize, save: o.save });
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildCli().parseAsync(argv);
    return 0;
  } catch (e) {
    console.error(`eoslab: ${(e as Error).message}`);
    return 1;
  }
}
