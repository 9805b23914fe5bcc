// One eoslab process per run directory: a second writer would interleave its
// rows with the first's in one metrics.csv; a lock left by a process that
// died is taken over, or a kill -9 would block the run forever.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireRunLock, LOCK_FILE } from '../hosts/node/run-lock.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'eoslab-lock-'));

/** A pid that is certainly not running: a child that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('the lock file holds pid, host and start time, and release removes it', () => {
  const dir = tmp();
  const lock = acquireRunLock(dir);
  const rec = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
  assert.is(rec.pid, process.pid);
  assert.is(rec.host, hostname());
  assert.ok(!Number.isNaN(Date.parse(rec.started_at)));
  lock.release();
  assert.not.ok(existsSync(join(dir, LOCK_FILE)));
  lock.release();
});

test('a lock held by a live process is refused in one line naming the process', () => {
  const dir = tmp();
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  try {
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: child.pid, host: hostname(), started_at: '2026-01-01T00:00:00.000Z' }));
    assert.throws(() => acquireRunLock(dir), (e: Error) =>
      e.message === `${dir} is in use by eoslab process ${child.pid} (started 2026-01-01T00:00:00.000Z): wait for it or stop it; a stale lock of a dead process is taken over automatically`);
    assert.ok(existsSync(join(dir, LOCK_FILE)), 'the live lock is left alone');
  } finally {
    child.kill('SIGKILL');
  }
});

test('a stale lock of a dead process is taken over', () => {
  const dir = tmp();
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: hostname(), started_at: '2026-01-01T00:00:00.000Z' }));
  const lock = acquireRunLock(dir);
  assert.is(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
  lock.release();
  assert.not.ok(existsSync(join(dir, LOCK_FILE)));
});

test('release leaves alone a lock another process has taken over', () => {
  const dir = tmp();
  const lock = acquireRunLock(dir);
  const theirs = JSON.stringify({ pid: 1, host: hostname(), started_at: '2026-01-01T00:00:00.000Z' });
  writeFileSync(join(dir, LOCK_FILE), theirs);
  lock.release();
  assert.is(readFileSync(join(dir, LOCK_FILE), 'utf8'), theirs);
});

test('the lock is released when the process exits without calling release', () => {
  const dir = join(tmp(), 'run');
  mkdirSync(dir);
  const script = `import { acquireRunLock } from './hosts/node/run-lock.ts'; acquireRunLock(${JSON.stringify(dir)}); process.exit(3);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.is(r.status, 3, r.stderr);
  assert.not.ok(existsSync(join(dir, LOCK_FILE)));
});

const eoslabArgs = (out: string, steps: string) => ['hosts/node/bin/eoslab.mjs', 'train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', steps,
  '--eig-freq', '0', '--backend', 'wasm', '--threads', '1', '--out', out];

function eoslab(...args: string[]) {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr.split('\n').filter((l) => !l.startsWith('Warning: max')).join('\n') };
}

async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const rows = (out: string) => existsSync(join(out, 'metrics.csv')) ? readFileSync(join(out, 'metrics.csv'), 'utf8').split('\n').filter(Boolean).length - 1 : 0;

test('a second eoslab on a run that is going is refused (two writers used to interleave one metrics.csv); SIGTERM still stops a run', async () => {
  const out = join(tmp(), 'run');
  const first = spawn(process.execPath, eoslabArgs(out, '10000000'), { stdio: 'ignore' });
  try {
    await until(() => rows(out) >= 2, 'the first run to write rows');
    const holder = JSON.parse(readFileSync(join(out, LOCK_FILE), 'utf8'));
    const r = eoslab(...eoslabArgs(out, '10000000'));
    assert.is(r.code, 1);
    assert.is(r.err.trim(), `eoslab: ${out} is in use by eoslab process ${holder.pid} (started ${holder.started_at}): wait for it or stop it; a stale lock of a dead process is taken over automatically`);
    const r2 = eoslab('hosts/node/bin/eoslab.mjs', 'resume', out);
    assert.is(r2.code, 1);
    assert.match(r2.err, /is in use by eoslab process/);
    // A SIGTERM listener would disable the default action, and the busy run loop never runs JS handlers: the run must still die.
    process.kill(holder.pid, 'SIGTERM');
    await until(() => { try { process.kill(holder.pid, 0); return false; } catch { return true; } }, 'SIGTERM to stop the run', 10_000);
  } finally {
    first.kill('SIGKILL');
  }
});

test('after kill -9 the stale lock is taken over by the next command', async () => {
  const out = join(tmp(), 'run');
  const first = spawn(process.execPath, eoslabArgs(out, '10000000'), { stdio: 'ignore' });
  await until(() => rows(out) >= 1, 'the first run to write rows');
  const holder = JSON.parse(readFileSync(join(out, LOCK_FILE), 'utf8'));
  process.kill(holder.pid, 'SIGKILL');
  first.kill('SIGKILL');
  await until(() => first.exitCode !== null || first.signalCode !== null, 'the first run to die');
  assert.ok(existsSync(join(out, LOCK_FILE)), 'kill -9 leaves the lock behind');
  const r = eoslab(...eoslabArgs(out, '3'), '--force');
  assert.is(r.code, 0, r.err);
  assert.not.ok(existsSync(join(out, LOCK_FILE)));
});

test.run();
