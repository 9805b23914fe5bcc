// A run configuration handed to the page or the element (a JSON attribute, a
// property, the form): checked field by field as data, completed with the
// CLI's defaults, then validated by the same rules as the CLI. Nothing in it
// is ever evaluated.
import { DEFAULT_RUN, validateRun, type RunConfig } from '../../../core/ts/run/config.js';
import type { OptimizerConfig } from '../../../core/ts/optim/optimizers.js';
import { formatFreq } from '../../../core/ts/measure/schedule.js';

type Kind = 'number' | 'int' | 'string' | 'boolean' | 'numberOrNull' | 'opt' | 'lrDrops' | 'init' | 'measures' | 'freq';

const FIELDS: Record<keyof RunConfig, Kind> = {
  kind: 'string', dataset: 'string', arch: 'string', loss: 'string', lr: 'number', maxSteps: 'number',
  tick: 'number', alpha: 'number', maxStepSize: 'number', opt: 'opt', batchSize: 'int', seed: 'int',
  datasetSeed: 'int', physicalBatchSize: 'int', neigs: 'int', eigFreq: 'int', eigSolver: 'string',
  lambdaA: 'boolean', abridgedSize: 'int', accGoal: 'numberOrNull', lossGoal: 'numberOrNull',
  lrDrops: 'lrDrops', nproj: 'int', iterateFreq: 'int', checkpointEvery: 'int', divergeLoss: 'number', init: 'init', measures: 'measures',
  neigsAuto: 'numberOrNull', testFreq: 'freq', initScale: 'number', initScheme: 'string',
};
/** A flow run has no learning rate (the CLI records lr 0). */
const REQUIRED: (keyof RunConfig)[] = ['dataset', 'arch', 'loss', 'maxSteps'];
const OPT_FIELDS: Record<keyof OptimizerConfig, 'string' | 'number' | 'boolean'> = {
  name: 'string', beta: 'number', beta1: 'number', beta2: 'number', eps: 'number', biasCorrection: 'boolean',
};

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function checkField(k: string, kind: Kind, v: unknown): void {
  const bad = (what: string) => new Error(`config.${k} must be ${what}, got ${JSON.stringify(v)?.slice(0, 60)}`);
  switch (kind) {
    case 'number': if (!isNum(v)) throw bad('a finite number'); return;
    case 'int': if (!Number.isSafeInteger(v)) throw bad('an integer'); return;
    case 'string': if (typeof v !== 'string') throw bad('a string'); return;
    case 'boolean': if (typeof v !== 'boolean') throw bad('true or false'); return;
    case 'numberOrNull': if (v !== null && !isNum(v)) throw bad('a number or null'); return;
    case 'init': if (v !== null && !(Array.isArray(v) && v.every(isNum))) throw bad('null or a list of numbers'); return;
    // The shape of each measure's settings; validateRun checks names, rules and option ranges.
    case 'measures':
      if (!isObject(v) || !Object.values(v).every((m) => isObject(m) && isObject(m.freq) && isObject(m.options ?? {}))) {
        throw bad('an object of {"<measure>": {"freq": {"every": F, "after": []}, "options": {…}}}');
      }
      return;
    case 'freq':
      if (!isObject(v) || !Number.isSafeInteger(v.every) || !Array.isArray(v.after)) throw bad('a frequency rule {"every": F, "after": [{"step": S, "every": F2}, …]}');
      return;
    case 'lrDrops':
      if (!Array.isArray(v) || !v.every((d) => isObject(d) && isNum(d.step) && isNum(d.lr) && Object.keys(d).length === 2)) {
        throw bad('a list of {"step": S, "lr": LR}');
      }
      return;
    case 'opt': {
      if (!isObject(v)) throw bad('an object such as {"name": "gd"}');
      for (const [ok, ov] of Object.entries(v)) {
        const t = OPT_FIELDS[ok as keyof OptimizerConfig];
        if (!t) throw new Error(`config.opt.${ok} is not an optimizer field: use ${Object.keys(OPT_FIELDS).join(', ')}`);
        if (ov === undefined) continue;
        if (t === 'number' ? !isNum(ov) : typeof ov !== t) throw new Error(`config.opt.${ok} must be a ${t === 'number' ? 'finite number' : t}, got ${JSON.stringify(ov)}`);
      }
      if (typeof v.name !== 'string') throw new Error('config.opt.name is missing: use gd, polyak, nesterov, ngd, adam or rmsprop');
    }
  }
}

