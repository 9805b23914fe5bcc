// --init-scale and --init-scheme (issue 13, part 1): θ₀ = scale × the seeded
// init exactly, the notebook's normal scheme, both recorded and hashed, runs
// recorded before the fields existed keep their hash and resume, bad values
// are one line, and a sweep takes the scale as a list.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors } from '../core/ts/io/safetensors.js';
import { DEFAULT_RUN, type RunConfig } from '../core/ts/run/config.js';
import { configDifferences, runDirName } from '../core/ts/run/identity.js';
import { initParams, namedInitScheme } from '../core/ts/nn/init.js';
import { modelFromArch, parseArchId } from '../core/ts/nn/arch.js';
import { Dense } from '../core/ts/nn/layers/dense.js';
import { normalizeConfig } from '../hosts/browser/page/config.js';

const CLI = 'hosts/node/bin/eoslab.mjs';
const tmp = () => mkdtempSync(join(tmpdir(), 'eoslab-init-'));

function eoslab(results: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, EOSLAB_RESULTS: results } });
  return { code: r.status, out: r.stdout, err: r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning: max')).join('\n') };
}

/** θ of a checkpoint, the tensors concatenated in file order (the same order for the same architecture). */
function checkpointTheta(dir: string, step: number): Float32Array[] {
  const bytes = readFileSync(join(dir, 'checkpoints', `step_${step}.safetensors`));
  return decodeSafetensors(new Uint8Array(bytes)).tensors.filter((t) => /^\d+\.(weight|bias)$/.test(t.name))
    .sort((a, b) => a.name.localeCompare(b.name)).map((t) => t.data as Float32Array);
}

const cfg = (over: Partial<RunConfig> = {}): RunConfig =>
  ({ ...DEFAULT_RUN, kind: 'train', dataset: 'gmm-64-4-2', arch: 'mlp:8:tanh', loss: 'mse', lr: 0.1, maxSteps: 3, ...over });

