// The Hessian trace (Hutchinson, Hutch++) against the trace of an explicitly
// formed float64 Hessian of a small MLP, on both backends: the estimate lies
// within 4 reported standard errors of the truth, the error shrinks as the
// probes grow (∝ 1/√n), Hutch++ has the lower error at the same budget, and
// the same seed and step give the same numbers. The frequency rules and the
// CLI switch are checked here too: they are the suite's shared plumbing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachBackend } from './helpers/backends.js';
import { f64, makeProblem, paramsAwayFromKinks } from './helpers/problem.js';
import { makeTestContext } from './helpers/measure-ctx.js';
import * as ref from './reference/mlp64.js';
import { hutchinson } from '../core/ts/measure/trace.js';
import { fires, formatFreq, parseFreq } from '../core/ts/measure/schedule.js';
import { RunningMean } from '../core/ts/measure/suite.js';

forEachBackend('trace', (T) => {
  T('Hutchinson and Hutch++ against the explicit float64 Hessian trace', async ({ be }) => {
    const p = makeProblem(be, { sizes: [3, 8, 6, 2], act: 'tanh', bias: true, loss: 'mse', N: 12, seed: 17 });
    const P = p.layout.P;
    const th = paramsAwayFromKinks(p, 60);
    const H = ref.hessian64(p.m64, f64(th), f64(p.X), f64(p.Y), p.N, 'mse');
    let tr = 0;
    for (let i = 0; i < P; i++) tr += H[i * P + i];
    const { ctx, dispose } = await makeTestContext(be, { objective: p.obj, theta: th, step: 3, seed: 5 });
    const fixed = (n: number, sketch = 0) => hutchinson(ctx, { max: n, min: n, eps: 1e-9, sketch });
    const small = await fixed(24), large = await fixed(384);
    const pp = await fixed(384 - 24, 24);
    for (const [name, r] of [['24 probes', small], ['384 probes', large], ['Hutch++', pp]] as const) {
      console.log(`  ${name.padEnd(10)} trace ${r.value.toFixed(4)} ± ${r.se.toFixed(4)} vs float64 ${tr.toFixed(4)}  (${r.probes} probes)`);
      assert.ok(Math.abs(r.value - tr) < 4 * r.se, `${name}: ${r.value} ± ${r.se} vs ${tr}`);
    }
    assert.is(large.probes, 384);
    assert.ok(large.se < small.se / 2, `se ∝ 1/√n: ${small.se} at 24 probes, ${large.se} at 384`);
    assert.ok(pp.se < large.se, `Hutch++ ${pp.se} below plain Hutchinson ${large.se} at the same budget`);
    // Seeded: the same (seed, step) repeats exactly.
    assert.equal(await fixed(24), small);
    // The relative-error stop ends between min and max.
    const stop = await hutchinson(ctx, { max: 256, min: 20, eps: 0.05, sketch: 0 });
    assert.ok(stop.probes >= 20 && stop.probes <= 256 && (stop.probes === 256 || stop.se <= 0.05 * Math.abs(stop.value)));
    dispose();
    p.dispose();
  });
});

test('frequency rules: every F, slower after given steps', () => {
  const r = parseFreq('10,100:50,1000:500', '--x-freq');
  assert.is(formatFreq(r), '10,100:50,1000:500');
  const on = Array.from({ length: 2100 }, (_, t) => t).filter((t) => fires(r, t));
  assert.equal(on.slice(0, 12), [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 150]);
  assert.equal(on.filter((t) => t >= 1000), [1000, 1500, 2000]);
  assert.not.ok(fires(parseFreq('0', 'f'), 0));
  assert.throws(() => parseFreq('10,abc', '--x-freq'), /--x-freq takes F or F,STEP:F2/);
  assert.throws(() => parseFreq('-1', '--x-freq'), /--x-freq/);
});

test('RunningMean: mean, standard error and the stopping rule', () => {
  const m = new RunningMean();
  [1, 2, 3, 4].forEach((x) => m.add(x));
  assert.is(m.mean, 2.5);
  assert.ok(Math.abs(m.se - Math.sqrt(5 / 3 / 4)) < 1e-12);
  assert.not.ok(m.done(0.01, 2, 10));
  assert.ok(m.done(1, 2, 10));
  assert.ok(m.done(0.01, 2, 4));
});

test('the CLI switch: --trace fills trace, trace_se, trace_probes where its rule fires', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'eoslab-trace-')), 'run');
  const r = spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', 'train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '6',
    '--backend', 'wasm', '--eig-freq', '2', '--trace', '--trace-freq', '3', '--trace-max', '40', '--out', out], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const [head, ...rows] = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  const col = (n: string) => head.indexOf(n);
  assert.ok(col('trace') > 0 && col('trace_se') > 0 && col('trace_probes') > 0, head.join(','));
  const filled = rows.filter((c) => c[col('trace')] !== '').map((c) => Number(c[0]));
  assert.equal(filled, [0, 3, 6]);
  for (const c of rows.filter((x) => x[col('trace')] !== '')) assert.ok(Number(c[col('trace_probes')]) <= 40 && Number(c[col('trace_se')]) > 0);
  const meta = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
  assert.equal(meta.config.measures.trace.options, { max: 40, min: 20, eps: 0.01, sketch: 0 });
  const bad = spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', 'train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '6',
    '--backend', 'wasm', '--trace-max', '40'], { encoding: 'utf8' });
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /--trace-max needs --trace/);
});

test.run();
