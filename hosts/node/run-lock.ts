// One eoslab process per run directory: two writers would interleave their
// rows in one metrics.csv. The lock is a file created exclusively; a lock
// left by a process that died (kill -9, Ctrl-C) is taken over, since nothing
// else would ever remove it.
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export interface RunLock {
  release(): void;
}

interface LockRecord {
  pid: number;
  host: string;
  started_at: string;
}

export const LOCK_FILE = '.eoslab.lock';

export function acquireRunLock(dir: string): RunLock {
  const path = join(dir, LOCK_FILE);
  const mine: LockRecord = { pid: process.pid, host: hostname(), started_at: new Date().toISOString() };
  const text = JSON.stringify(mine) + '\n';
  if (!createExclusive(path, text)) {
    const held = readLock(path);
    if (held === null && youngerThan(path, 5000)) {
      // Created a moment ago and not yet written: its owner is alive.
      throw new Error(`${dir} is in use by another eoslab process (starting now): wait for it or stop it; a stale lock of a dead process is taken over automatically`);
    }
    if (held && isAlive(held)) throw inUse(dir, path, held);
    // Rename is atomic: of several processes taking over the same stale lock, the last rename wins, and the re-read tells each whether it did.
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileOnce(tmp, text);
    renameSync(tmp, path);
    const now = readLock(path);
    if (!now || !same(now, mine)) throw inUse(dir, path, now ?? { pid: 0, host: '', started_at: 'just now' });
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    const now = readLock(path);
    // Another process may have taken the lock over (e.g. we were stopped long enough to look dead elsewhere): leave theirs alone.
    if (now && same(now, mine)) rmSync(path, { force: true });
  };
  // No SIGINT/SIGTERM handlers: the run loop does not return to the event
  // loop between steps, so a JS handler would never run and its mere presence
  // would turn off the default action (Ctrl-C and kill would be ignored). A
  // signal kills the process as before, and its lock, now of a dead pid, is
  // taken over by the next command.
  process.on('exit', release);
  return { release };
}

/**
 * Read-only: throws the in-use error when a live process holds `dir`'s lock.
 * Lets a command refuse a busy run before it decides anything else; taking
 * the lock (acquireRunLock) stays the step that settles races.
 */
export function checkRunLock(dir: string): void {
  const path = join(dir, LOCK_FILE);
  if (!existsSync(path)) return;
  const held = readLock(path);
  if (held && isAlive(held)) throw inUse(dir, path, held);
}

function same(a: LockRecord, b: LockRecord): boolean {
  return a.pid === b.pid && a.host === b.host && a.started_at === b.started_at;
}

function inUse(dir: string, path: string, r: LockRecord): Error {
  if (r.host && r.host !== hostname()) {
    return new Error(`${dir} is in use by eoslab process ${r.pid} on ${r.host} (started ${r.started_at}): wait for it, or delete ${path} if that process is gone`);
  }
  return new Error(`${dir} is in use by eoslab process ${r.pid} (started ${r.started_at}): wait for it or stop it; a stale lock of a dead process is taken over automatically`);
}

function youngerThan(path: string, ms: number): boolean {
  try { return Date.now() - statSync(path).mtimeMs < ms; } catch { return false; }
}

function createExclusive(path: string, text: string): boolean {
  try {
    writeFileOnce(path, text);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new Error(`cannot create the lock file ${path} (${(e as Error).message.split('\n')[0]}): check that the directory is writable`);
  }
}

function writeFileOnce(path: string, text: string): void {
  const fd = openSync(path, 'wx');
  try { writeSync(fd, text); } finally { closeSync(fd); }
}

/** null: unreadable or torn (a process died between create and write), which counts as stale. */
function readLock(path: string): LockRecord | null {
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as LockRecord;
    return r && Number.isInteger(r.pid) && r.pid > 0 ? r : null;
  } catch {
    return null;
  }
}

function isAlive(r: LockRecord): boolean {
  // A pid on another machine (a shared file system) cannot be probed: assume it lives.
  if (r.host !== hostname()) return true;
  if (r.pid === process.pid) return true;
  try {
    process.kill(r.pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
