// `eoslab resume` trusts none of its files: damaged checkpoints are walked
// back past, crash damage in metrics.csv is repaired, metadata.json of the
// wrong shape is refused naming the file and field, and a resume that cannot
// go on changes nothing. Then a fuzz of the validators over mutated
// metadata.json and metrics.csv: a valid load or a one-line Error, never a
// TypeError. Each test says what the code before these checks did.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateRun } from '../core/ts/run/config.js';
import { parseMetadata, planMetrics } from '../hosts/node/run-check.js';
import { expectCleanOutcome, mutations } from './helpers/fuzz.js';

const root = mkdtempSync(join(tmpdir(), 'eoslab-trust-'));

function eoslab(...args: string[]) {
  const r = spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', ...args], {
    encoding: 'utf8', timeout: 120_000, env: { ...process.env, EOSLAB_RESULTS: root },
  });
  return { code: r.status, out: r.stdout, err: r.stderr.split('\n').filter((l) => !l.startsWith('Warning: max')).join('\n') };
}

const RUN = ['gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1'];
const OPTS = ['--checkpoint-every', '5', '--eig-freq', '5', '--backend', 'wasm'];
const whole = join(root, 'whole'), template = join(root, 'template');

const lines = (dir: string) => readFileSync(join(dir, 'metrics.csv'), 'utf8').split('\n');
const noWall = (dir: string) => lines(dir).map((l) => l.split(',').slice(0, -1).join(','));
const meta = (dir: string) => JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));

/** A fresh copy of a run stopped at step 12 (checkpoints 0, 5, 10, 12). */
function copy(name: string): string {
  const d = join(root, name);
  cpSync(template, d, { recursive: true });
  return d;
}

