// Messages between the page (the <eoslab-experiment> element) and the module
// worker that runs the engine.
import type { RunConfig } from '../../../core/ts/run/config.js';
import type { BackendChoice } from '../../shared/select-backend.js';

export type ToWorker =
  | { type: 'start'; config: RunConfig; backend: BackendChoice; files: Record<string, Uint8Array>; threads?: number }
  | { type: 'pause' } | { type: 'resume' } | { type: 'stop' };

/** A metrics.csv row: the column names as keys, null for an empty cell. */
export type RecordRow = Record<string, number | null>;

export type FromWorker =
  | { type: 'started'; why: string; device: Record<string, string | number>; matmul_variants: Record<string, string>;
      dataset_source: string; model: { parameters: number; input_shape: number[]; torch_sequential: string } | null;
      /** metrics.csv columns, the model's layer names included (per-layer measures). */
      columns: string[] }
  | { type: 'row'; row: RecordRow; line: string }
  | { type: 'checkpoint'; step: number; files: Record<string, Uint8Array> }
  | { type: 'done'; status: 'finished' | 'stopped'; stop_reason: string; last_step: number | null }
  | { type: 'error'; message: string };
