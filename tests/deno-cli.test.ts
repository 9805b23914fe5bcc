// The Deno host (hosts/deno/cli.ts, hosts/deno/mod.ts) against the Node CLI:
// one CLI definition and one run-directory writer, so for the same command
// and seed Deno must write the same run directory. On the Wasm core both
// hosts run the same build (relaxed SIMD) on one thread, so metrics.csv and
// θ checkpoints are identical bit for bit (wall_s aside). On WebGPU, Dawn
// (Tint) and wgpu (naga) compile the same WGSL for the same CPU Vulkan
// driver and each host autotunes its own kernel variants, so the last bits
// may differ: relative 1e-4 on losses, 1e-3 on eigenvalues and ‖g‖, one of
// the 64 examples on accuracy (the tolerances of tests/web-page.test.ts).
// Deno is the binary the project installs, run as a user runs it: a plain
// `deno run -A hosts/deno/cli.ts …` from the repository root (deno.json).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { denoBinary } from './helpers/deno.js';

const root = mkdtempSync(join(tmpdir(), 'eoslab-deno-'));
const ENV = { ...process.env, EOSLAB_RESULTS: root, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
const TRAIN = ['train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1'];
const WASM = ['--eig-freq', '5', '--backend', 'wasm', '--threads', '1'];
const TOL = { loss: 1e-4, eig: 1e-3, acc: 1 / 64 };

interface Ran { code: number | null; out: string; err: string }

function run(cmd: string, args: string[]): Ran {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, env: ENV });
  return { code: r.status, out: r.stdout, err: r.stderr.split('\n').filter((l) => !l.startsWith('Warning: max')).join('\n') };
}
const node = (...args: string[]) => run(process.execPath, ['hosts/node/bin/eoslab.mjs', ...args]);
const deno = (...args: string[]) => run(denoBinary(), ['run', '-A', 'hosts/deno/cli.ts', ...args]);

type Table = { header: string[]; rows: (number | null)[][] };
function csv(dir: string): Table {
  const lines = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
  return { header: lines[0].split(','), rows: lines.slice(1).map((l) => l.split(',').map((s) => (s === '' ? null : Number(s)))) };
}
/** metrics.csv as text without the wall_s column (the only one that may differ between identical runs). */
function withoutWall(dir: string): string {
  const lines = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
  const w = lines[0].split(',').indexOf('wall_s');
  assert.ok(w >= 0, `${dir}/metrics.csv has no wall_s column`);
  return lines.map((l) => l.split(',').filter((_, i) => i !== w).join(',')).join('\n');
}
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => { for (const f of readdirSync(d)) { const p = join(d, f); if (statSync(p).isDirectory()) walk(p); else out.push(relative(dir, p)); } };
  walk(dir);
  return out.sort();
}
const meta = (dir: string) => JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));

test('Wasm: the Deno CLI writes the Node CLI\'s run directory: metrics.csv and θ bit for bit, the same files and config', () => {
  const n = join(root, 'node-wasm'), d = join(root, 'deno-wasm');
  const rn = node(...TRAIN, '10', ...WASM, '--out', n);
  assert.is(rn.code, 0, rn.err);
  const rd = deno(...TRAIN, '10', ...WASM, '--out', d);
  assert.is(rd.code, 0, rd.err);
  assert.match(rd.out, new RegExp(`run directory: ${d}`));
  assert.match(rd.out, /backend wasm \(--backend wasm\): .* on Deno/);
  assert.is(withoutWall(d), withoutWall(n));
  assert.equal(files(d), files(n));
  assert.ok(readFileSync(join(d, 'checkpoints/step_10.safetensors')).equals(readFileSync(join(n, 'checkpoints/step_10.safetensors'))), 'θ_10 differs');
  const md = meta(d), mn = meta(n);
  assert.equal(md.config, mn.config);
  assert.equal(Object.keys(md), Object.keys(mn));
  assert.is(md.status, 'finished');
  assert.is(md.command, [...TRAIN, '10', ...WASM, '--out', d].join(' '));
});

test('seeded measures (Hutchinson trace, batch sharpness, SLQ density) give the same numbers on Deno as on Node', () => {
  const n = join(root, 'node-measures'), d = join(root, 'deno-measures');
  const M = ['--trace', '--trace-max', '30', '--batch-sharpness', '--batch-sharpness-batch-size', '16', '--batch-sharpness-max', '30',
    '--density', '--density-runs', '2', '--density-order', '10', '--density-grid', '50'];
  const rn = node(...TRAIN, '4', ...WASM, ...M, '--out', n);
  assert.is(rn.code, 0, rn.err);
  const rd = deno(...TRAIN, '4', ...WASM, ...M, '--out', d);
  assert.is(rd.code, 0, rd.err);
  const t = csv(n);
  for (const c of ['trace', 'trace_se', 'batch_sharpness', 'batch_sharpness_se', 'density_lambda_max']) assert.ok(t.header.includes(c), c);
  assert.is(withoutWall(d), withoutWall(n));
  // The density table is float64 host arithmetic over the same f32 Ritz values; the two hosts' V8 builds may
  // round a transcendental in the last ulp, so it is compared to 1e-12 relative (seen: 2e-15 on one density_se).
  const table = (dir: string) => readFileSync(join(dir, 'density/step_0.csv'), 'utf8').trim().split('\n');
  const [tn, td] = [table(n), table(d)];
  assert.is(td[0], tn[0]);
  assert.is(td.length, tn.length);
  for (let i = 1; i < tn.length; i++) {
    const a = tn[i].split(',').map(Number), b = td[i].split(',').map(Number);
    a.forEach((x, j) => assert.ok(Math.abs(x - b[j]) <= 1e-12 * Math.max(Math.abs(x), 1e-300), `density row ${i} col ${j}: ${x} vs ${b[j]}`));
  }
});

