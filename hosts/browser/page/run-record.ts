// What the page keeps of a run and hands out as a .zip: the files the CLI
// writes into a run directory (metrics.csv, metadata.json,
// checkpoints/step_<t>[.optim].safetensors), so the Node tools, `eoslab
// resume` and pandas read a downloaded run as they read one from disk.
import { zipSync } from 'fflate';
import type { RunConfig } from '../../../core/ts/run/config.js';
import { effectiveOptimizer } from '../../../core/ts/run/identity.js';
import { metricsColumns } from '../../../core/ts/run/records.js';
// Types only: the shape metadata.json has on Node (hosts/node is not bundled into the page).
import type { RunMetadata } from '../../node/run-metadata.js';
import { cliCommand } from './config.js';
import type { FromWorker, RecordRow } from './protocol.js';

declare const __EOSLAB_VERSION__: string;
const VERSION = typeof __EOSLAB_VERSION__ === 'string' ? __EOSLAB_VERSION__ : 'dev';

/** The metadata of the page's runs: RunMetadata's fields, plus status 'stopped' when the visitor stopped it. */
export type PageRunMetadata = Omit<RunMetadata, 'status'> & { status: RunMetadata['status'] | 'stopped' };

function thresholdConvention(cfg: RunConfig): string {
  if (cfg.kind === 'flow') return 'none (gradient flow)';
  switch (cfg.opt.name) {
    case 'polyak': return '(2 + 2β)/η';
    case 'nesterov': return '(2 + 2β)/((1 + 2β)η)';
    case 'ngd': return '2‖g‖/η';
    case 'adam': return '(2 + 2β1)/((1 − β1)η), compare with lambda_A';
    case 'rmsprop': return '2/η, compare with lambda_A';
    default: return '2/η';
  }
}

function optimizerRecord(cfg: RunConfig): string | Record<string, string | number | boolean> {
  if (cfg.kind === 'flow') return 'gradient flow (RK4)';
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(effectiveOptimizer(cfg.opt))) out[k === 'biasCorrection' ? 'bias_correction' : k] = v;
  if (cfg.batchSize > 0) out.minibatch_size = cfg.batchSize;
  return out;
}

export class RunRecord {
  /** The configuration's columns, then the worker's (which know the model's layer names). */
  columns: string[];
  readonly records: RecordRow[] = [];
  readonly lines: string[] = [];
  /** checkpoints/… → bytes. */
  readonly checkpoints: Record<string, Uint8Array> = {};
  readonly meta: PageRunMetadata;

  constructor(readonly config: RunConfig) {
    this.columns = metricsColumns(config);
    this.meta = {
      eoslab_version: VERSION,
      command: `eoslab ${cliCommand(config).join(' ')}`,
      config,
      optimizer: optimizerRecord(config),
      status: 'running', stop_reason: null, last_step: null,
      device: {}, matmul_variants: {}, dataset_source: '',
      conventions: {
        mse: 'L = (1/N) Σ_i ½‖f(x_i) − y_i‖² (summed over outputs, one-hot targets)',
        ce: 'mean softmax cross-entropy',
        rows: config.kind === 'flow' ? 'row k measures θ at time k·tick' : 'row t measures θ_t, before update t',
        lambda: 'top eigenvalues of the full Hessian of the training loss on the first abridged_size examples (exact HVPs)',
        lambda_A: 'top eigenvalue of P^-1/2 H P^-1/2, P = diag(√v̂ + ε)',
        threshold: thresholdConvention(config),
        checkpoints: 'checkpoints/step_<t>.safetensors holds θ_t as a PyTorch nn.Sequential state dict',
      },
      columns: this.columns,
      started_at: new Date().toISOString(),
      finished_at: null,
      resumes: [],
    };
  }

  /** Takes one worker message into the record. */
  take(m: FromWorker): void {
    if (m.type === 'started') {
      Object.assign(this.meta, { device: m.device, matmul_variants: m.matmul_variants, dataset_source: m.dataset_source });
      if (m.model) this.meta.model = m.model;
      this.columns = m.columns;
      this.meta.columns = m.columns;
    } else if (m.type === 'row') {
      this.records.push(m.row);
      this.lines.push(m.line);
    } else if (m.type === 'checkpoint') {
      Object.assign(this.checkpoints, m.files);
    } else if (m.type === 'done') {
      Object.assign(this.meta, { status: m.status, stop_reason: m.stop_reason, last_step: m.last_step, finished_at: new Date().toISOString() });
    }
  }

  csv(): string {
    return [this.columns.join(','), ...this.lines].map((l) => l + '\n').join('');
  }

  zip(): Uint8Array {
    const enc = new TextEncoder();
    return zipSync({
      'metrics.csv': enc.encode(this.csv()),
      'metadata.json': enc.encode(JSON.stringify(this.meta, null, 2) + '\n'),
      ...this.checkpoints,
    });
  }
}
