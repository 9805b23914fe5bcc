// The module worker that runs one experiment for the page (bundled into
// build/web/eoslab-worker.js), so the page never blocks: it loads the data
// (synthetic, or the visitor's files through the same loaders as Node),
// picks the backend, runs runExperiment and posts every row and the final
// checkpoint back. Pause and stop act in the sink, between rows, so a paused
// run continues the same trajectory.
import { encodeSafetensors, type TensorEntry } from '../../../core/ts/io/safetensors.js';
import { stateDictFromTheta } from '../../../core/ts/io/torch-state-dict.js';
import { torchSequential, type Model } from '../../../core/ts/nn/model.js';
import { validateRunData, type RunConfig } from '../../../core/ts/run/config.js';
import { runExperiment, type RunData } from '../../../core/ts/run/experiment.js';
import { dataFreeParams, runModel } from '../../../core/ts/run/problem.js';
import { columnLayout, metricsColumns, metricsLine, type Checkpoint } from '../../../core/ts/run/records.js';
import type { WebGPUBackend } from '../../../core/ts/backend/webgpu/backend.js';
import { loadDatasetFrom } from '../../../datasets/registry.js';
import { memoryFiles } from '../../../datasets/sources.js';
import { selectBackend } from '../../shared/select-backend.js';
import { createBrowserGpu } from '../device.js';
import { createBrowserWasm } from '../wasm.js';
import type { FromWorker, RecordRow, ToWorker } from './protocol.js';

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

let paused: { since: number; resume: () => void; wait: Promise<void> } | null = null;
let stopRequested = false;
let pausedMs = 0;

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.type === 'start') void start(m).catch((err) => post({ type: 'error', message: oneLine(err) }));
  else if (m.type === 'pause' && !paused) {
    let resume!: () => void;
    const wait = new Promise<void>((r) => { resume = r; });
    paused = { since: performance.now(), resume, wait };
  } else if ((m.type === 'resume' || m.type === 'stop') && paused) {
    pausedMs += performance.now() - paused.since;
    paused.resume();
    paused = null;
  }
  if (m.type === 'stop') stopRequested = true;
};

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

async function loadData(cfg: RunConfig, files: Record<string, Uint8Array>): Promise<{ data: RunData | null; source: string }> {
  if (dataFreeParams(cfg.dataset) !== null) return { data: null, source: `objective ${cfg.dataset} (no data)` };
  const ds = await loadDatasetFrom(cfg.dataset, { seed: cfg.datasetSeed, files: memoryFiles(files, '(files picked in the page)') });
  return { data: { shape: ds.shape, d: ds.d, c: ds.c, train: ds.train, test: ds.test }, source: ds.source };
}

/** The two files the CLI writes per checkpoint (hosts/node/run-dir.ts), so a downloaded run resumes there too. */
function checkpointFiles(model: Model | null, c: Checkpoint): Record<string, Uint8Array> {
  const meta = { format: 'pt', step: String(c.step), ...(c.time !== undefined ? { time: String(c.time) } : {}) };
  const wall: Record<string, string> = c.wall_s !== undefined ? { wall_s: String(c.wall_s) } : {};
  const params = model ? stateDictFromTheta(model, c.theta, c.bnRunning) : [{ name: 'theta', dtype: 'F32' as const, shape: [c.theta.length], data: c.theta }];
  const tensors: TensorEntry[] = [
    ...Object.entries(c.optTensors).map(([name, data]) => ({ name: `optimizer.${name}`, dtype: 'F32' as const, shape: [data.length], data })),
    ...c.eigvecs.map((data, i) => ({ name: `eigvec.${i}`, dtype: 'F32' as const, shape: [data.length], data })),
  ];
  return {
    [`checkpoints/step_${c.step}.safetensors`]: encodeSafetensors(params, meta),
    [`checkpoints/step_${c.step}.optim.safetensors`]: encodeSafetensors(tensors, {
      ...meta, ...wall, opt_step: String(c.optStep), sharpness: c.sharpness === null ? '' : String(c.sharpness),
    }),
  };
}

/** The row as metrics.csv holds it: the same cells, read back as numbers. */
function toRecord(columns: string[], line: string): RecordRow {
  const cells = line.split(',');
  return Object.fromEntries(columns.map((c, i) => [c, cells[i] === '' ? null : cells[i] === 'inf' ? Infinity : cells[i] === '-inf' ? -Infinity : Number(cells[i])]));
}

async function start(m: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const cfg = m.config;
  const { data, source } = await loadData(cfg, m.files);
  validateRunData(cfg, data);
  const model = data ? runModel(cfg, data) : null;
  const P = dataFreeParams(cfg.dataset) ?? model!.P;
  if (cfg.eigFreq > 0 && cfg.neigs > P) throw new Error(`--neigs ${cfg.neigs} exceeds the model's ${P} parameters`);
  const sel = await selectBackend(m.backend, {
    webgpu: () => createBrowserGpu(),
    wasm: () => createBrowserWasm({ threads: m.threads, workerUrl: new URL('wasm-worker.js', import.meta.url) }),
  });
  const { backend } = sel;
  const device: Record<string, string | number> = { backend: backend.kind, adapter: backend.description, why: sel.why, host: 'browser' };
  if (backend.kind === 'wasm') device.threads = (backend as { threads?: number }).threads ?? 1;
  const layout = columnLayout(model);
  const columns = metricsColumns(cfg, layout);
  let started = false;
  try {
    const result = await runExperiment(backend, cfg, data, {
      row: async (r) => {
        const line = metricsLine(cfg, r, layout);
        post({ type: 'row', row: toRecord(columns, line), line });
        // A macrotask per row: the Wasm core's ops resolve as microtasks, and pause/stop messages need a turn.
        await new Promise((res) => setTimeout(res, 0));
        while (paused) await paused.wait;
      },
      checkpoint: (c) => {
        const files = checkpointFiles(model, c);
        post({ type: 'checkpoint', step: c.step, files }, Object.values(files).map((b) => b.buffer as ArrayBuffer));
      },
    }, {
      // Stop ends the run at the current row, with its checkpoint.
      stopRequested: () => stopRequested,
      now: () => performance.now() - pausedMs - (paused ? performance.now() - paused.since : 0),
      prepare: async (objs) => {
        for (const o of objs) await o.tune();
        const gpu = sel.gpu?.backend as WebGPUBackend | undefined;
        started = true;
        post({
          type: 'started', why: sel.why, device, dataset_source: source, columns,
          matmul_variants: gpu ? Object.fromEntries(gpu.tuner.choices) : {},
          model: model ? { parameters: model.P, input_shape: model.inShape, torch_sequential: torchSequential(model) } : null,
        });
      },
    });
    post({ type: 'done', status: result.reason === 'stopped' ? 'stopped' : 'finished', stop_reason: result.reason, last_step: result.step });
  } finally {
    if (!started) post({ type: 'started', why: sel.why, device, dataset_source: source, matmul_variants: {}, model: null, columns });
    backend.destroy();
  }
}