test('resume from Deno continues a run the Node CLI started, bit for bit', () => {
  const r = join(root, 'node-then-deno');
  assert.is(node(...TRAIN, '6', ...WASM, '--out', r).code, 0);
  const rd = deno('resume', r, '--max-steps', '10', '--threads', '1');
  assert.is(rd.code, 0, rd.err);
  // The uninterrupted 10-step Node run of the first test.
  assert.is(withoutWall(r), withoutWall(join(root, 'node-wasm')));
  const m = meta(r);
  assert.is(m.resumes.length, 1);
  assert.is(m.resumes[0].from_step, 6);
  assert.is(m.device.backend, 'wasm');
  assert.match(m.device.adapter, /Deno/);
});

test('mod.ts: train() from a Deno script writes the CLI\'s metrics.csv', () => {
  const out = join(root, 'deno-mod'), script = join(root, 'script.ts');
  const mod = new URL('../hosts/deno/mod.ts', import.meta.url).href;
  writeFileSync(script, `import { train } from '${mod}';\n` +
    `console.log(await train({ dataset: 'gmm-64-4-2', arch: 'mlp:8:tanh', loss: 'mse', lr: 0.1, maxSteps: 10, eigFreq: 5 }, ` +
    `{ out: ${JSON.stringify(out)}, backend: 'wasm', threads: 1, log: () => {} }));\n`);
  // A script outside the repository names the project's deno.json.
  const r = run(denoBinary(), ['run', '-A', '--config', 'deno.json', script]);
  assert.is(r.code, 0, r.err);
  assert.is(r.out.trim(), out);
  assert.is(withoutWall(out), withoutWall(join(root, 'node-wasm')));
  assert.match(meta(out).command, /^train .* \(hosts\/deno\/mod\.ts\)$/);
});

test('an error is one line naming the fix, exit status 1, nothing written', () => {
  const out = join(root, 'bad');
  const r = deno(...TRAIN, '10', '--backend', 'wasm', '--neigs', '500', '--out', out);
  assert.is(r.code, 1);
  assert.equal(r.err.trim().split('\n'), ['eoslab: --neigs 500 exceeds the model\'s 58 parameters']);
  assert.not.ok(r.err.includes('    at '), 'a stack trace');
  assert.throws(() => statSync(out));
});

test('WebGPU: the Deno CLI\'s metrics.csv equals the Node CLI\'s within the cross-backend tolerances', () => {
  const n = join(root, 'node-webgpu'), d = join(root, 'deno-webgpu');
  const GPU = ['--eig-freq', '5', '--backend', 'webgpu'];
  const rd = deno(...TRAIN, '10', ...GPU, '--out', d);
  if (rd.code !== 0 && /no WebGPU adapter|WebGPU is not available/.test(rd.err)) {
    console.log(`  skipped the WebGPU half: Deno has no adapter here (${rd.err.trim().split('\n')[0]})`);
    return;
  }
  assert.is(rd.code, 0, rd.err);
  assert.match(rd.out, /backend webgpu \(--backend webgpu\)/);
  const rn = node(...TRAIN, '10', ...GPU, '--out', n);
  assert.is(rn.code, 0, rn.err);
  const a = csv(d), b = csv(n);
  assert.equal(a.header, b.header);
  assert.is(a.rows.length, b.rows.length);
  const rel = (x: number, y: number) => Math.abs(x - y) / Math.max(Math.abs(y), 1e-6);
  a.rows.forEach((row, i) => row.forEach((x, j) => {
    const k = a.header[j], y = b.rows[i][j];
    if (k === 'wall_s') return;
    if (x === null || y === null) { assert.is(x, y, `row ${i} ${k}`); return; }
    const tol = /loss/.test(k) ? TOL.loss : /lambda|grad_norm/.test(k) ? TOL.eig : /acc/.test(k) ? TOL.acc : 0;
    // Accuracy: a point on the decision boundary may flip between compilers; one of 64 examples is allowed.
    assert.ok(/acc/.test(k) ? Math.abs(x - y) <= tol : rel(x, y) <= tol, `row ${i} ${k}: Deno ${x} vs Node ${y} (tolerance ${tol})`);
  }));
  assert.is(meta(d).device.backend, 'webgpu');
  assert.match(String(meta(d).device.driver), /wgpu \(Deno/);
});

test.run();
