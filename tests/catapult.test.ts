// `eoslab catapult` (issue 13): on a shallow, wide ReLU MLP with MSE the
// batched c-sweep finds the published c_loss ≈ 2 (Lewkowycz et al. 2020,
// Kalra & Barkeshli 2023: the loss catapults once η > 2/λ₀), writes
// catapult.csv / phase.json with their fields, sees divergence at large c,
// and over widths and depths writes phase.csv and the figure; each c's
// trajectory (its sharpness solves run in lockstep with the other c's) is
// the one `eoslab train` gives it alone. The analysis
// (core/ts/run/catapult.ts) is checked on hand-made trajectories.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archGrid, catapultRow, cGrid, phaseOf, CATAPULT_CSV_COLUMNS, type CatapultTrace } from '../core/ts/run/catapult.js';

const CLI = 'hosts/node/bin/eoslab.mjs';
const tmp = () => mkdtempSync(join(tmpdir(), 'eoslab-catapult-'));

function eoslab(results: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, EOSLAB_RESULTS: results } });
  return { code: r.status, out: r.stdout, err: r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning: max')).join('\n') };
}

function readCsv(path: string): { header: string[]; rows: Record<string, string>[] } {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  return { header, rows: lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((c, i) => [header[i], c]))) };
}

test('one hidden layer of 512 ReLUs, MSE, GD: c_loss ≈ 2, divergence at large c, the CSV and JSON fields', () => {
  const res = tmp(), out = join(res, 'cat');
  const r = eoslab(res, 'catapult', 'gmm-64-4-2', 'mlp:512:relu:nobias', 'mse', '--backend', 'wasm', '--x-step', '0.5', '--x-max', '5', '--max-k', '6', '--out', out);
  assert.is(r.code, 0, r.err);
  const phase = JSON.parse(readFileSync(join(out, 'phase.json'), 'utf8'));
  for (const k of ['lambda0', 'c_loss', 'c_sharp', 'c_max', 'c_diverged']) assert.ok(k in phase, k);
  // The published value is 2; the grid has c = 2^(x/2), so the first c above 2 is 2^1.5 ≈ 2.83 and the
  // last below it √2: [1.4, 2.9] is the published value to within one grid step either side.
  assert.ok(phase.c_loss >= 1.4 && phase.c_loss <= 2.9, `c_loss = ${phase.c_loss}`);
  assert.ok(phase.c_sharp >= phase.c_loss, 'the sharpness catapults at or after the loss');
  const { header, rows } = readCsv(join(out, 'catapult.csv'));
  assert.equal(header, [...CATAPULT_CSV_COLUMNS]);
  rows.forEach((row, i) => {
    assert.ok(Math.abs(Number(row.c) / 2 ** (i / 2) - 1) < 1e-12, `row ${i}: c`);
    assert.ok(Math.abs(Number(row.eta) * phase.lambda0 / Number(row.c) - 1) < 1e-12, `row ${i}: η = c/λ₀`);
  });
  // Below c_loss the loss never rises above L₀ (its maximum is step 0's), and the sharpness barely moves.
  for (const row of rows.filter((x) => Number(x.c) < phase.c_loss)) {
    assert.is(Number(row.max_loss_ratio), 1, `c = ${row.c}`);
    assert.ok(Math.abs(Number(row.sharpness_ratio) - 1) < 0.05, `c = ${row.c}: λ_T/λ₀ = ${row.sharpness_ratio}`);
  }
  // Large c diverges; c_max is the last c before the first divergence, and the grid stopped after that batch.
  const firstDiv = rows.findIndex((x) => x.diverged === 'true');
  assert.ok(firstDiv > 0, 'something diverged below 2^5');
  assert.is(Number(rows[firstDiv - 1].c), phase.c_max);
  assert.is(Number(rows[firstDiv].c), phase.c_diverged);
  assert.ok(phase.c_max >= 2.8 && phase.c_max <= 16, `c_max = ${phase.c_max}`);
  // --max-k 6: batches of six c, and none after the batch with the first divergence.
  assert.is(rows.length, 6 * Math.ceil((firstDiv + 1) / 6), `stopped after the batch that diverged (${rows.length} rows)`);
  const traj = readCsv(join(out, 'trajectories.csv'));
  assert.equal(traj.header, ['c', 'step', 'train_loss', 'loss_ratio', 'sharpness', 'sharpness_ratio']);
  assert.is(traj.rows.filter((x) => x.c === '1').length, 11, 'steps 0..10 of c = 1');
  assert.ok(existsSync(join(out, 'phase.csv')));
});

