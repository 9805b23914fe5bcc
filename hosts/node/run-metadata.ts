// metadata.json of a run: its shape, and what a fresh run records (the
// configuration resume reads back, the effective optimizer, the conventions
// the numbers follow).
import type { RunConfig } from '../../core/ts/run/config.js';
import { effectiveOptimizer } from '../../core/ts/run/identity.js';
import { metricsColumns, type ColumnLayout, type StopReason } from '../../core/ts/run/records.js';
import type { DataFingerprint } from './dataset-files.js';

export interface RunMetadata {
  eoslab_version: string;
  command: string;
  config: RunConfig;
  /** What updated θ, as it ran: a gradient flow, or the optimizer with every hyper-parameter (defaults filled in). */
  optimizer?: string | Record<string, string | number | boolean>;
  /** The arrays the run trained and tested on (absent in runs recorded before it existed). */
  data_fingerprint?: DataFingerprint;
  status: 'running' | 'finished';
  stop_reason: StopReason | null;
  last_step: number | null;
  /** backend (webgpu | wasm), adapter, why it was picked; driver (WebGPU) or threads (Wasm). */
  device: Record<string, string | number>;
  matmul_variants: Record<string, string>;
  /** Where the data came from: files (and where), the npm-shipped cache, or generated. */
  dataset_source: string;
  /** The model: parameter count, per-example input shape, and the PyTorch nn.Sequential whose state dict the checkpoints are. */
  model?: { parameters: number; input_shape: number[]; torch_sequential: string };
  conventions: Record<string, string>;
  columns: string[];
  started_at: string;
  finished_at: string | null;
  /** Each resume: when, from which step, and what changed. */
  resumes: { at: string; from_step: number; changes: Record<string, unknown> }[];
}

export function metadataFor(cfg: RunConfig, extra: Pick<RunMetadata, 'eoslab_version' | 'command' | 'device' | 'matmul_variants' | 'dataset_source' | 'model'>, layout: ColumnLayout = {}): RunMetadata {
  return {
    ...extra,
    config: cfg,
    optimizer: optimizerRecord(cfg),
    status: 'running',
    stop_reason: null,
    last_step: null,
    conventions: {
      mse: 'L = (1/N) Σ_i ½‖f(x_i) − y_i‖² (summed over outputs, one-hot targets)',
      ce: 'mean softmax cross-entropy',
      rows: cfg.kind === 'flow' ? 'row k measures θ at time k·tick' : 'row t measures θ_t, before update t',
      lambda: 'top eigenvalues of the full Hessian of the training loss on the first abridged_size examples (exact HVPs)',
      lambda_A: 'top eigenvalue of P^-1/2 H P^-1/2, P = diag(√v̂ + ε)',
      threshold: cfg.kind === 'flow' ? 'none (gradient flow)' : thresholdConvention(cfg),
      checkpoints: 'checkpoints/step_<t>.safetensors holds θ_t as a PyTorch nn.Sequential state dict',
    },
    columns: metricsColumns(cfg, layout),
    started_at: new Date().toISOString(),
    finished_at: null,
    resumes: [],
  };
}

/** `config.opt` leaves defaults out (resume reads it back as given); this spells out what ran. */
export function optimizerRecord(cfg: RunConfig): string | Record<string, string | number | boolean> {
  if (cfg.kind === 'flow') return 'gradient flow (RK4)';
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(effectiveOptimizer(cfg.opt))) out[k === 'biasCorrection' ? 'bias_correction' : k] = v;
  if (cfg.batchSize > 0) out.minibatch_size = cfg.batchSize;
  return out;
}

export function thresholdConvention(cfg: RunConfig): string {
  switch (cfg.opt.name) {
    case 'polyak': return '(2 + 2β)/η';
    case 'nesterov': return '(2 + 2β)/((1 + 2β)η)';
    case 'ngd': return '2‖g‖/η';
    case 'adam': return '(2 + 2β1)/((1 − β1)η), compare with lambda_A';
    case 'rmsprop': return '2/η, compare with lambda_A';
    default: return '2/η';
  }
}
