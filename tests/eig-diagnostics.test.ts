// The run loop's eigen-measurement: its diagnostics columns (HVPs, largest
// residual, converged flag), the retry from a fresh start when the solver
// misses its tolerance, `--neigs auto:F` tracking the eigenvalues above
// F × threshold, and `--test-freq`. Each CLI run is a few steps on tiny
// problems (Wasm).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, Buf } from '../core/ts/backend/types.js';
import { measureEig } from '../core/ts/measure/eig-measure.js';
import { parseNeigs } from '../core/ts/run/config.js';
import { configDiff, runDirName } from '../core/ts/run/identity.js';
import { DEFAULT_RUN, type RunConfig } from '../core/ts/run/config.js';

const root = mkdtempSync(join(tmpdir(), 'eoslab-eigdiag-'));
const eoslab = (...args: string[]) => spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', ...args], { encoding: 'utf8', env: { ...process.env, EOSLAB_RESULTS: root } });
function csv(dir: string) {
  const [head, ...rows] = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  return { head, rows, col: (name: string) => rows.map((r) => r[head.indexOf(name)]) };
}

// A solver stub: each call returns the next scripted residual; the retry's fresh start is recorded.
function scripted(residuals: number[]) {
  const calls: { k: number; warm: string[] }[] = [];
  const freshK: number[] = [];
  const buf = (label: string) => ({ label, length: 9 }) as unknown as Buf;
  const backend = { release: () => {} } as unknown as Backend;
  return {
    calls, freshK,
    opts: {
      backend, n: 9, k: 1, warm: [buf('warm')], auto: null, tol: 1e-4,
      solve: async (a: { k: number; warm: Buf[] }) => {
        calls.push({ k: a.k, warm: a.warm.map((b) => b.label) });
        const r = residuals[calls.length - 1];
        return { values: [5], vectors: [buf(`v${calls.length}`)], residuals: [r], iterations: 3, applications: 10 * calls.length };
      },
      fresh: (k: number) => { freshK.push(k); return [buf('fresh')]; },
    },
  };
}

test('a measurement that misses its tolerance is retried once from a fresh start, and flagged if the retry misses too', async () => {
  const ok = scripted([1e-6]);
  const a = await measureEig(ok.opts);
  assert.equal([a.converged, a.hvps, a.residual, ok.calls.length], [true, 10, 1e-6, 1]);

  const retried = scripted([0.3, 1e-6]);
  const b = await measureEig(retried.opts);
  // The first attempt started from the warm vector, the retry from the fresh block (not the stale warm start).
  assert.equal(retried.calls, [{ k: 1, warm: ['warm'] }, { k: 1, warm: ['fresh'] }]);
  assert.equal([b.converged, b.hvps, b.residual], [true, 30, 1e-6], 'HVPs of both attempts count');

  const failed = scripted([0.3, 0.5]);
  const c = await measureEig(failed.opts);
  assert.equal([c.converged, c.hvps, c.residual], [false, 30, 0.3], 'never silently converged: flagged, the better attempt kept');
});

test('auto: the block grows while its smallest value is above the line, and carries the pairs above it plus one', async () => {
  const spectrum = [9, 8, 7, 2, 1];
  const calls: number[] = [];
  const backend = { release: () => {} } as unknown as Backend;
  const m = await measureEig({
    backend, n: 30, k: 8, warm: [], auto: { line: 5 }, tol: 1e-4,
    solve: async ({ k }) => {
      calls.push(k);
      return { values: spectrum.slice(0, k), vectors: spectrum.slice(0, k).map((_, i) => ({ label: `v${i}` }) as unknown as Buf), residuals: Array(k).fill(0), iterations: 1, applications: k };
    },
    fresh: () => [],
  });
  assert.equal(calls, [1, 2, 3, 4]);
  assert.equal([m.tracked, m.carry.length, m.values], [3, 4, [9, 8, 7, 2]]);
});