test('over --widths and --depths: phase.csv one row per architecture and figures/phase.svg; --init-scheme recorded', () => {
  const res = tmp(), out = join(res, 'grid');
  const r = eoslab(res, 'catapult', 'gmm-64-4-2', 'mlp:64:relu:nobias', 'mse', '--backend', 'wasm', '--widths', '64,128', '--depths', '1,2',
    '--x-step', '1', '--x-max', '3', '--steps', '4', '--init-scheme', 'torch', '--out', out);
  assert.is(r.code, 0, r.err);
  const { header, rows } = readCsv(join(out, 'phase.csv'));
  assert.equal(header, ['arch', 'width', 'depth', 'lambda0', 'c_loss', 'c_sharp', 'c_max', 'c_diverged']);
  assert.equal(rows.map((x) => `${x.arch}/${x.width}/${x.depth}`),
    ['mlp:64:relu:nobias/64/1', 'mlp:128:relu:nobias/128/1', 'mlp:64x64:relu:nobias/64/2', 'mlp:128x128:relu:nobias/128/2']);
  assert.ok(rows.every((x) => Number(x.lambda0) > 0));
  const svg = readFileSync(join(out, 'figures', 'phase.svg'), 'utf8');
  assert.match(svg, /<svg/);
  assert.match(svg, /1 \/ width/);
  const phase = JSON.parse(readFileSync(join(out, 'mlp_128x128_relu_nobias', 'phase.json'), 'utf8'));
  assert.is(phase.settings.init_scheme, 'torch');
  assert.is(phase.depth, 2);
});

test('refusals: one line naming the fix', () => {
  const res = tmp();
  let r = eoslab(res, 'catapult', 'gmm-64-4-2', 'fc-relu', 'mse', '--widths', '64', '--backend', 'wasm');
  assert.is(r.code, 1);
  assert.match(r.err, /^eoslab: --widths and --depths rebuild an mlp architecture, and 'fc-relu' is not one: give ARCH as mlp:<W>:<act>/);
  assert.is(r.err.split('\n').length, 1, r.err);
  r = eoslab(res, 'catapult', 'gmm-64-4-2', 'mlp:8:relu', 'mse', '--x-max', '-1', '--backend', 'wasm');
  assert.is(r.code, 1);
  assert.match(r.err, /--x-max \(-1\) must be at least --x-start \(0\)/);
  r = eoslab(res, 'catapult', 'gmm-64-4-2', 'mlp:8:relu', 'mse', '--widths', '0');
  assert.is.not(r.code, 0);
  assert.match(r.err, /--widths takes positive integers/);
});

