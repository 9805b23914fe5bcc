// Crash safety with real processes and real faults: a run killed with SIGKILL
// at several moments and resumed reproduces the uninterrupted run bit for bit
// (wall_s aside) with no torn or duplicated rows and at most one checkpoint
// interval recomputed; a second process on a live run is refused; a full disk
// or a read-only directory mid-run, and a lost device, end in one line with
// what was written intact and resumable; a diverging run is recorded as such.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RUN, type RunConfig } from '../core/ts/run/config.js';
import { decodeSafetensors } from '../core/ts/io/safetensors.js';
import { startRun } from '../hosts/node/run-command.js';
import { resumeRun } from '../hosts/node/run-resume.js';
import { runDirIO } from '../hosts/node/run-dir.js';

const root = mkdtempSync(join(tmpdir(), 'eoslab-crash-'));
const env = { ...process.env, EOSLAB_RESULTS: root };
const BIN = 'hosts/node/bin/eoslab.mjs';

function eoslab(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...env, ...extraEnv } });
  return { code: r.status, out: r.stdout, err: r.stderr.split('\n').filter((l) => !l.startsWith('Warning: max') && !/^(step|tick) \d/.test(l)).join('\n') };
}

// Long enough (a few seconds on the Wasm core) that a kill lands mid-run.
const STEPS = 2500;
const TRAIN = (steps: number, out: string) => ['train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', String(steps),
  '--checkpoint-every', '5', '--eig-freq', '5', '--backend', 'wasm', '--threads', '1', '--out', out];

const text = (dir: string) => readFileSync(join(dir, 'metrics.csv'), 'utf8');
const noWall = (t: string) => t.split('\n').map((l) => l.split(',').slice(0, -1).join(','));
const meta = (dir: string) => JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Steps of the complete rows; throws on a duplicated or out-of-order step. */
function completeSteps(t: string): number[] {
  const lines = t.split('\n');
  lines.pop(); // the part after the last newline: empty, or a torn row a crash left
  const steps = lines.slice(1).map((l) => Number(l.split(',')[0]));
  steps.forEach((s, i) => assert.ok(i === 0 || s > steps[i - 1], `step ${s} after ${steps[i - 1]}`));
  return steps;
}

const whole = join(root, 'whole');
let wholeText = '';

test('setup: the uninterrupted run', () => {
  const r = eoslab(TRAIN(STEPS, whole));
  assert.is(r.code, 0, r.err);
  wholeText = text(whole);
  assert.is(completeSteps(wholeText).length, STEPS + 1);
});

/** Starts a run and SIGKILLs the node process once metrics.csv holds `bytes` bytes. */
async function killAt(out: string, bytes: number, whileRunning?: () => void): Promise<void> {
  const child = spawn(process.execPath, [BIN, ...TRAIN(STEPS, out)], { env, stdio: 'ignore' });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const path = join(out, 'metrics.csv');
  const t0 = Date.now();
  while ((existsSync(path) ? statSync(path).size : 0) < bytes) {
    assert.ok(Date.now() - t0 < 30_000, 'the run started writing rows');
    if (child.exitCode !== null) break;
    await sleep(1);
  }
  assert.is(child.exitCode, null, `the run was still going at ${bytes} bytes`);
  if (whileRunning) {
    // Stopped, the run stays alive and holding its lock however long the other process takes to start.
    child.kill('SIGSTOP');
    whileRunning();
  }
  child.kill('SIGKILL');
  await exited;
}

const sizes = () => statSync(join(whole, 'metrics.csv')).size;
const moments: [string, () => number][] = [
  // Past the header and two rows (row 1 comes after step 0's checkpoint), whatever the header's length.
  ['after the first rows', () => wholeText.split('\n').slice(0, 3).join('\n').length + 1], ['mid-run', () => Math.floor(sizes() * 0.45)], ['near the end', () => Math.floor(sizes() * 0.9)]];

for (const [when, bytes] of moments) {
  test(`SIGKILL ${when}, then resume: the uninterrupted run's rows, bit for bit`, async () => {
    const out = join(root, `kill-${when.replace(/ /g, '-')}`);
    let refused: ReturnType<typeof eoslab> | null = null;
    // While the run lives, a second process on it (resume) is refused by its lock.
    await killAt(out, bytes(), when === 'mid-run' ? () => { refused = eoslab(['resume', out]); } : undefined);
    if (when === 'mid-run') {
      assert.ok(refused, 'a second process was tried');
      const r = refused as unknown as ReturnType<typeof eoslab>;
      assert.is(r.code, 1);
      assert.match(r.err, /is in use by eoslab process \d+ .*: wait for it or stop it/);
      assert.is(r.err.trim().split('\n').length, 1);
    }
    const killed = text(out);
    const rows = completeSteps(killed);
    assert.ok(rows.length > 0 && rows.length < STEPS + 1, `killed mid-run (${rows.length} rows)`);
    const r = eoslab(['resume', out]); // the dead process's lock is taken over
    assert.is(r.code, 0, r.err);
    const after = text(out);
    completeSteps(after);
    assert.equal(noWall(after), noWall(wholeText), 'identical to the uninterrupted run except wall_s');
    const from = meta(out).resumes[0].from_step;
    assert.ok(from <= rows[rows.length - 1] + 1 && rows[rows.length - 1] - from <= 5, `resumed from ${from}, rows reached ${rows[rows.length - 1]}: at most one checkpoint interval recomputed`);
    assert.equal(readFileSync(join(out, 'checkpoints', `step_${STEPS}.safetensors`)), readFileSync(join(whole, 'checkpoints', `step_${STEPS}.safetensors`)));
  });
}

