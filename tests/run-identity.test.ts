// Which run a directory holds, and what starting a run may touch: a run is
// reused only when every setting that changes its numbers (and its data) is
// the same; default directory names differ whenever a setting does; ids
// cannot steer files outside the results folder; a user's files survive;
// everything is checked before the first write.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { DEFAULT_RUN, type RunConfig } from '../core/ts/run/config.js';
import { configDiff, configDifferences, describeDifferences, runDirName, safeComponent } from '../core/ts/run/identity.js';
import { checkDataFingerprint, dataFingerprint, loadDatasetNode } from '../hosts/node/dataset-files.js';
import { metadataFor } from '../hosts/node/run-metadata.js';
import { removeRunFiles } from '../hosts/node/run-clean.js';
import { startRun } from '../hosts/node/run-command.js';

const root = mkdtempSync(join(tmpdir(), 'eoslab-identity-'));

function eoslab(...args: string[]) {
  const r = spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', ...args], {
    encoding: 'utf8', timeout: 120_000, env: { ...process.env, EOSLAB_RESULTS: root },
  });
  return { code: r.status, out: r.stdout, err: r.stderr.split('\n').filter((l) => !l.startsWith('Warning: max')).join('\n') };
}

const base: RunConfig = { ...DEFAULT_RUN, kind: 'train', dataset: 'gmm-64-4-2', arch: 'mlp:8:tanh', loss: 'mse', lr: 0.5, maxSteps: 100 };
const SMALL = ['gmm-64-4-2', 'mlp:8:tanh', 'mse'];
const FAST = ['--eig-freq', '0', '--backend', 'wasm', '--threads', '1'];

test('configDiff names every number-changing field by its command-line name, and nothing when they agree', () => {
  assert.equal(configDiff(base, { ...base }), []);
  const cases: [Partial<RunConfig>, string][] = [
    [{ dataset: 'fmnist-1k' }, 'DATASET'], [{ arch: 'mlp:64x64:tanh' }, 'ARCH'], [{ lr: 0.3 }, 'LR'], [{ maxSteps: 50 }, 'MAX_STEPS'],
    [{ lrDrops: [{ step: 20, lr: 0.1 }] }, '--lr-drop'], [{ datasetSeed: 1 }, '--dataset-seed'], [{ eigFreq: 5 }, '--eig-freq'],
    [{ lossGoal: 0.1 }, '--loss-goal'], [{ seed: 3 }, '--seed'], [{ batchSize: 16 }, '--batch-size'], [{ physicalBatchSize: 7 }, '--physical-batch-size'],
    [{ init: [1, 2] }, '--init'], [{ divergeLoss: 5 }, '--diverge-loss'], [{ opt: { name: 'polyak', beta: 0.5 } }, '--opt'],
  ];
  for (const [change, flag] of cases) assert.equal(configDiff(base, { ...base, ...change }), [flag], flag);
  assert.equal(configDiff({ ...base, kind: 'flow', tick: 1 }, { ...base, kind: 'flow', tick: 1, maxSteps: 7 }), ['MAX_TIME']);
});

test('configDiff: an absent optional equals its default; structures compare by value', () => {
  const adam: RunConfig = { ...base, opt: { name: 'adam' } };
  assert.equal(configDiff(adam, { ...base, opt: { name: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8, biasCorrection: true } }), []);
  assert.equal(configDiff(adam, { ...base, opt: { name: 'adam', beta2: 0.99 } }), ['--beta2']);
  assert.equal(configDiff(adam, { ...base, opt: { name: 'adam', biasCorrection: false } }), ['--no-bias-correction']);
  // A run recorded before a field existed ran with its default.
  const old = { ...base } as Partial<RunConfig>;
  delete old.divergeLoss;
  assert.equal(configDiff(old as RunConfig, base), []);
  const drops = [{ step: 20, lr: 0.1 }, { step: 40, lr: 0.01 }];
  assert.equal(configDiff({ ...base, lrDrops: drops }, { ...base, lrDrops: drops.map((d) => ({ ...d })) }), []);
  assert.is(describeDifferences(configDifferences({ ...base, lr: 0.5 }, { ...base, lr: 0.3, lrDrops: [{ step: 20, lr: 0.1 }] })),
    'LR: 0.5 vs 0.3, --lr-drop: none vs 20:0.1');
});

test('default names differ whenever a number-changing setting does, and keep the readable layout', () => {
  // The old name (core/ts/run/config.ts) left these out: such runs shared one directory.
  const variants: Partial<RunConfig>[] = [{ lrDrops: [{ step: 20, lr: 0.1 }] }, { datasetSeed: 1 }, { eigFreq: 5 }, { lossGoal: 0.1 }, { maxSteps: 50 }];
  const names = new Set([runDirName(base), ...variants.map((v) => runDirName({ ...base, ...v }))]);
  assert.is(names.size, variants.length + 1);
  assert.match(runDirName(base), /^gmm-64-4-2\/mlp_8_tanh\/seed_0\/mse\/gd\/lr_0\.5_[0-9a-f]{8}$/);
  assert.is(runDirName({ ...base, opt: { name: 'adam' } }), runDirName({ ...base, opt: { name: 'adam', beta1: 0.9 } }).replace('_beta1_0.9', ''));
  assert.is.not(runDirName(base, { standardize: true }), runDirName(base));
});

