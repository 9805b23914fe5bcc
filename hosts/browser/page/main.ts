// The page (build/web/index.html → page.js): presets and a form that edit a
// run configuration, files the visitor picks, and one <eoslab-experiment>
// per configuration (eoslab.js defines it). The form is read as data: every
// number is parsed as a plain decimal, then the whole configuration is
// validated by the CLI's rules; a mistake shows in one line beside the form.
import type { RunConfig } from '../../../core/ts/run/config.js';
import { parseLrDrops, resolveOptimizer } from '../../../core/ts/run/config.js';
import type { EoslabExperiment } from './element.js';
import { cliCommand, normalizeConfig } from './config.js';
import { PRESETS, type Preset } from './presets.js';

const $ = <T extends HTMLElement = HTMLInputElement>(id: string) => document.getElementById(id) as T;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Form field id → RunConfig key (numbers). */
const NUMERIC: Record<string, string> = {
  lr: 'lr', maxSteps: 'maxSteps', tick: 'tick', neigs: 'neigs', eigFreq: 'eigFreq', batchSize: 'batchSize',
  seed: 'seed', datasetSeed: 'datasetSeed', abridgedSize: 'abridgedSize',
};
const OPT_NUMERIC = ['beta', 'beta1', 'beta2', 'eps'] as const;

let files: Record<string, Uint8Array> = {};
let preset: Preset | null = null;

function num(id: string, label = id): number | undefined {
  const s = $(id).value.trim();
  if (s === '') return undefined;
  if (!NUMBER.test(s)) throw new Error(`${label}: '${s}' is not a number: write it as a plain decimal such as 0.1 or 1e-3`);
  return Number(s);
}

/** The form as a partial RunConfig (empty fields take the CLI's defaults). */
export function formConfig(): Record<string, unknown> {
  const c: Record<string, unknown> = {
    kind: $<HTMLSelectElement>('kind').value, dataset: $('dataset').value.trim(), arch: $('arch').value.trim(),
    loss: $<HTMLSelectElement>('loss').value, eigSolver: $<HTMLSelectElement>('eigSolver').value, lambdaA: $('lambdaA').checked,
  };
  for (const [id, key] of Object.entries(NUMERIC)) c[key] = num(id);
  const batch = (c.batchSize as number | undefined) ?? 0;
  const opt: Record<string, unknown> = { name: resolveOptimizer($<HTMLSelectElement>('opt').value, batch) };
  for (const k of OPT_NUMERIC) opt[k] = num(k);
  c.opt = opt;
  const drops = $('lrDrops').value.trim();
  c.lrDrops = drops ? parseLrDrops(drops) : [];
  if (c.kind === 'flow') { delete c.lr; delete c.opt; delete c.lrDrops; }
  return c;
}

function fillForm(cfg: RunConfig): void {
  $<HTMLSelectElement>('kind').value = cfg.kind;
  $('dataset').value = cfg.dataset;
  $('arch').value = cfg.arch;
  $<HTMLSelectElement>('loss').value = cfg.loss;
  $<HTMLSelectElement>('eigSolver').value = cfg.eigSolver;
  $('lambdaA').checked = cfg.lambdaA;
  for (const [id, key] of Object.entries(NUMERIC)) $(id).value = cfg.kind === 'flow' && id === 'lr' ? '' : String(cfg[key as keyof RunConfig]);
  $<HTMLSelectElement>('opt').value = cfg.opt.name;
  for (const k of OPT_NUMERIC) $(k).value = cfg.opt[k] === undefined ? '' : String(cfg.opt[k]);
  $('lrDrops').value = cfg.lrDrops.map((d) => `${d.step}:${d.lr}`).join(',');
}