test('every c of the grid (sharpness every step, the members\' eigen-solves in lockstep) has the trajectory `eoslab train` gives it alone', () => {
  const res = tmp(), out = join(res, 'cat');
  const arch = 'mlp:16:relu:nobias';
  const r = eoslab(res, 'catapult', 'gmm-64-4-2', arch, 'mse', '--backend', 'wasm', '--x-step', '1', '--x-max', '3', '--steps', '4', '--max-k', '4', '--out', out);
  assert.is(r.code, 0, r.err);
  const traj = readCsv(join(out, 'trajectories.csv')).rows;
  const grid = readCsv(join(out, 'catapult.csv')).rows;
  assert.is(grid.length, 4);
  for (const row of grid) {
    // η = c/λ₀ as the catapult wrote it (String of a float64: it reads back exactly).
    const dir = join(res, `train-${row.c}`);
    const t = eoslab(res, 'train', 'gmm-64-4-2', arch, 'mse', row.eta, '4', '--init-scheme', 'normal', '--eig-freq', '1', '--neigs', '1',
      '--diverge-loss', '1e5', '--backend', 'wasm', '--out', dir);
    assert.is(t.code, 0, t.err);
    const alone = readCsv(join(dir, 'metrics.csv')).rows;
    const mine = traj.filter((x) => x.c === row.c);
    assert.is(mine.length, alone.length, `c = ${row.c}: steps`);
    // metrics.csv holds the shortest decimal of each f32; the trajectory the float64 of the same f32.
    const f32 = (s: string) => Math.fround(Number(s));
    mine.forEach((x, i) => {
      assert.is(f32(x.train_loss), f32(alone[i].train_loss), `c = ${row.c}, step ${i}: loss`);
      assert.is(f32(x.sharpness), f32(alone[i].lambda_1), `c = ${row.c}, step ${i}: λ₁`);
    });
  }
});

const trace = (c: number, losses: number[], sharp: number[], diverged = false): CatapultTrace => ({ c, eta: c / 10, losses, sharpness: sharp, diverged });

test('analysis: ratios within T, c_loss / c_sharp below the first divergence, c_max, the grid', () => {
  const L0 = 2, l0 = 10, T = 3;
  const rows = [
    trace(1, [2, 1, 0.5, 0.4, 9], [10, 9, 8, 7, 30]),          // step 4 is past T: ignored
    trace(2, [2, 3, 1, 0.5], [10, 10.2, 9, 8]),                // loss catapult, sharpness within ε
    trace(4, [2, 8, 1, 0.5], [10, 12, 3, 2]),                  // both catapult
    trace(8, [2, 50, 1e9], [10, 40, null as unknown as number], true),
    trace(16, [2, 1, 0.5, 0.2], [10, 5, 4, 3]),                // after the divergence: left out
  ].map((t) => catapultRow(t, l0, L0, T));
  assert.equal(rows[0], { c: 1, eta: 0.1, max_loss_ratio: 1, final_loss_ratio: 0.2, sharpness_ratio: 0.7, max_sharpness_ratio: 0.9, diverged: false });
  assert.is(rows[3].max_loss_ratio, 5e8);
  assert.is(rows[3].sharpness_ratio, 4, 'the last measured λ before the divergence');
  assert.equal(phaseOf(rows, l0, L0, 0.05), { lambda0: l0, loss0: L0, c_loss: 2, c_sharp: 4, c_max: 4, c_diverged: 8 });
  assert.equal(phaseOf(rows.slice(0, 1), l0, L0, 0.05), { lambda0: l0, loss0: L0, c_loss: null, c_sharp: null, c_max: 1, c_diverged: null });
  assert.is(phaseOf(rows.slice(3), l0, L0, 0.05).c_max, null, 'the smallest c diverged');
  assert.equal(cGrid(0, 0.5, 2), [1, 2 ** 0.5, 2, 2 ** 1.5, 4]);
  assert.is(cGrid(0, 0.2, 8).length, 41);
  assert.equal(archGrid('mlp:512:relu:nobias', [128], [1, 3]).map((a) => a.arch), ['mlp:128:relu:nobias', 'mlp:128x128x128:relu:nobias']);
  assert.equal(archGrid('mlp:32x32:tanh', [8], null).map((a) => a.arch), ['mlp:8x8:tanh']);
  assert.equal(archGrid('fc-relu', null, null), [{ arch: 'fc-relu', width: null, depth: null }]);
});

test.run();