const CFG: RunConfig = { ...DEFAULT_RUN, kind: 'train', dataset: 'gmm-64-4-2', arch: 'mlp:8:tanh', loss: 'mse', lr: 0.1, maxSteps: 30, checkpointEvery: 5, eigFreq: 5 };
const quiet = () => {};

/** A failing write as Node reports it. */
const fsError = (code: string, path: string) => Object.assign(new Error(`${code}: ${code === 'ENOSPC' ? 'no space left on device' : 'read-only file system'}, write '${path}'`), { code });

async function failsWith(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the run to fail');
}

test('a full disk while appending rows: one line naming the file, rows and checkpoints written so far intact, resume continues', async () => {
  const ref = join(root, 'io-ref'), out = join(root, 'enospc');
  await startRun({ ...CFG }, { out: ref, command: 'test', backend: 'wasm', threads: 1, log: quiet });
  const append = runDirIO.appendFileSync;
  let rows = 0;
  runDirIO.appendFileSync = ((path: string, data: string) => {
    if (++rows > 17) {
      // A full disk can take part of a write: half the row lands, then ENOSPC.
      append(path, data.slice(0, 9));
      throw fsError('ENOSPC', path);
    }
    append(path, data);
  }) as typeof runDirIO.appendFileSync;
  let msg: string;
  try {
    msg = await failsWith(startRun({ ...CFG }, { out, command: 'test', backend: 'wasm', threads: 1, log: quiet }));
  } finally {
    runDirIO.appendFileSync = append;
  }
  assert.match(msg, /^cannot write .*enospc\/metrics\.csv \(ENOSPC: no space left on the device\): free space or make it writable .*eoslab resume/);
  assert.not.match(msg, /\n/);
  assert.equal(completeSteps(text(out)), Array.from({ length: 17 }, (_, i) => i), 'the 17 rows written stay');
  for (const s of [0, 5, 10, 15]) decodeSafetensors(new Uint8Array(readFileSync(join(out, 'checkpoints', `step_${s}.safetensors`))));
  await resumeRun(out, {}, 'test', quiet);
  assert.equal(noWall(text(out)), noWall(text(ref)));
});

test('a read-only directory when a checkpoint is written: one line, no temporary left, the previous checkpoint resumes', async () => {
  const ref = join(root, 'io-ref'), out = join(root, 'erofs');
  const write = runDirIO.writeFileSync;
  runDirIO.writeFileSync = ((path: string, data: string | Uint8Array) => {
    if (path.includes('step_15.')) {
      write(path, data.slice(0, 10)); // what the file system took before it refused
      throw fsError('EROFS', path);
    }
    write(path, data);
  }) as typeof runDirIO.writeFileSync;
  let msg: string;
  try {
    msg = await failsWith(startRun({ ...CFG }, { out, command: 'test', backend: 'wasm', threads: 1, log: quiet }));
  } finally {
    runDirIO.writeFileSync = write;
  }
  assert.match(msg, /^cannot write .*step_15\.safetensors \(EROFS: the file system refuses writes here\)/);
  assert.not.match(msg, /\n/);
  const files = readdirSync(join(out, 'checkpoints'));
  assert.not.ok(files.some((f) => f.includes('step_15')), `nothing of step 15 under any name: ${files}`);
  assert.equal(completeSteps(text(out)), Array.from({ length: 16 }, (_, i) => i));
  await resumeRun(out, {}, 'test', quiet);
  assert.is(meta(out).resumes[0].from_step, 10);
  assert.equal(noWall(text(out)), noWall(text(ref)));
});

test('a lost device mid-run: one line, the last checkpoint kept, resume continues', () => {
  const ref = join(root, 'lost-ref'), out = join(root, 'lost');
  assert.is(eoslab(TRAIN(40, ref)).code, 0);
  // Test-only hook (hosts/node/test-faults.ts): read-backs fail as a lost WebGPU device's do, after 150 of them (about step 30).
  const r = eoslab(TRAIN(40, out), { EOSLAB_TEST_LOSE_DEVICE_AFTER: '150' });
  assert.is(r.code, 1);
  assert.match(r.err, /^eoslab: WebGPU device lost .*eoslab resume/);
  assert.is(r.err.trim().split('\n').length, 1, r.err);
  const rows = completeSteps(text(out));
  assert.ok(rows.length > 10 && rows.length < 41, `lost mid-run (${rows.length} rows)`);
  assert.is(meta(out).status, 'running');
  const resumed = eoslab(['resume', out]);
  assert.is(resumed.code, 0, resumed.err);
  assert.ok(meta(out).resumes[0].from_step >= rows[rows.length - 1] - 5, 'continued from the last checkpoint');
  assert.equal(noWall(text(out)), noWall(text(ref)));
});

test('NaN or Inf in the loss: stopped as diverged with the record kept, no NaN threshold', () => {
  const out = join(root, 'nan');
  const r = eoslab(['train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '50', '200', '--eig-freq', '1', '--backend', 'wasm', '--out', out]);
  assert.is(r.code, 0, r.err);
  const m = meta(out);
  assert.is(m.status, 'finished');
  assert.is(m.stop_reason, 'diverged');
  const lines = text(out).trim().split('\n');
  const col = (k: string) => lines[0].split(',').indexOf(k);
  const last = lines[lines.length - 1].split(',');
  assert.is(Number(last[0]), m.last_step);
  assert.ok(!Number.isFinite(Number(last[col('train_loss')])) || Number(last[col('train_loss')]) > 1e8, 'the diverged row is recorded');
  for (const l of lines.slice(1)) assert.ok(Number.isFinite(Number(l.split(',')[col('threshold')])), `threshold finite: ${l}`);
});

test.run();