/** Every file's bytes, to show that a refused resume wrote nothing. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out[p] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

function resumesLikeWhole(dir: string, fromStep: number, r: ReturnType<typeof eoslab>) {
  assert.is(r.code, 0, r.err);
  assert.equal(noWall(dir), noWall(whole), 'rows identical to the uninterrupted run except wall_s');
  const m = meta(dir);
  assert.is(m.resumes.at(-1).from_step, fromStep);
  assert.is(m.status, 'finished');
}

test('setup: an uninterrupted run to 20 and one stopped at 12', () => {
  assert.is(eoslab('train', ...RUN, '20', ...OPTS, '--out', whole).code, 0);
  const r = eoslab('train', ...RUN, '12', ...OPTS, '--out', template);
  assert.is(r.code, 0, r.err);
  assert.equal(readdirSync(join(template, 'checkpoints')).filter((f) => !f.includes('optim')).sort(),
    ['step_0.safetensors', 'step_10.safetensors', 'step_12.safetensors', 'step_5.safetensors']);
});

test('a truncated latest checkpoint is skipped with the file named; the run continues from the previous one bit for bit', () => {
  // Before: a raw "safetensors: header length …" naming no file, and no fallback.
  const d = copy('truncated');
  const f = join(d, 'checkpoints', 'step_12.safetensors');
  writeFileSync(f, readFileSync(f).subarray(0, 100));
  const r = eoslab('resume', d, '--max-steps', '20');
  resumesLikeWhole(d, 10, r);
  const said = r.out.split('\n').filter((l) => /skipped checkpoint/.test(l));
  assert.is(said.length, 1, r.out);
  assert.match(said[0], /step 12 \(.*step_12\.safetensors: .*\); resuming from step 10/);
});

test('a checkpoint whose θ holds NaN is not a good checkpoint', () => {
  // Before: accepted, and the resumed run went NaN (diverged at once).
  const d = copy('nan');
  const f = join(d, 'checkpoints', 'step_12.safetensors');
  const b = readFileSync(f);
  b.writeFloatLE(NaN, b.length - 4);
  writeFileSync(f, b);
  const r = eoslab('resume', d, '--max-steps', '20');
  resumesLikeWhole(d, 10, r);
  assert.match(r.out, /skipped checkpoint step 12 \(θ holds NaN or Inf\)/);
});

test('a torn last line of metrics.csv is dropped', () => {
  // Before: "1" (the start of row 13, cut by a crash) has step 1 < 12 and was kept as a row.
  const d = copy('torn');
  appendFileSync(join(d, 'metrics.csv'), '1');
  const r = eoslab('resume', d, '--max-steps', '20');
  resumesLikeWhole(d, 12, r);
  assert.match(r.out, /torn last line dropped/);
});

for (const what of ['missing', 'empty'] as const) {
  test(`a ${what} metrics.csv is recreated from its header, and the run resumes where the rows are whole`, () => {
    // Before: ENOENT or "Cannot read properties of undefined" after nothing useful.
    const d = copy(what);
    if (what === 'missing') rmSync(join(d, 'metrics.csv'));
    else writeFileSync(join(d, 'metrics.csv'), '');
    const r = eoslab('resume', d, '--max-steps', '20');
    resumesLikeWhole(d, 0, r);
    assert.match(r.out, new RegExp(`metrics.csv ${what}: recreated from its header`));
  });
}

test('metadata.json of the wrong shape: one line naming the file and the field, nothing written', () => {
  // Before: TypeErrors ("Cannot read properties of null"), or with `resumes` gone a TypeError after metrics.csv was cut.
  const d = copy('badmeta');
  const good = meta(d);
  const cfgWithout = (k: string) => { const c = { ...good.config }; delete c[k]; return { ...good, config: c }; };
  const cases: [unknown, RegExp][] = [
    [null, /metadata\.json is null, not an eoslab run's metadata object/],
    [{}, /metadata\.json: field 'config' must be an object, got undefined/],
    [[1, 2], /metadata\.json is array/],
    [cfgWithout('seed'), /metadata\.json: field 'config\.seed' must be a non-negative integer, got undefined/],
    [{ ...good, config: { ...good.config, lr: '0.1' } }, /field 'config\.lr' must be a number, got string "0\.1"/],
    [{ ...good, config: { ...good.config, lrDrops: [{ step: 3 }] } }, /field 'config\.lrDrops\[0\]\.lr' must be a number/],
    [{ ...good, resumes: undefined }, /field 'resumes' must be an array, got undefined/],
    [{ ...good, status: 'paused' }, /field 'status' must be 'running' or 'finished'/],
    [{ ...good, columns: ['step'] }, /field 'columns' must be the run's columns/],
  ];
  for (const [m, re] of cases) {
    writeFileSync(join(d, 'metadata.json'), JSON.stringify(m));
    const before = snapshot(d);
    const r = eoslab('resume', d, '--max-steps', '20');
    assert.is(r.code, 1, JSON.stringify(m));
    assert.match(r.err, re);
    assert.is(r.err.trim().split('\n').length, 1, r.err);
    assert.equal(snapshot(d), before, 'a refused resume writes nothing');
  }
  writeFileSync(join(d, 'metadata.json'), '{"status": "runn');
  const r = eoslab('resume', d);
  assert.match(r.err, /^eoslab: cannot read .*metadata\.json \(.*JSON.*\): restore it/);
});

test('no usable checkpoint: one line naming each, nothing written', () => {
  // Before: the first decode error, naming no file.
  const d = copy('allbad');
  for (const s of [0, 5, 10, 12]) writeFileSync(join(d, 'checkpoints', `step_${s}.optim.safetensors`), 'x');
  const before = snapshot(d);
  const r = eoslab('resume', d, '--max-steps', '20');
  assert.is(r.code, 1);
  assert.match(r.err, /checkpoints holds no usable checkpoint: step 12 \(.*step_12\.optim\.safetensors: safetensors: file is 1 bytes.*\); step 10 .*: rerun with --force/);
  assert.is(r.err.trim().split('\n').length, 1);
  assert.equal(snapshot(d), before);
});

test('checkpoints without the optimizer state the run needs are not good ones, and nothing is written', () => {
  // Before: rows were cut and metadata.json rewritten, then the engine failed with "checkpoint lacks optimizer state 'momentum'".
  const d = copy('optstate');
  const m = meta(d);
  m.config.opt = { name: 'polyak' };
  writeFileSync(join(d, 'metadata.json'), JSON.stringify(m));
  const before = snapshot(d);
  const r = eoslab('resume', d, '--max-steps', '20');
  assert.is(r.code, 1);
  assert.match(r.err, /holds no usable checkpoint: step 12 \(optimizer state \[\] is not the run's \[momentum\]\)/);
  assert.equal(snapshot(d), before);
});

test('--max-steps below the step resumed from is refused, and the run is left as it was', () => {
  // Before: "step 12/5" and metadata with maxSteps 5 below last_step 12.
  const d = copy('budget');
  const before = snapshot(d);
  const r = eoslab('resume', d, '--max-steps', '5');
  assert.is(r.code, 1);
  assert.is(r.err.trim(), 'eoslab: --max-steps 5 is below step 12 the run resumes from: give a larger budget');
  assert.equal(snapshot(d), before);
  // The bar's total is the new budget.
  const ok = eoslab('resume', d, '--max-steps', '20');
  assert.is(ok.code, 0, ok.err);
  assert.match(ok.err, /step 20\/20/);
  assert.not.match(ok.err, /step \d+\/(5|12)\b/);
});

test('a flow run: a max time below the resumed time is refused', () => {
  const d = join(root, 'flow');
  assert.is(eoslab('flow', ...RUN.slice(0, 3), '0.5', '2', '--checkpoint-every', '2', '--eig-freq', '1', '--backend', 'wasm', '--out', d).code, 0);
  const before = snapshot(d);
  const r = eoslab('resume', d, '--max-steps', '1');
  assert.is(r.code, 1);
  assert.match(r.err, /^eoslab: --max-steps 1 \(the max time\) is below time 2 the run resumes from: give a larger budget$/m);
  assert.equal(snapshot(d), before);
});

test('projections.npy with fewer rows than the resumed step needs is refused, nothing written', () => {
  // Before: the short file was "truncated" upward with zero rows, or, missing, restarted at row 0, misaligned with the steps.
  const d = join(root, 'proj');
  assert.is(eoslab('train', ...RUN, '12', ...OPTS, '--nproj', '2', '--out', d).code, 0);
  const f = join(d, 'projections.npy');
  writeFileSync(f, readFileSync(f).subarray(0, 128 + 8 * 3 + 5));
  const before = snapshot(d);
  const r = eoslab('resume', d, '--max-steps', '20');
  assert.is(r.code, 1);
  assert.match(r.err, /projections\.npy holds 3 rows, resuming from step 12 needs 12: restore it/);
  assert.equal(snapshot(d), before);
  rmSync(f);
  assert.match(eoslab('resume', d, '--max-steps', '20').err, /projections\.npy holds 0 rows/);
});

test('wall_s continues across a resume instead of restarting at 0', () => {
  // Before: checkpoints did not keep wall_s, so row 12 of the resumed run read about 0.
  const d = copy('wall');
  const r = eoslab('resume', d, '--max-steps', '20');
  assert.is(r.code, 0, r.err);
  const wall = lines(d).slice(1, -1).map((l) => Number(l.split(',').at(-1)));
  assert.is(wall.length, 21);
  for (let i = 1; i < wall.length; i++) assert.ok(wall[i] >= wall[i - 1], `wall_s ${wall[i - 1]} → ${wall[i]} at row ${i}`);
  assert.ok(wall[12] > 0);
});

test('a finished run resumed with no changes is a no-op message', () => {
  const before = snapshot(whole);
  const r = eoslab('resume', whole);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /already finished \(max_steps at step 20\)/);
  assert.equal(snapshot(whole), before);
});

test('fuzz: 600 mutated metadata.json load or fail in one line', async () => {
  const text = readFileSync(join(template, 'metadata.json'));
  const path = join(template, 'metadata.json');
  let ok = 0;
  const t0 = performance.now();
  for (const m of mutations(1011, new Uint8Array(text), 600)) {
    const outcome = await expectCleanOutcome(() => {
      const md = parseMetadata(Buffer.from(m.bytes).toString('utf8'), path);
      validateRun(md.config);
    }, { ms: 200, mutation: m, label: 'metadata.json' });
    if (outcome === 'ok') ok++;
  }
  assert.ok(ok > 0 && ok < 600, `${ok} of 600 loaded`);
  assert.ok(performance.now() - t0 < 10_000);
});

test('fuzz: 600 mutated metrics.csv load or fail in one line', async () => {
  const text = readFileSync(join(template, 'metrics.csv'));
  const columns = meta(template).columns;
  let ok = 0;
  const t0 = performance.now();
  for (const m of mutations(2022, new Uint8Array(text), 600)) {
    const outcome = await expectCleanOutcome(() => {
      const plan = planMetrics(Buffer.from(m.bytes).toString('utf8'), columns, 'metrics.csv');
      // What resume keeps is always whole rows in increasing step order.
      for (let i = 1; i < plan.steps.length; i++) if (!(plan.steps[i] > plan.steps[i - 1])) throw new TypeError('steps not increasing');
      if (plan.rows.some((r) => r.split(',').length !== columns.length)) throw new TypeError('a kept row of the wrong width');
    }, { ms: 200, mutation: m, label: 'metrics.csv' });
    if (outcome === 'ok') ok++;
  }
  assert.ok(ok > 0 && ok < 600, `${ok} of 600 loaded`);
  assert.ok(performance.now() - t0 < 10_000);
});

test.run();