test('train --init-scale 2: the recorded θ₀ is exactly twice the default θ₀ (the flag did not exist before)', () => {
  const res = tmp();
  const a = join(res, 'a'), b = join(res, 'b');
  for (const [out, extra] of [[a, []], [b, ['--init-scale', '2']]] as const) {
    const r = eoslab(res, 'train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '0', '--backend', 'wasm', '--checkpoint-every', '1', '--out', out, ...extra);
    assert.is(r.code, 0, r.err);
  }
  const ta = checkpointTheta(a, 0), tb = checkpointTheta(b, 0);
  assert.is(ta.length, tb.length);
  ta.forEach((t, i) => assert.equal(Array.from(tb[i]), Array.from(t).map((x) => 2 * x)));
  const meta = JSON.parse(readFileSync(join(b, 'metadata.json'), 'utf8'));
  assert.is(meta.config.initScale, 2);
  assert.is(meta.config.initScheme, 'default');
});

test('init schemes: normal is N(0, 2/fan_in) hidden, N(0, 1/fan_in) readout, zero bias; torch overrides Myrtle\'s own', () => {
  const model = modelFromArch('mlp:400x400:relu', [300], 4);
  const th = initParams(model, { seed: 3, scheme: namedInitScheme('normal', undefined) });
  const dense = model.layers.filter((l): l is Dense => l instanceof Dense);
  dense.forEach((l, i) => {
    const w = th.subarray(l.w.off, l.w.off + l.w.size);
    const want = (i === dense.length - 1 ? 1 : 2) / l.inDim;
    const v = w.reduce((s, x) => s + x * x, 0) / w.length;
    // ≥ 1600 draws: a 10% band is > 2.8 standard errors of the sample variance (√(2/1600) ≈ 3.5%).
    assert.ok(Math.abs(v / want - 1) < 0.1, `layer ${i}: variance ${v} vs ${want}`);
    assert.ok(th.subarray(l.bias!.off, l.bias!.off + l.bias!.size).every((x) => x === 0), 'zero bias');
  });
  assert.equal(namedInitScheme('default', parseArchId('myrtle5', 10).init), parseArchId('myrtle5', 10).init);
  assert.equal(namedInitScheme('torch', parseArchId('myrtle5', 10).init), { kind: 'pytorch' });
  assert.equal(namedInitScheme('default', undefined), { kind: 'pytorch' });
});

test('identity: the scale and scheme change the hash and are named as differences; a run recorded without them keeps its hash', () => {
  const old = cfg() as Partial<RunConfig>;
  delete old.initScale;
  delete old.initScheme;
  assert.is(runDirName(old as RunConfig), runDirName(cfg()), 'defaults are invisible to the hash');
  assert.is.not(runDirName(cfg({ initScale: 2 })), runDirName(cfg()));
  assert.is.not(runDirName(cfg({ initScheme: 'normal' })), runDirName(cfg()));
  assert.equal(configDifferences(old as RunConfig, cfg()), []);
  assert.equal(configDifferences(cfg(), cfg({ initScale: 0.5 })).map((d) => d.flag), ['--init-scale']);
  assert.equal(configDifferences(cfg(), cfg({ initScheme: 'torch' })).map((d) => d.flag), ['--init-scheme']);
});

test('a run recorded before the fields existed resumes with scale 1', () => {
  const res = tmp(), out = join(res, 'r');
  let r = eoslab(res, 'train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '2', '--backend', 'wasm', '--eig-freq', '0', '--out', out);
  assert.is(r.code, 0, r.err);
  const metaPath = join(out, 'metadata.json');
  const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
  delete meta.config.initScale;
  delete meta.config.initScheme;
  writeFileSync(metaPath, JSON.stringify(meta, null, 2));
  r = eoslab(res, 'resume', out, '--max-steps', '4', '--backend', 'wasm');
  assert.is(r.code, 0, r.err);
  const rows = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
  assert.is(rows.length, 1 + 5, 'steps 0..4');
  // The same command again reuses it: the recorded config (no fields) equals the request (defaults).
  r = eoslab(res, 'train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '4', '--backend', 'wasm', '--eig-freq', '0', '--out', out);
  assert.is(r.code, 0, r.err);
});

test('bad values: one line naming the flag; the page config takes and checks the fields', () => {
  const res = tmp();
  let r = eoslab(res, 'train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '1', '--init-scale', '0');
  assert.is.not(r.code, 0);
  assert.match(r.err, /--init-scale must be a positive number/);
  assert.is(r.err.split('\n').length, 1, r.err);
  r = eoslab(res, 'train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '1', '--init-scheme', 'xavier');
  assert.is.not(r.code, 0);
  assert.match(r.err, /--init-scheme/);
  assert.is(r.err.split('\n').length, 1, r.err);
  const base = { dataset: 'gmm-64-4-2', arch: 'mlp:8:tanh', loss: 'mse', lr: 0.1, maxSteps: 2 };
  assert.is(normalizeConfig({ ...base, initScale: 0.5, initScheme: 'normal' }).initScale, 0.5);
  assert.is(normalizeConfig(base).initScale, 1);
  assert.throws(() => normalizeConfig({ ...base, initScale: -1 }), /--init-scale must be a positive number/);
  assert.throws(() => normalizeConfig({ ...base, initScheme: 'xavier' }), /unknown --init-scheme 'xavier': use default, torch, normal/);
});

test('sweep --init-scale 0.5,1 --init-scheme default,normal: four members, init_scale and init_scheme columns', () => {
  const res = tmp(), out = join(res, 'sw');
  const r = eoslab(res, 'sweep', 'train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '1', '--init-scale', '0.5,1', '--init-scheme', 'default,normal',
    '--eig-freq', '0', '--backend', 'wasm', '--out', out);
  assert.is(r.code, 0, r.err);
  const lines = readFileSync(join(out, 'sweep.csv'), 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  assert.ok(header.includes('init_scale') && header.includes('init_scheme'), lines[0]);
  const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((c, i) => [header[i], c])));
  assert.equal(rows.map((x) => `${x.init_scale}/${x.init_scheme}`), ['0.5/default', '0.5/normal', '1/default', '1/normal']);
  assert.ok(rows.every((x) => x.status === 'finished'));
  assert.is(new Set(rows.map((x) => x.train_loss)).size, 4, 'each member started from its own θ₀');
  assert.is(readdirSync(res).length > 0, true);
});

test.run();