/**
 * `input` as a complete RunConfig (the object metadata.json records under
 * `config`; fields left out take the CLI's defaults), or one clear error.
 */
export function normalizeConfig(input: unknown): RunConfig {
  if (typeof input === 'string') {
    try { input = JSON.parse(input); } catch (e) { throw new Error(`config is not valid JSON (${(e as Error).message.split('\n')[0]}): give an object like {"dataset": "gmm-64-4-2", …}`); }
  }
  if (!isObject(input)) throw new Error('config must be an object like {"dataset": "gmm-64-4-2", "arch": "mlp:8:tanh", "loss": "mse", "lr": 0.1, "maxSteps": 20}');
  for (const [k, v] of Object.entries(input)) {
    const kind = FIELDS[k as keyof RunConfig];
    if (!kind) throw new Error(`config.${k} is not a configuration field: use ${Object.keys(FIELDS).join(', ')}`);
    if (v !== undefined) checkField(k, kind, v);
  }
  const missing = [...REQUIRED, ...(input.kind === 'flow' ? [] : ['lr' as const])].filter((k) => input[k] === undefined);
  if (missing.length) throw new Error(`config lacks ${missing.join(', ')}: give ${missing.map((k) => `"${k}"`).join(', ')}`);
  const kind = input.kind ?? 'train';
  if (kind !== 'train' && kind !== 'flow') throw new Error(`config.kind must be "train" or "flow", got ${JSON.stringify(kind)}`);
  const cfg = { ...structuredClone(DEFAULT_RUN), ...stripUndefined(structuredClone(input)), kind } as RunConfig;
  if (cfg.kind === 'flow' && input.lr === undefined) cfg.lr = 0;
  cfg.lrDrops = [...cfg.lrDrops].sort((a, b) => a.step - b.step);
  validateRun(cfg);
  return cfg;
}

function stripUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The CLI command that runs the same configuration (shown on the page, used by the tests). */
export function cliCommand(cfg: RunConfig): string[] {
  const d = DEFAULT_RUN;
  const a: string[] = cfg.kind === 'train'
    ? ['train', cfg.dataset, cfg.arch, cfg.loss, String(cfg.lr), String(cfg.maxSteps)]
    : ['flow', cfg.dataset, cfg.arch, cfg.loss, String(cfg.tick), String(cfg.maxSteps)];
  const o = cfg.opt;
  if (cfg.kind === 'train' && o.name !== 'gd') a.push('--opt', o.name);
  for (const k of ['beta', 'beta1', 'beta2', 'eps'] as const) if (o[k] !== undefined) a.push(`--${k}`, String(o[k]));
  if (o.biasCorrection === false) a.push('--no-bias-correction');
  const num: [keyof RunConfig, string][] = [
    ['batchSize', '--batch-size'], ['seed', '--seed'], ['datasetSeed', '--dataset-seed'], ['physicalBatchSize', '--physical-batch-size'],
    ['neigs', '--neigs'], ['eigFreq', '--eig-freq'], ['eigSolver', '--eig-solver'], ['abridgedSize', '--abridged-size'],
    ['nproj', '--nproj'], ['iterateFreq', '--iterate-freq'], ['checkpointEvery', '--checkpoint-every'],
    ['initScale', '--init-scale'], ['initScheme', '--init-scheme'],
    ...(cfg.kind === 'flow' ? [['alpha', '--alpha'], ['maxStepSize', '--max-step-size']] as [keyof RunConfig, string][] : []),
  ];
  for (const [k, f] of num) if (cfg[k] !== d[k as keyof typeof d] && !(k === 'neigs' && cfg.neigsAuto != null)) a.push(f, String(cfg[k]));
  if (cfg.neigsAuto != null) a.push('--neigs', `auto:${cfg.neigsAuto}:${cfg.neigs}`);
  if (cfg.testFreq && formatFreq(cfg.testFreq) !== '1') a.push('--test-freq', formatFreq(cfg.testFreq));
  if (cfg.lambdaA) a.push('--lambda-a');
  if (cfg.accGoal !== null) a.push('--acc-goal', String(cfg.accGoal));
  if (cfg.lossGoal !== null) a.push('--loss-goal', String(cfg.lossGoal));
  if (cfg.lrDrops.length) a.push('--lr-drop', cfg.lrDrops.map((x) => `${x.step}:${x.lr}`).join(','));
  return a;
}