function choosePreset(id: string): void {
  preset = PRESETS.find((p) => p.id === id) ?? null;
  if (!preset) return;
  fillForm(normalizeConfig(preset.configs[0]));
  if (preset.files) files = { ...files, ...preset.files() };
  $('preset-note').textContent = preset.configs.length > 1
    ? `also runs beside it: ${preset.configs.slice(1).map((c) => cliCommand(normalizeConfig(c)).join(' ')).join('; ')}`
    : '';
  showConfig();
}

/** The configurations a Run starts: the form's, and a preset's companions. */
function configs(): RunConfig[] {
  const first = normalizeConfig(formConfig());
  return [first, ...(preset && preset.configs.length > 1 ? preset.configs.slice(1).map((c) => normalizeConfig(c)) : [])];
}

function showConfig(): RunConfig[] | null {
  const err = $<HTMLElement>('form-error');
  try {
    const cs = configs();
    err.textContent = '';
    err.hidden = true;
    $<HTMLElement>('command').textContent = cs.map((c) => `eoslab ${cliCommand(c).join(' ')}`).join('\n');
    return cs;
  } catch (e) {
    err.textContent = (e as Error).message;
    err.hidden = false;
    return null;
  }
}

/** Where each picked file goes among the dataset folders the loaders know ($EOSLAB_DATASETS layout). */
function placeFile(name: string, dataset: string): string {
  if (/\.npz$/i.test(name)) return name;
  const family = /^(fmnist|mnist|cifar10|svhn)/.exec(dataset)?.[1];
  if (family === 'cifar10') return `cifar10/cifar-10-batches-${/\.bin$/.test(name) ? 'bin' : 'py'}/${name}`;
  return family ? `${family}/${name}` : name;
}

async function pickFiles(): Promise<void> {
  const picked = Array.from($('files').files ?? []);
  const npz = picked.find((f) => /\.npz$/i.test(f.name));
  if (npz) $('dataset').value = `npz:${npz.name}`;
  for (const f of picked) files[placeFile(f.name, $('dataset').value)] = new Uint8Array(await f.arrayBuffer());
  $<HTMLElement>('file-info').textContent = picked.length ? `${picked.length} file(s) loaded in this page (never uploaded): ${picked.map((f) => f.name).join(', ')}` : '';
  showConfig();
}

/** Replaces the experiments with one element per configuration and starts them. */
export function run(): EoslabExperiment[] {
  const cs = showConfig();
  if (!cs) return [];
  const box = $<HTMLElement>('experiments');
  box.replaceChildren();
  const els = cs.map((c, i) => {
    const el = document.createElement('eoslab-experiment') as EoslabExperiment;
    el.setAttribute('show-plots', '');
    el.setAttribute('show-controls', '');
    el.setAttribute('backend', $<HTMLSelectElement>('backend').value);
    el.setAttribute('name', cs.length > 1 ? `run ${i + 1}` : 'run');
    if (cs.length > 1) el.setAttribute('x-axis', 'time');
    el.files = files;
    el.config = c;
    box.append(el);
    return el;
  });
  els.forEach((el) => el.start());
  return els;
}

function init(): void {
  const sel = $<HTMLSelectElement>('preset');
  for (const p of PRESETS) sel.append(new Option(p.label, p.id));
  const backend = new URLSearchParams(location.search).get('backend');
  if (backend && ['auto', 'webgpu', 'wasm'].includes(backend)) $<HTMLSelectElement>('backend').value = backend;
  sel.addEventListener('change', () => choosePreset(sel.value));
  $('form').addEventListener('input', () => { showConfig(); });
  $('form').addEventListener('submit', (e) => { e.preventDefault(); run(); });
  $('files').addEventListener('change', () => void pickFiles().catch((e) => { $<HTMLElement>('form-error').textContent = (e as Error).message; $<HTMLElement>('form-error').hidden = false; }));
  choosePreset(new URLSearchParams(location.search).get('preset') ?? PRESETS[0].id);
  sel.value = preset?.id ?? PRESETS[0].id;
}

(globalThis as unknown as { __eoslabPage: unknown }).__eoslabPage = { run, formConfig };
init();