test('--neigs parses K and auto:F[:KMAX]; bad forms and unsupported runs are one line each', () => {
  assert.equal(parseNeigs('3'), { neigs: 3, neigsAuto: null });
  assert.equal(parseNeigs('auto:0.9'), { neigs: 8, neigsAuto: 0.9 });
  assert.equal(parseNeigs('auto:0.9:4'), { neigs: 4, neigsAuto: 0.9 });
  for (const bad of ['0', 'auto', 'auto:0', 'auto:-1', 'auto:x', 'auto:0.9:0', 'auto:0.9:2:3']) assert.throws(() => parseNeigs(bad), /--neigs takes a positive integer K or auto:F/);
  const flow = eoslab('flow', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '1', '2', '--backend', 'wasm', '--neigs', 'auto:0.9');
  assert.is(flow.status, 1);
  assert.match(flow.stderr, /^eoslab: --neigs auto:F tracks eigenvalues above F × the optimizer's threshold, and gradient flow has none: give --neigs K\n$/);
  const r = eoslab('train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '2', '--backend', 'wasm', '--neigs', 'auto:abc');
  assert.is(r.status, 1);
  assert.match(r.stderr, /--neigs takes a positive integer K or auto:F/);
  const tf = eoslab('train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '2', '--backend', 'wasm', '--test-freq', '2,x');
  assert.is(tf.status, 1);
  assert.match(tf.stderr, /--test-freq takes F or F,STEP:F2/);
});

test('identity: neigsAuto and testFreq count as settings, and leave the hash of runs without them as it was', () => {
  const base: RunConfig = { ...DEFAULT_RUN, kind: 'train', dataset: 'gmm-64-4-2', arch: 'mlp:8:tanh', loss: 'mse', lr: 0.5, maxSteps: 10 };
  const { neigsAuto: _a, testFreq: _t, ...old } = base;
  assert.is(runDirName(old as RunConfig), runDirName(base), 'a run recorded before the fields existed keeps its directory');
  assert.equal(configDiff(base, { ...base, neigsAuto: 0.9 }), ['--neigs auto:F']);
  assert.equal(configDiff(base, { ...base, testFreq: { every: 5, after: [] } }), ['--test-freq']);
  assert.is.not(runDirName({ ...base, testFreq: { every: 5, after: [] } }), runDirName(base));
});

test('the CLI records eig_hvps, eig_residual and eig_converged where λ is measured, and flags a solve that never converges', () => {
  const good = join(root, 'good');
  assert.is(eoslab('train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '4', '--backend', 'wasm', '--eig-freq', '2', '--out', good).status, 0);
  const g = csv(good);
  assert.equal(g.head.slice(g.head.indexOf('grad_norm') + 1), ['eig_hvps', 'eig_residual', 'eig_converged', 'wall_s']);
  assert.equal(g.col('eig_converged'), ['1', '', '1', '', '1']);
  g.rows.filter((r) => r[g.head.indexOf('eig_hvps')] !== '').forEach((r) => {
    // LOBPCG stops at residual 1e-4, or earlier once ‖r‖²/gap ≤ 1e-6·λ with ‖r‖/λ ≤ 1e-2 (core/ts/measure/lobpcg.ts eigTol).
    assert.ok(Number(r[g.head.indexOf('eig_hvps')]) > 0 && Number(r[g.head.indexOf('eig_residual')]) < 1e-2, r.join(','));
  });
  // Power iteration on λ = 10, 9.99: the error shrinks by 0.999 per step, so 1000 iterations leave it near 0.37 of the start's.
  const bad = join(root, 'bad');
  const r = eoslab('train', 'quadratic:10,9.99,1', 'x', 'mse', '0.01', '0', '--backend', 'wasm', '--eig-solver', 'power', '--neigs', '1', '--out', bad);
  assert.is(r.status, 0, r.stderr);
  const b = csv(bad);
  assert.equal(b.col('eig_converged'), ['0']);
  assert.is(b.col('eig_hvps')[0], '2000', 'both attempts (1000 iterations each) counted');
  assert.ok(Number(b.col('eig_residual')[0]) > 1e-4);
});

test('--neigs auto:F picks up the second eigenvalue at the step it crosses F × threshold', () => {
  // λ = 10, 7, 1, …; line = 0.5 × 2/η: 8.33 at η = 0.12 (λ₁ only), 6.25 from the drop to η = 0.16 at step 6 (λ₁ and λ₂).
  const out = join(root, 'auto');
  const r = eoslab('train', 'quadratic:10,7,1,0.5,0.4,0.3,0.2,0.1,0.05', 'x', 'mse', '0.12', '9', '--lr-drop', '6:0.16', '--backend', 'wasm',
    '--eig-freq', '1', '--neigs', 'auto:0.5:3', '--out', out);
  assert.is(r.status, 0, r.stderr);
  const m = csv(out);
  assert.ok(m.head.includes('lambda_3') && !m.head.includes('lambda_4') && m.head.includes('neigs_tracked'), m.head.join(','));
  assert.equal(m.col('neigs_tracked').map(Number), [1, 1, 1, 1, 1, 1, 2, 2, 2, 2]);
  // The block holds the tracked pairs plus one below the line: λ₃ appears with the second crossing.
  assert.equal(m.col('lambda_3').map((x) => x !== ''), [false, false, false, false, false, false, true, true, true, true]);
  m.col('lambda_2').forEach((x) => assert.ok(Math.abs(Number(x) - 7) < 1e-3, x));
  const meta = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
  assert.equal([meta.config.neigs, meta.config.neigsAuto], [3, 0.5]);
});

test('auto tracking and --test-freq resume bit for bit (the checkpoint holds the warm block)', () => {
  const args = ['gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1'];
  const opts = ['--backend', 'wasm', '--eig-freq', '2', '--neigs', 'auto:0.15:3', '--test-freq', '3,6:2', '--checkpoint-every', '3'];
  const whole = join(root, 'whole'), parts = join(root, 'parts');
  assert.is(eoslab('train', ...args, '10', ...opts, '--out', whole).status, 0);
  assert.is(eoslab('train', ...args, '5', ...opts, '--out', parts).status, 0);
  const r = eoslab('resume', parts, '--max-steps', '10');
  assert.is(r.status, 0, r.stderr);
  const a = csv(whole), b = csv(parts);
  const noWall = (m: ReturnType<typeof csv>) => m.rows.map((row) => row.filter((_, i) => m.head[i] !== 'wall_s'));
  assert.equal(noWall(b), noWall(a));
  assert.equal(a.col('test_loss').map((x) => x !== ''), [true, false, false, true, false, false, true, false, true, false, true]);
  assert.ok(a.col('neigs_tracked').some((x) => Number(x) >= 1), a.col('neigs_tracked').join(' '));
});

test.run();
