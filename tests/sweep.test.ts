// `eoslab sweep`: K members batched in every dispatch equal the same members
// run alone with `eoslab train` (bit for bit, on the Wasm core and on
// WebGPU with the same adapter and kernel choices), a diverging member is
// recorded at its step without touching the others, lists and ranges parse
// (bad ones: one line naming the flag), an interrupted sweep finishes only
// its unfinished members, and sweep.csv reads back one row per member.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseValues, groupMembers } from '../core/ts/run/sweep-spec.js';
import { maxMembers } from '../core/ts/run/sweep-plan.js';
import { BACKENDS } from './helpers/backends.js';
import { DEFAULT_RUN, type RunConfig } from '../core/ts/run/config.js';

const CLI = 'hosts/node/bin/eoslab.mjs';
const PROBLEM = ['gmm-64-4-2', 'mlp:8:tanh', 'mse'];

/** Runs the CLI with results under `results`; `cache` (WebGPU): the autotune cache folder (EOSLAB_CACHE). */
function eoslab(results: string | { results: string; cache: string }, ...args: string[]) {
  const env = typeof results === 'string' ? { EOSLAB_RESULTS: results } : { EOSLAB_RESULTS: results.results, EOSLAB_CACHE: results.cache };
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning: max')).join('\n') };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'eoslab-sweep-'));

/** RFC 4180 rows (quoted cells may hold commas), as pandas reads them. */
function readCsv(path: string): { header: string[]; rows: Record<string, string>[] } {
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => {
    const cells: string[] = [];
    let cur = '', q = false;
    for (let i = 0; i < l.length; i++) {
      const ch = l[i];
      if (q) { if (ch === '"' && l[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') q = false; else cur += ch; }
      else if (ch === '"') q = true; else if (ch === ',') { cells.push(cur); cur = ''; } else cur += ch;
    }
    cells.push(cur);
    return cells;
  });
  const header = lines[0];
  return { header, rows: lines.slice(1).map((c) => Object.fromEntries(header.map((h, i) => [h, c[i]]))) };
}

/** metrics.csv without wall_s (the only column that may differ between two runs of the same member). */
function rowsWithoutWall(dir: string): string[][] {
  const { header, rows } = readCsv(join(dir, 'metrics.csv'));
  return rows.map((r) => header.filter((h) => h !== 'wall_s').map((h) => r[h]));
}

/** The last checkpoint's bytes (empty when there is none: a member that diverged before its first checkpoint). */
function lastCheckpoint(dir: string): Buffer {
  const steps = readdirSync(join(dir, 'checkpoints')).map((f) => /^step_(\d+)\.safetensors$/.exec(f)).filter(Boolean).map((m) => Number(m![1]));
  return steps.length ? readFileSync(join(dir, 'checkpoints', `step_${Math.max(...steps)}.safetensors`)) : Buffer.alloc(0);
}

/**
 * Runs each member of a sweep alone with `eoslab train` under another results
 * folder and checks its directory equals the member's: the same relative path
 * (so the same configuration hash), metrics.csv bit for bit except wall_s, and
 * the final checkpoint's bytes (θ).
 */
function assertMembersEqualAlone(results: string, sweepCsv: string, trainArgs: (row: Record<string, string>) => string[], gpuCache?: string) {
  const alone = tmp();
  for (const row of readCsv(sweepCsv).rows) {
    const r = gpuCache ? eoslab({ results: alone, cache: gpuCache }, 'train', ...PROBLEM, ...trainArgs(row), '--backend', 'webgpu')
      : eoslab(alone, 'train', ...PROBLEM, ...trainArgs(row), '--backend', 'wasm');
    assert.is(r.code, 0, r.err);
    const other = join(alone, relative(results, row.dir));
    assert.ok(existsSync(join(other, 'metadata.json')), `alone run of member ${row.member} is at ${other}: the same configuration, the same directory name`);
    assert.equal(rowsWithoutWall(row.dir), rowsWithoutWall(other), `member ${row.member} (lr=${row.lr}) metrics.csv`);
    assert.ok(lastCheckpoint(row.dir).equals(lastCheckpoint(other)), `member ${row.member} final θ`);
  }
}

test('list and range syntax: 2^0:4:0.25 is 17 powers of two, 0..4 five integers; groups split by what cannot share a dispatch', () => {
  const g = parseValues('LRS', '2^0:4:0.25');
  assert.is(g.length, 17);
  assert.is(g[0], 1);
  assert.is(g[4], 2);
  assert.is(g[16], 16);
  assert.equal(parseValues('--seed', '0..4'), [0, 1, 2, 3, 4]);
  assert.equal(parseValues('--beta', '0.5, 0.9,1e-1'), [0.5, 0.9, 0.1]);
  for (const bad of ['', '1,,2', '0x10', '2^0:4', '4..1', 'a..b', '2^0:4:0', '1e999']) assert.throws(() => parseValues('--beta', bad), /--beta/);
  const cfg = (o: Partial<RunConfig>): RunConfig => ({ ...DEFAULT_RUN, kind: 'train', dataset: 'gmm-64-4-2', arch: 'mlp:8:tanh', loss: 'mse', lr: 0.1, maxSteps: 5, ...o });
  // lr and seed share a dispatch; another architecture, batch size or dataset seed does not; --max-k cuts.
  const cfgs = [cfg({}), cfg({ lr: 0.2 }), cfg({ seed: 3 }), cfg({ arch: 'mlp:4:tanh' }), cfg({ batchSize: 8 }), cfg({ datasetSeed: 1 })];
  assert.equal(groupMembers(cfgs, 64), [[0, 1, 2], [3], [4], [5]]);
  assert.equal(groupMembers(cfgs, 2), [[0, 1], [2], [3], [4], [5]]);
});

test('memory planning: K is capped by the largest buffer and by the total', () => {
  assert.is(maxMembers({ perMember: 100, fixed: 50, largestPerMember: 10 }, { maxBuffer: 35, total: 10_000, what: '' }), 3);
  assert.is(maxMembers({ perMember: 100, fixed: 50, largestPerMember: 10 }, { maxBuffer: 1e9, total: 1050, what: '' }), 10);
  assert.is(maxMembers({ perMember: 100, fixed: 50, largestPerMember: 10 }, { maxBuffer: 1, total: null, what: '' }), 1, 'one member always runs (as train would)');
});

test('bad lists: one line naming the flag, exit 1, nothing written', () => {
  const results = tmp();
  const cases: [string[], RegExp][] = [
    [[...PROBLEM, '0.1', '5', '--seed', '0..x'], /--seed takes a value, a list or a range/],
    [[...PROBLEM, '2^0:4', '5'], /LRS takes a value, a list or a range/],
    [[...PROBLEM, '0.1,-0.2', '5'], /LRS values must be positive, got -0.2/],
    [[...PROBLEM, '0.1', '5', '--opt', 'polyak', '--beta', '0.5,1.5'], /--beta values must be in \[0, 1\), got 1.5/],
    [[...PROBLEM, '0.1', '5', '--lr-drop', '3:0.1;x'], /--lr-drop takes STEP:LR/],
  ];
  for (const [args, re] of cases) {
    const r = eoslab(results, 'sweep', 'train', ...args, '--backend', 'wasm');
    assert.is(r.code, 1, args.join(' '));
    assert.match(r.err, re);
    assert.is(r.err.trim().split('\n').length, 1, r.err);
  }
  assert.equal(readdirSync(results), [], 'nothing written');
});

test('memory planning counts eigen-solvers only for members that measure: with --eig-freq 0, --neigs changes nothing', () => {
  const results = tmp();
  const line = (neigs: string) => {
    const r = eoslab(results, 'sweep', 'train', ...PROBLEM, '0.05,0.1', '2', '--eig-freq', '0', '--neigs', neigs, '--backend', 'wasm', '--out', join(results, `n${neigs}`));
    assert.is(r.code, 0, r.err);
    return r.out.split('\n').find((l) => /group 1\/1: .*memory/.test(l))!;
  };
  assert.is(line('20'), line('2'));
});

test('3 learning rates × 2 seeds batched equal each member run alone (metrics.csv and θ bit for bit); sweep.csv has one row per member; sweep.json reruns it', () => {
  const results = tmp();
  const r = eoslab(results, 'sweep', 'train', ...PROBLEM, '0.05,0.1,0.2', '20', '--seed', '0..1', '--eig-freq', '5', '--backend', 'wasm', '--out', join(results, 's'));
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /6 members in 1 group/);
  assert.match(r.out, /group 1\/1: 6 members .*memory .* \+ 6 × /);
  const csv = join(results, 's', 'sweep.csv');
  const { header, rows } = readCsv(csv);
  for (const h of ['member', 'group', 'lr', 'max_steps', 'seed', 'eig_freq', 'opt', 'dir', 'status', 'stop_reason', 'last_step', 'train_loss', 'test_loss', 'grad_norm', 'lambda_1', 'lambda_2']) {
    assert.ok(header.includes(h), `sweep.csv has ${h}`);
  }
  assert.is(rows.length, 6);
  assert.equal(rows.map((x) => [x.lr, x.seed, x.status, x.stop_reason, x.last_step]),
    [['0.05', '0'], ['0.05', '1'], ['0.1', '0'], ['0.1', '1'], ['0.2', '0'], ['0.2', '1']].map(([lr, s]) => [lr, s, 'finished', 'max_steps', '20']));
  assert.ok(rows.every((x) => Number(x.train_loss) > 0 && Number(x.lambda_1) > 0));
  assertMembersEqualAlone(results, csv, (x) => [x.lr, '20', '--seed', x.seed, '--eig-freq', '5']);
  // The sweep's own definition reruns it: every member is already there.
  const again = eoslab(results, 'sweep', join(results, 's', 'sweep.json'), '--backend', 'wasm');
  assert.is(again.code, 0, again.err);
  assert.match(again.out, /6 already finished \(reused\)/);
});

test('per-member optimizer hyper-parameters and minibatches: SGD with momentum over β, Adam over β1 with λ_A, each equal alone', () => {
  const results = tmp();
  let r = eoslab(results, 'sweep', 'train', ...PROBLEM, '0.1', '12', '--opt', 'sgdm', '--batch-size', '16', '--beta', '0.5,0.9', '--eig-freq', '4',
    '--backend', 'wasm', '--out', join(results, 'sgdm'));
  assert.is(r.code, 0, r.err);
  assertMembersEqualAlone(results, join(results, 'sgdm', 'sweep.csv'), (x) => [x.lr, '12', '--opt', 'sgdm', '--batch-size', '16', '--beta', x.beta, '--eig-freq', '4']);
  r = eoslab(results, 'sweep', 'train', ...PROBLEM, '0.01', '8', '--opt', 'adam', '--beta1', '0.8,0.9', '--lambda-a', '--eig-freq', '4',
    '--backend', 'wasm', '--out', join(results, 'adam'));
  assert.is(r.code, 0, r.err);
  assertMembersEqualAlone(results, join(results, 'adam', 'sweep.csv'), (x) => [x.lr, '8', '--opt', 'adam', '--beta1', x.beta1, '--lambda-a', '--eig-freq', '4']);
});

/**
 * An autotune cache folder for WebGPU runs of `args` (an `eoslab train`
 * command): one short run tunes the kernels of every shape the problem uses,
 * then each matmul choice is set to a vec4 kernel. The tuner's picks follow
 * this machine's timings; vec4 is the kernel whose eligibility once
 * depended on a member's offset in the batched θ (P = 58 here, not a
 * multiple of 4), so the test runs it wherever it can run, whatever wins.
 */
function vec4Cache(args: string[]): string {
  const cache = tmp();
  const r = eoslab({ results: tmp(), cache }, 'train', ...PROBLEM, ...args, '--backend', 'webgpu');
  assert.is(r.code, 0, r.err);
  const path = join(cache, 'autotune.json');
  const all: Record<string, Record<string, string>> = JSON.parse(readFileSync(path, 'utf8'));
  let n = 0;
  for (const choices of Object.values(all)) for (const k of Object.keys(choices)) if (!k.startsWith('conv:')) { choices[k] = 'vec4-8x8-wg4x8'; n++; }
  assert.ok(n >= 10, `the tuning run left ${n} matmul choices`);
  writeFileSync(path, JSON.stringify(all));
  return cache;
}

if (BACKENDS.includes('webgpu')) test('WebGPU: 3 learning rates (GD) and 3 momenta (SGD with momentum, minibatches) batched equal each member run alone, bit for bit', () => {
  const results = tmp();
  const gd = ['10', '--eig-freq', '5'], sgdm = ['8', '--opt', 'sgdm', '--batch-size', '16', '--eig-freq', '4'];
  // The minibatch run tunes both shapes (full batch of 64 and minibatch of 16): one cache serves both sweeps.
  const cache = vec4Cache(['0.1', ...sgdm, '--beta', '0.9']);
  let r = eoslab({ results, cache }, 'sweep', 'train', ...PROBLEM, '0.05,0.1,0.2', ...gd, '--backend', 'webgpu', '--out', join(results, 'gd'));
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /3 members in 1 group/);
  assertMembersEqualAlone(results, join(results, 'gd', 'sweep.csv'), (x) => [x.lr, ...gd], cache);
  r = eoslab({ results, cache }, 'sweep', 'train', ...PROBLEM, '0.1', ...sgdm, '--beta', '0.5,0.7,0.9', '--backend', 'webgpu', '--out', join(results, 'sgdm'));
  assert.is(r.code, 0, r.err);
  assertMembersEqualAlone(results, join(results, 'sgdm', 'sweep.csv'), (x) => [x.lr, ...sgdm, '--beta', x.beta], cache);
});

test('a diverging member is marked diverged at its step (sweep.csv, metadata.json) and the others finish with the numbers they have alone', () => {
  const results = tmp();
  const r = eoslab(results, 'sweep', 'train', ...PROBLEM, '0.1,30,0.2', '20', '--eig-freq', '5', '--diverge-loss', '100', '--backend', 'wasm', '--out', join(results, 's'));
  assert.is(r.code, 0, r.err);
  const csv = join(results, 's', 'sweep.csv');
  const rows = readCsv(csv).rows;
  const bad = rows.find((x) => x.lr === '30')!;
  assert.is(bad.status, 'diverged');
  assert.is(bad.stop_reason, 'diverged');
  const meta = JSON.parse(readFileSync(join(bad.dir, 'metadata.json'), 'utf8'));
  assert.is(meta.stop_reason, 'diverged');
  assert.is(String(meta.last_step), bad.last_step);
  assert.ok(Number(bad.last_step) < 20);
  const metrics = readCsv(join(bad.dir, 'metrics.csv')).rows;
  assert.is(metrics[metrics.length - 1].step, bad.last_step, 'its rows stop at the step it diverged');
  assert.ok(rows.filter((x) => x.lr !== '30').every((x) => x.status === 'finished' && x.last_step === '20'));
  // Alone, the diverging member diverges at the same step, and the others are untouched by it.
  assertMembersEqualAlone(results, csv, (x) => [x.lr, '20', '--eig-freq', '5', '--diverge-loss', '100']);
});

test('an interrupted sweep, rerun with the same arguments, finishes only the members that had not finished', async () => {
  const results = tmp(), fresh = tmp();
  const args = ['sweep', 'train', ...PROBLEM, '0.1', '300', '--seed', '0..3', '--eig-freq', '0', '--checkpoint-every', '50', '--max-k', '1', '--backend', 'wasm', '--out'];
  const child = spawn(process.execPath, [CLI, ...args, join(results, 's')], { env: { ...process.env, EOSLAB_RESULTS: results }, stdio: 'ignore' });
  const exited = new Promise((res) => child.on('exit', res));
  // Kill -9 as soon as the first member (its own group under --max-k 1) has finished.
  const finishedDirs = () => {
    const csv = join(results, 's', 'sweep.json');
    if (!existsSync(csv)) return [];
    const members: { dir: string }[] = JSON.parse(readFileSync(csv, 'utf8')).members;
    return members.filter((m) => { try { return JSON.parse(readFileSync(join(m.dir, 'metadata.json'), 'utf8')).status === 'finished'; } catch { return false; } }).map((m) => m.dir);
  };
  const t0 = Date.now();
  while (finishedDirs().length === 0 && Date.now() - t0 < 60_000) await new Promise((res) => setTimeout(res, 10));
  child.kill('SIGKILL');
  await exited;
  const done = finishedDirs();
  assert.ok(done.length >= 1 && done.length < 4, `killed with ${done.length} of 4 members finished (the test needs some but not all)`);
  const stamps = done.map((d) => statSync(join(d, 'metrics.csv')).mtimeMs);
  const r = eoslab(results, ...args, join(results, 's'));
  assert.is(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`${done.length} already finished \\(reused\\)`));
  assert.equal(done.map((d) => statSync(join(d, 'metrics.csv')).mtimeMs), stamps, 'finished members are not rewritten');
  const rows = readCsv(join(results, 's', 'sweep.csv')).rows;
  assert.ok(rows.every((x) => x.status === 'finished' && x.last_step === '300'));
  // The same records as a sweep that was never interrupted.
  const u = eoslab(fresh, ...args, join(fresh, 's'));
  assert.is(u.code, 0, u.err);
  for (const x of readCsv(join(fresh, 's', 'sweep.csv')).rows) {
    const mine = join(results, relative(fresh, x.dir));
    assert.equal(rowsWithoutWall(mine), rowsWithoutWall(x.dir), `member ${x.member}`);
    assert.ok(lastCheckpoint(mine).equals(lastCheckpoint(x.dir)));
  }
});

test.run();
