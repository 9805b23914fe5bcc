// <eoslab-experiment>: one experiment in a page. `config` (property, or a
// JSON `config` attribute) is a RunConfig as metadata.json records it;
// start() / pause() / resume() / stop(); events `record` (a metrics.csv row)
// and `done` ({status, stop_reason}); `records` holds every row so far. The
// engine runs in a module worker beside this file (eoslab-worker.js), so the
// page never blocks. Light DOM (no shadow root), so a page can style it.
import type { RunConfig } from '../../../core/ts/run/config.js';
import type { XAxis } from '../../../core/ts/plot/runs.js';
import { parseBackendChoice, type BackendChoice } from '../../shared/select-backend.js';
import { normalizeConfig } from './config.js';
import { LivePlots } from './plots.js';
import type { FromWorker, RecordRow, ToWorker } from './protocol.js';
import { RunRecord } from './run-record.js';

export type ExperimentStatus = 'idle' | 'running' | 'paused' | 'finished' | 'stopped' | 'error';

const STYLE = `
eoslab-experiment { display: block; font: 14px system-ui, sans-serif; }
.eoslab-controls { display: flex; gap: .4em; align-items: center; flex-wrap: wrap; margin: .3em 0; }
.eoslab-status { color: #555; }
.eoslab-why { color: #555; font-size: 12px; margin: .2em 0; }
.eoslab-error { color: #b00020; margin: .3em 0; }
.eoslab-plots { display: flex; flex-wrap: wrap; gap: .5em; }
`;

function addStyle(): void {
  if (document.getElementById('eoslab-experiment-style')) return;
  const s = document.createElement('style');
  s.id = 'eoslab-experiment-style';
  s.textContent = STYLE;
  document.head.append(s);
}

const on = (el: Element, name: string) => el.hasAttribute(name) && el.getAttribute(name) !== 'false';

export class EoslabExperiment extends HTMLElement {
  static observedAttributes = ['config', 'show-plots', 'show-controls'];

  /** Data files the configuration reads, by their path in the dataset id (e.g. 'mnist/train-images-idx3-ubyte.gz', 'x.npz'). */
  files: Record<string, Uint8Array> = {};
  /** One line: which backend ran and why. */
  why = '';
  /** The last error, one line ('' when none). */
  error = '';
  status: ExperimentStatus = 'idle';

  private raw: unknown = null;
  private run: RunRecord | null = null;
  private worker: Worker | null = null;
  private plots: LivePlots | null = null;
  private ui: { controls: HTMLElement; status: HTMLElement; why: HTMLElement; error: HTMLElement; plots: HTMLElement; buttons: Record<string, HTMLButtonElement> } | null = null;

  get config(): unknown { return this.raw; }
  set config(v: unknown) {
    this.raw = v;
    this.check();
  }

  /** Every row so far, keyed by the metrics.csv column names. */
  get records(): RecordRow[] { return this.run?.records ?? []; }
  /** metadata.json of the current or last run (null before the first start). */
  get metadata(): RunRecord['meta'] | null { return this.run?.meta ?? null; }

  attributeChangedCallback(name: string, _old: string | null, value: string | null): void {
    if (name === 'config' && value !== null) this.config = value;
    else this.layout();
  }

  connectedCallback(): void {
    addStyle();
    if (!this.ui) this.build();
    this.layout();
  }

  disconnectedCallback(): void {
    this.worker?.terminate();
    this.worker = null;
    if (this.status === 'running' || this.status === 'paused') this.setStatus('stopped');
  }

  /** Validates the configuration: true when it would run; otherwise shows the one-line error and returns false. */
  check(): boolean {
    try {
      normalizeConfig(this.raw);
      this.showError('');
      return true;
    } catch (e) {
      this.showError((e as Error).message);
      return false;
    }
  }

  /** Starts a run (or resumes a paused one). Returns false when the configuration is refused (the error shows inline). */
  start(): boolean {
    if (this.status === 'paused') { this.resume(); return true; }
    if (this.status === 'running') return true;
    let cfg: RunConfig, backend: BackendChoice;
    try {
      cfg = normalizeConfig(this.raw);
      backend = parseBackendChoice(this.getAttribute('backend') ?? new URLSearchParams(location.search).get('backend') ?? 'auto');
    } catch (e) {
      this.fail((e as Error).message);
      return false;
    }
    this.showError('');
    this.plots?.clear();
    this.run = new RunRecord(cfg);
    this.why = '';
    if (this.ui) this.ui.why.textContent = 'starting…';
    const w = new Worker(new URL('eoslab-worker.js', import.meta.url), { type: 'module' });
    this.worker = w;
    w.onmessage = (e: MessageEvent<FromWorker>) => { if (this.worker === w) this.receive(e.data); };
    w.onerror = (e) => { e.preventDefault(); if (this.worker === w) this.fail(`the engine's worker failed: ${e.message || 'eoslab-worker.js did not load (serve it beside eoslab.js)'}`); };
    const threads = this.getAttribute('threads');
    const msg: ToWorker = { type: 'start', config: cfg, backend, files: structuredClone(this.files), ...(threads ? { threads: Number(threads) } : {}) };
    w.postMessage(msg);
    this.setStatus('running');
    return true;
  }