test('ids cannot put a run outside the results folder, and no name is too long', () => {
  const ids: Partial<RunConfig>[] = [
    { dataset: 'npz:../../etc/x.npz' }, { arch: 'cnn:c8,p2:relu' }, { arch: 'mlp:' + '8x'.repeat(250) + 'tanh' },
    { dataset: 'gmm-64-4-2/../../..', arch: '..' }, { dataset: '..', arch: '.' }, { arch: '../../../tmp/evil' },
    { dataset: 'npz:/a/b/..' }, { arch: 'mlp:8:tanh\\..\\..\\x' }, { dataset: 'x'.repeat(400) },
  ];
  const results = join(root, 'results');
  for (const id of ids) {
    const name = runDirName({ ...base, ...id });
    const full = resolve(results, name);
    assert.ok(full.startsWith(results + sep) && !relative(results, full).startsWith('..'), `${JSON.stringify(id)} → ${name}`);
    for (const c of name.split('/')) {
      assert.ok(c.length > 0 && c.length <= 80, `component length ${c.length}`);
      assert.ok(c !== '.' && c !== '..' && /^[A-Za-z0-9._=+-]+$/.test(c), c);
    }
    mkdirSync(full, { recursive: true });
  }
  assert.match(runDirName({ ...base, dataset: 'npz:../../etc/x.npz' }), /^npz_x\.npz\//);
  assert.is.not(safeComponent('a'.repeat(100) + 'b'), safeComponent('a'.repeat(100) + 'c'), 'truncated names stay distinct');
});

test('a finished run is not reused for another configuration (it was: "already finished", exit 0)', () => {
  const out = join(root, 'reuse');
  assert.is(eoslab('train', ...SMALL, '0.5', '3', ...FAST, '--out', out).code, 0);
  const same = eoslab('train', ...SMALL, '0.5', '3', ...FAST, '--out', out);
  assert.is(same.code, 0, same.err);
  assert.match(same.out, /already finished/);
  const other = eoslab('train', ...SMALL, '0.3', '3', ...FAST, '--lr-drop', '2:0.1', '--out', out);
  assert.is(other.code, 1);
  assert.is(other.err.trim(), `eoslab: ${out} holds a run with other settings (LR: 0.5 vs 0.3, --lr-drop: none vs 2:0.1): use --out for another directory, or --force to overwrite it`);
  const data = eoslab('train', 'gmm-64-4-3', 'mlp:8:tanh', 'mse', '0.5', '3', ...FAST, '--out', out);
  assert.match(data.err, /holds a run with other settings \(DATASET: gmm-64-4-2 vs gmm-64-4-3\)/);
});

test('a folder that is not a run is refused, and nothing in it is touched (its checkpoints/ used to be deleted)', () => {
  const out = join(root, 'user');
  mkdirSync(join(out, 'checkpoints'), { recursive: true });
  writeFileSync(join(out, 'checkpoints', 'model.pt'), 'precious');
  writeFileSync(join(out, 'metrics.csv'), 'mine\n');
  for (const force of [[], ['--force']]) {
    const r = eoslab('train', ...SMALL, '0.5', '2', ...FAST, ...force, '--out', out);
    assert.is(r.code, 1);
    assert.is(r.err.trim(), `eoslab: ${out} is not empty and holds no eoslab run (no metadata.json): give --out a new or empty directory`);
  }
  assert.is(readFileSync(join(out, 'checkpoints', 'model.pt'), 'utf8'), 'precious');
  assert.is(readFileSync(join(out, 'metrics.csv'), 'utf8'), 'mine\n');
  assert.equal(readdirSync(out).sort(), ['checkpoints', 'metrics.csv']);
});

test('--force on a run recomputes it and keeps the files eoslab did not write', () => {
  const out = join(root, 'forced');
  assert.is(eoslab('train', ...SMALL, '0.5', '4', ...FAST, '--checkpoint-every', '2', '--out', out).code, 0);
  writeFileSync(join(out, 'notes.txt'), 'mine');
  writeFileSync(join(out, 'checkpoints', 'model.pt'), 'mine too');
  const r = eoslab('train', ...SMALL, '0.3', '2', ...FAST, '--force', '--out', out);
  assert.is(r.code, 0, r.err);
  assert.is(readFileSync(join(out, 'notes.txt'), 'utf8'), 'mine');
  const ckpts = readdirSync(join(out, 'checkpoints'));
  assert.ok(ckpts.includes('model.pt'), 'the user file kept');
  assert.not.ok(ckpts.includes('step_4.safetensors') || ckpts.includes('step_4.optim.safetensors'), 'the old run\'s checkpoints removed');
  assert.is(JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8')).config.lr, 0.3);
});

test('removeRunFiles deletes only what eoslab writes', () => {
  const d = join(root, 'clean');
  mkdirSync(join(d, 'checkpoints'), { recursive: true });
  for (const f of ['metrics.csv', 'metadata.json', 'projections.npy', 'metadata.json.tmp-12', 'notes.md', 'metrics.csv.bak']) writeFileSync(join(d, f), 'x');
  for (const f of ['step_0.safetensors', 'step_0.optim.safetensors', 'step_5.safetensors.tmp-7', 'model.pt', 'step_x.safetensors']) writeFileSync(join(d, 'checkpoints', f), 'x');
  removeRunFiles(d);
  assert.equal(readdirSync(d).sort(), ['checkpoints', 'metrics.csv.bak', 'notes.md']);
  assert.equal(readdirSync(join(d, 'checkpoints')).sort(), ['model.pt', 'step_x.safetensors']);
});

test('--out "" is refused (it silently meant the default)', () => {
  const r = eoslab('train', ...SMALL, '0.5', '2', ...FAST, '--out', '');
  assert.is(r.code, 1);
  assert.match(r.err, /^eoslab: --out needs a directory/);
  assert.not.ok(existsSync(join(root, 'gmm-64-4-2')), 'nothing written under the results folder');
});

test('invalid optimizer settings are refused before the directory exists', () => {
  const out = join(root, 'badopt');
  const r = eoslab('train', ...SMALL, '0.5', '2', ...FAST, '--opt', 'adam', '--beta2', '1', '--out', out);
  assert.is(r.code, 1);
  assert.match(r.err, /--beta2 1 freezes v/);
  assert.not.ok(existsSync(out));
});

test('an error mid-run with no checkpoint yet does not suggest resume (it cannot work)', async () => {
  const out = join(root, 'midrun');
  const cfg: RunConfig = { ...base, maxSteps: 2, eigFreq: 0 };
  // The directory vanishes once the run has started: the first row cannot be written, and no checkpoint exists.
  const log = (s: string) => { if (s.startsWith('run directory:')) rmSync(out, { recursive: true, force: true }); };
  const err = await startRun(cfg, { out, command: 'test', backend: 'wasm', threads: 1, log }).then(() => null, (e: Error) => e.message);
  assert.ok(err !== null);
  assert.not.match(err!, /eoslab resume/);
  assert.match(err!, /\(the rows so far are in .*midrun; no checkpoint was written, so it cannot be resumed: rerun with --force to start over\)$/);
  assert.not.ok(existsSync(join(out, '.eoslab.lock')), 'the lock is released on failure');
});

test('metadata.json records the data fingerprint; a run on other data is refused', async () => {
  const out = join(root, 'fp');
  assert.is(eoslab('train', ...SMALL, '0.5', '2', ...FAST, '--out', out).code, 0);
  const meta = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
  const ds = await loadDatasetNode('gmm-64-4-2', { seed: 0 });
  assert.equal(meta.data_fingerprint, dataFingerprint(ds));
  assert.is(meta.data_fingerprint.train.n, ds.train.N);
  // As if the run had been recorded on other files (another $EOSLAB_DATASETS).
  meta.data_fingerprint.train.sha256 = 'ab12' + meta.data_fingerprint.train.sha256.slice(4);
  writeFileSync(join(out, 'metadata.json'), JSON.stringify(meta));
  const r = eoslab('train', ...SMALL, '0.5', '2', ...FAST, '--out', out);
  assert.is(r.code, 1);
  assert.match(r.err, new RegExp(`^eoslab: ${out} was recorded on other data \\(train sha256 ab12.{4}… vs .{8}…\\): point \\$EOSLAB_DATASETS at the files it used, or start a new run`));
});

test('checkDataFingerprint: other data refused, old runs without a fingerprint accepted', async () => {
  const a = dataFingerprint(await loadDatasetNode('gmm-64-4-2', { seed: 0 }));
  const b = dataFingerprint(await loadDatasetNode('gmm-64-4-2', { seed: 1 }));
  checkDataFingerprint({ data_fingerprint: a }, a, 'D');
  checkDataFingerprint({ data_fingerprint: a }, { data_fingerprint: a }, 'D');
  checkDataFingerprint({}, b, 'D');
  assert.throws(() => checkDataFingerprint({ data_fingerprint: a }, b, 'D'), /^D was recorded on other data \(train sha256 /);
});

test('metadata records the effective optimizer, and a flow run as a flow with rows in time', () => {
  const extra = { eoslab_version: '0', command: '', device: {}, matmul_variants: {}, dataset_source: '' };
  const adam = metadataFor({ ...base, opt: { name: 'adam' } }, extra);
  assert.equal(adam.optimizer, { name: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8, bias_correction: true });
  assert.equal(adam.config.opt, { name: 'adam' }, 'config stays as given: resume reads it');
  const flow = metadataFor({ ...base, kind: 'flow', tick: 0.5 }, extra);
  assert.is(flow.optimizer, 'gradient flow (RK4)');
  assert.is(flow.conventions.rows, 'row k measures θ at time k·tick');
});

test.run();
