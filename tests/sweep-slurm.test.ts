// SLURM arrays (issue 13): `sweep … --emit slurm DIR` writes a job-array
// script that passes `bash -n`; its array tasks, run here one after another
// with SLURM_ARRAY_TASK_ID set by hand, followed by `sweep merge DIR`, give
// the same sweep.csv as the same sweep run locally (member directories
// aside, which live under each run's own EOSLAB_RESULTS); wrong groups and
// forms are one line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellQuote } from '../hosts/node/sweep-slurm.js';

const CLI = 'hosts/node/bin/eoslab.mjs';
const tmp = () => mkdtempSync(join(tmpdir(), 'eoslab-slurm-'));
// Two groups (full batch and minibatch 16), two members each.
const SWEEP = ['sweep', 'train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.05,0.1', '3', '--batch-size', '0,16', '--eig-freq', '1', '--backend', 'wasm'];

function run(cmd: string, args: string[], env: Record<string, string>) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning: max')).join('\n') };
}
const eoslab = (results: string, ...args: string[]) => run(process.execPath, [CLI, ...args], { EOSLAB_RESULTS: results });

test('the emitted array script passes bash -n, and its tasks run one after another + merge equal a local sweep', () => {
  const local = tmp(), cluster = tmp(), dir = join(cluster, 'array');
  let r = eoslab(local, ...SWEEP, '--out', join(local, 'sweep'));
  assert.is(r.code, 0, r.err);
  r = eoslab(cluster, ...SWEEP, '--emit', 'slurm', dir);
  assert.is(r.code, 0, r.err);
  const script = join(dir, 'sweep.slurm');
  const text = readFileSync(script, 'utf8');
  assert.match(text, /^#!\/bin\/bash\n/);
  assert.match(text, /^#SBATCH --array=0-1$/m);
  assert.ok(!existsSync(join(dir, 'sweep.csv')), 'emitting runs nothing');
  const syntax = run('bash', ['-n', script], {});
  assert.is(syntax.code, 0, syntax.err);
  // Before any task: merge lists every member as pending.
  r = eoslab(cluster, 'sweep', 'merge', dir);
  assert.is(r.code, 0, r.err);
  assert.is(readFileSync(join(dir, 'sweep.csv'), 'utf8').split('\n').filter((l) => l.includes(',pending,')).length, 4);
  for (const task of ['0', '1']) {
    const t = run('bash', [script], { SLURM_ARRAY_TASK_ID: task, EOSLAB_RESULTS: cluster });
    assert.is(t.code, 0, t.err);
    assert.match(t.err + t.out, new RegExp(`sweep: group ${task} of 2 \\(2 members\\)`));
  }
  r = eoslab(cluster, 'sweep', 'merge', dir);
  assert.is(r.code, 0, r.err);
  assert.match(r.out + r.err, /4 members \(4 finished\)/);
  const merged = readFileSync(join(dir, 'sweep.csv'), 'utf8').split(cluster).join('<results>');
  const alone = readFileSync(join(local, 'sweep', 'sweep.csv'), 'utf8').split(local).join('<results>');
  assert.is(merged, alone);
  assert.is(merged.trim().split('\n').length, 5);
});

test('refusals: a group out of range, --emit without slurm DIR, the script outside an array, merge without sweep.json', () => {
  const res = tmp(), dir = join(res, 'array');
  let r = eoslab(res, ...SWEEP, '--group', '2');
  assert.is(r.code, 1);
  assert.is(r.err, 'eoslab: --group 2: this sweep has 2 groups (0..1): give the array task\'s index');
  r = eoslab(res, ...SWEEP, '--emit', 'pbs', dir);
  assert.is(r.code, 1);
  assert.is(r.err, 'eoslab: --emit takes slurm and a folder (--emit slurm DIR), got \'pbs ' + dir + '\'');
  r = eoslab(res, ...SWEEP, '--emit', 'slurm', dir);
  assert.is(r.code, 0, r.err);
  const t = run('bash', [join(dir, 'sweep.slurm')], { SLURM_ARRAY_TASK_ID: '' });
  assert.is.not(t.code, 0);
  assert.match(t.err, /run this script with sbatch, or set SLURM_ARRAY_TASK_ID/);
  r = eoslab(res, 'sweep', 'merge', join(res, 'nowhere'));
  assert.is(r.code, 1);
  assert.match(r.err, /^eoslab: cannot read .*sweep\.json .*: give the folder of --emit slurm DIR or of a sweep's sweep\.json$/);
  assert.is(r.err.split('\n').length, 1);
});

test('shellQuote keeps any path one bash word', () => {
  const s = "it's a $HOME `x` \"q\"";
  const back = spawnSync('bash', ['-c', `printf %s ${shellQuote(s)}`], { encoding: 'utf8' }).stdout;
  assert.is(back, s);
});

test.run();