  pause(): void {
    if (this.status !== 'running') return;
    this.send({ type: 'pause' });
    this.setStatus('paused');
  }

  resume(): void {
    if (this.status !== 'paused') return;
    this.send({ type: 'resume' });
    this.setStatus('running');
  }

  /** Ends the run after its current row; that row gets a checkpoint. */
  stop(): void {
    if (this.status !== 'running' && this.status !== 'paused') return;
    this.send({ type: 'stop' });
    this.setStatus('running');
  }

  /** The run as a .zip: metrics.csv, metadata.json, checkpoints/ (null before the first start). */
  zip(): Uint8Array | null { return this.run?.zip() ?? null; }

  /** Saves the .zip through the browser (nothing leaves the machine). */
  download(): void {
    const bytes = this.zip();
    if (!bytes) return;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' }));
    const c = this.run!.config;
    a.download = `eoslab-${c.dataset.replace(/[^\w.-]+/g, '_')}-${c.arch.replace(/[^\w.-]+/g, '_')}.zip`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }

  private send(m: ToWorker): void { this.worker?.postMessage(m); }

  private receive(m: FromWorker): void {
    const run = this.run!;
    if (m.type === 'error') { this.fail(m.message); return; }
    run.take(m);
    if (m.type === 'started') {
      this.why = m.why;
      if (this.ui) this.ui.why.textContent = m.why;
    } else if (m.type === 'row') {
      this.dispatchEvent(new CustomEvent('record', { detail: m.row }));
      this.redraw();
    } else if (m.type === 'done') {
      this.worker?.terminate();
      this.worker = null;
      this.setStatus(m.status);
      void this.plots?.flush();
      this.dispatchEvent(new CustomEvent('done', { detail: { status: m.status, stop_reason: m.stop_reason } }));
    }
  }

  private fail(message: string): void {
    this.worker?.terminate();
    const wasRunning = this.worker !== null;
    this.worker = null;
    this.showError(message);
    if (this.ui && !this.why) this.ui.why.textContent = '';
    this.setStatus(wasRunning ? 'error' : this.run ? this.status : 'idle');
    this.dispatchEvent(new CustomEvent('error', { detail: { message } }));
    if (wasRunning) this.dispatchEvent(new CustomEvent('done', { detail: { status: 'error', stop_reason: null, error: message } }));
  }

  private showError(message: string): void {
    this.error = message;
    if (this.ui) {
      this.ui.error.textContent = message;
      this.ui.error.hidden = !message;
    }
  }

  private setStatus(s: ExperimentStatus): void {
    this.status = s;
    if (!this.ui) return;
    const n = this.records.length;
    this.ui.status.textContent = `${s}${n ? ` · ${n} rows` : ''}`;
    const b = this.ui.buttons;
    b.start.disabled = s === 'running';
    b.start.textContent = s === 'paused' ? 'Resume' : 'Start';
    b.pause.disabled = s !== 'running';
    b.stop.disabled = s !== 'running' && s !== 'paused';
    b.download.disabled = !this.run || s === 'running' || s === 'paused';
  }

  private redraw(): void {
    if (this.ui) this.ui.status.textContent = `${this.status} · ${this.records.length} rows`;
    if (!this.plots || !on(this, 'show-plots')) return;
    const run = this.run!;
    this.plots.update(run.meta as never, run.columns, run.records, this.getAttribute('name') ?? 'run');
  }

  private build(): void {
    const el = (tag: string, cls: string) => { const e = document.createElement(tag); e.className = cls; return e; };
    const controls = el('div', 'eoslab-controls'), status = el('span', 'eoslab-status');
    const buttons: Record<string, HTMLButtonElement> = {};
    for (const [k, label] of [['start', 'Start'], ['pause', 'Pause'], ['stop', 'Stop'], ['download', 'Download .zip']]) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.className = `eoslab-${k}`;
      b.addEventListener('click', () => { (this as unknown as Record<string, () => void>)[k](); });
      buttons[k] = b;
      controls.append(b);
    }
    controls.append(status);
    const error = el('div', 'eoslab-error');
    error.setAttribute('role', 'alert');
    error.hidden = !this.error;
    error.textContent = this.error;
    const ui = { controls, status, why: el('div', 'eoslab-why'), error, plots: el('div', 'eoslab-plots'), buttons };
    this.append(ui.controls, ui.why, ui.error, ui.plots);
    this.ui = ui;
    this.plots = new LivePlots(ui.plots, () => (this.getAttribute('x-axis') === 'time' ? 'time' : 'step') as XAxis);
    this.setStatus(this.status);
  }

  private layout(): void {
    if (!this.ui) return;
    this.ui.controls.hidden = !on(this, 'show-controls');
    this.ui.plots.hidden = !on(this, 'show-plots');
  }
}

export function defineExperimentElement(): void {
  if (!customElements.get('eoslab-experiment')) customElements.define('eoslab-experiment', EoslabExperiment);
}
