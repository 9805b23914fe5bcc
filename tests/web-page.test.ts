// The web page (build/web, served by scripts/serve.mjs) in headless Chromium:
// the page's records equal the Node CLI's metrics.csv for the same
// configuration (Wasm: bit for bit; WebGPU: within the cross-backend
// tolerances), pause/resume continues the same trajectory, stop ends with a
// checkpoint, the downloaded zip loads with the Node tools, embed.html runs
// two experiments, and bad input shows an inline error while a later valid
// run still works.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import type { Browser, Page } from 'playwright-core';
import { decodeSafetensors } from '../core/ts/io/safetensors.js';
import { parseMetricsCsv } from '../core/ts/plot/metrics.js';
import { configureVulkanEnv } from '../hosts/node/vulkan-env.js';
import { buildWeb } from '../scripts/build-web.mjs';
import type { EoslabExperiment } from '../hosts/browser/page/element.js';

// A problem small enough for seconds on SwiftShader: 4 → 8 → 2 tanh MLP, P = 58.
const CFG = { dataset: 'gmm-64-4-2', arch: 'mlp:8:tanh', loss: 'mse', lr: 0.1, maxSteps: 20, eigFreq: 5 };
const P = 4 * 8 + 8 + 8 * 2 + 2;
const CLI_ARGS = ['train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1', '20', '--eig-freq', '5'];
// The project's cross-backend tolerances (tests/cross-backend.test.ts asserts 1e-5 on a 200-step run;
// here Chromium's SwiftShader faces the CLI's lavapipe or Wasm core): relative 1e-4 on losses, 1e-3 on eigenvalues and ‖g‖.
const TOL = { loss: 1e-4, eig: 1e-3 };

const tmp = mkdtempSync(join(tmpdir(), 'eoslab-web-'));
let server: ChildProcess, base = '', browser: Browser;
const cli: Record<string, { rows: Record<string, number | null>[]; dir: string }> = {};
type El = EoslabExperiment;

function runCli(backend: 'wasm' | 'webgpu') {
  const dir = join(tmp, `cli-${backend}`);
  const r = spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', ...CLI_ARGS, '--backend', backend, '--out', dir],
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, EOSLAB_RESULTS: tmp } });
  assert.is(r.status, 0, r.stderr);
  cli[backend] = { rows: parseMetricsCsv(readFileSync(join(dir, 'metrics.csv'), 'utf8'), 'metrics.csv').rows, dir };
}

/** Rows without wall_s (a clock, not a result). */
const results = (rows: Record<string, number | null>[]) => rows.map(({ wall_s: _, ...r }) => r);

async function openPage(path: string): Promise<Page> {
  const page = await browser.newPage();
  const log: string[] = [];
  page.on('pageerror', (e) => log.push(e.message));
  (page as unknown as { errors: string[] }).errors = log;
  await page.goto(base + path);
  return page;
}

async function fillForm(page: Page, fields: Record<string, string>): Promise<void> {
  for (const [id, v] of Object.entries(fields)) await page.fill(`#${id}`, v);
}

async function waitDone(page: Page, n = 1, timeout = 60_000): Promise<void> {
  await page.waitForFunction((n) => {
    const els = Array.from(document.querySelectorAll('eoslab-experiment')) as El[];
    return els.length >= n && els.every((e) => ['finished', 'stopped', 'error'].includes(e.status));
  }, n, { timeout });
}

const records = (page: Page, i = 0) => page.evaluate((i) => (document.querySelectorAll('eoslab-experiment')[i] as El).records, i);

test.before(async () => {
  configureVulkanEnv();
  await buildWeb();
  server = spawn(process.execPath, ['scripts/serve.mjs', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  base = await new Promise<string>((res, rej) => {
    server.stdout!.on('data', (d) => { const m = /at (http\S+)/.exec(String(d)); if (m) res(m[1]); });
    server.stderr!.on('data', (d) => rej(new Error(String(d))));
  });
  const executablePath = process.env.EOSLAB_CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`Chromium not found at ${executablePath}: run \`npm run setup\``);
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath, args: ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'], timeout: 60_000 });
});

test.after(async () => {
  await browser?.close();
  server?.kill();
});

test('serve: the site is cross-origin isolated (COOP/COEP), and a path outside it is refused', async () => {
  const r = await fetch(base + 'index.html');
  assert.is(r.status, 200);
  assert.is(r.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.is(r.headers.get('cross-origin-embedder-policy'), 'require-corp');
  const js = await fetch(base + 'eoslab.js');
  assert.match(js.headers.get('content-type') ?? '', /javascript/);
  // An encoded slash survives URL normalisation: decoded, it would climb out of build/web.
  assert.is((await fetch(base + '..%2Fpackage.json')).status, 403);
});

test('?backend=wasm: the GD run\'s records equal the CLI\'s metrics.csv bit for bit', async () => {
  runCli('wasm');
  const page = await openPage('index.html?backend=wasm');
  await fillForm(page, { dataset: CFG.dataset, arch: CFG.arch, lr: '0.1', maxSteps: '20', eigFreq: '5' });
  await page.click('#run');
  await waitDone(page);
  const el = await page.evaluate(() => { const e = document.querySelector('eoslab-experiment') as El; return { status: e.status, why: e.why, error: e.error }; });
  assert.is(el.status, 'finished', el.error);
  assert.match(el.why, /^backend wasm \(--backend wasm\): WebAssembly .*2 threads/, 'threaded core: the page is cross-origin isolated');
  const rows = await records(page);
  assert.is(rows.length, 21);
  // Same Wasm build (relaxed SIMD), same thread count, same seeds: the same f32 values, so the same shortest decimals.
  assert.equal(results(rows), results(cli.wasm.rows));
  // The page drew the figures: loss, accuracy, sharpness.
  assert.ok(await page.locator('eoslab-experiment .eoslab-plot svg').count() >= 3);
  await page.close();
});

test('?backend=webgpu: the records equal the CLI\'s metrics.csv within the cross-backend tolerances', async () => {
  runCli('webgpu');
  const page = await openPage('index.html?backend=webgpu');
  await fillForm(page, { dataset: CFG.dataset, arch: CFG.arch, lr: '0.1', maxSteps: '20', eigFreq: '5' });
  await page.click('#run');
  await waitDone(page, 1, 80_000);
  const why = await page.evaluate(() => (document.querySelector('eoslab-experiment') as El).why);
  assert.match(why, /^backend webgpu/);
  const rows = await records(page), ref = cli.webgpu.rows;
  assert.is(rows.length, ref.length);
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-6);
  rows.forEach((r, i) => {
    for (const k of Object.keys(ref[i])) {
      const a = r[k], b = ref[i][k];
      // The solver's cost and residual depend on the summation order (page and CLI drivers differ); eig_converged is compared exactly.
      if (k === 'wall_s' || k === 'eig_hvps' || k === 'eig_residual') continue;
      if (b === null || a === null) { assert.is(a, b, `row ${i} ${k}`); continue; }
      const tol = /loss/.test(k) ? TOL.loss : /lambda|grad_norm/.test(k) ? TOL.eig : /acc/.test(k) ? 1 / 64 : 0;
      // Accuracy: a point on the decision boundary may flip between drivers; one of 64 examples is allowed.
      assert.ok(/acc/.test(k) ? Math.abs(a - b) <= tol : rel(a, b) <= tol, `row ${i} ${k}: page ${a} vs CLI ${b} (tolerance ${tol})`);
    }
  });
  await page.close();
});

test('pause/resume continues the same trajectory; the downloaded zip loads with the Node tools', async () => {
  const page = await openPage('index.html?backend=wasm');
  await fillForm(page, { dataset: CFG.dataset, arch: CFG.arch, lr: '0.1', maxSteps: '20', eigFreq: '5' });
  // Pause from inside the 5th record event: the run is certainly mid-way.
  await page.evaluate(() => {
    const run = (window as unknown as { __eoslabPage: { run(): El[] } }).__eoslabPage.run;
    const [el] = run();
    el.addEventListener('record', () => { if (el.records.length === 5) el.pause(); });
  });
  await page.waitForFunction(() => (document.querySelector('eoslab-experiment') as El).status === 'paused');
  const n0 = (await records(page)).length;
  await page.waitForTimeout(600);
  const n1 = (await records(page)).length;
  assert.is(n1, n0, 'no rows while paused');
  assert.ok(n1 < 21, `paused before the end (${n1} rows)`);
  await page.click('eoslab-experiment .eoslab-start'); // reads "Resume" while paused
  await waitDone(page);
  const rows = await records(page);
  assert.equal(results(rows), results(cli.wasm.rows), 'the same rows as an uninterrupted run');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('eoslab-experiment .eoslab-download')]);
  const file = join(tmp, 'run.zip');
  await download.saveAs(file);
  const files = unzipSync(new Uint8Array(readFileSync(file)));
  assert.equal(Object.keys(files).sort(), ['checkpoints/step_20.optim.safetensors', 'checkpoints/step_20.safetensors', 'metadata.json', 'metrics.csv']);
  const text = new TextDecoder().decode(files['metrics.csv']);
  const cliText = readFileSync(join(cli.wasm.dir, 'metrics.csv'), 'utf8');
  assert.is(text.split('\n')[0], cliText.split('\n')[0], 'same columns');
  assert.equal(results(parseMetricsCsv(text, 'metrics.csv').rows), results(cli.wasm.rows));
  const meta = JSON.parse(new TextDecoder().decode(files['metadata.json']));
  const cliMeta = JSON.parse(readFileSync(join(cli.wasm.dir, 'metadata.json'), 'utf8'));
  assert.equal(meta.config, cliMeta.config, 'the configuration the CLI records');
  assert.equal([meta.status, meta.stop_reason, meta.last_step], ['finished', 'max_steps', 20]);
  assert.equal(meta.columns, cliMeta.columns);
  assert.equal(meta.model, cliMeta.model);
  const { tensors } = decodeSafetensors(files['checkpoints/step_20.safetensors']);
  assert.is(tensors.reduce((s, t) => s + t.data.length, 0), P, 'θ length');
  const cliTensors = decodeSafetensors(new Uint8Array(readFileSync(join(cli.wasm.dir, 'checkpoints/step_20.safetensors')))).tensors;
  assert.equal(tensors.map((t) => [t.name, t.shape, Array.from(t.data as Float32Array)]), cliTensors.map((t) => [t.name, t.shape, Array.from(t.data as Float32Array)]), 'θ₂₀ as the CLI saved it');
  await page.close();
});

test('stop ends the run after the current row, with a checkpoint of that row', async () => {
  const page = await openPage('index.html?backend=wasm');
  await fillForm(page, { dataset: CFG.dataset, arch: CFG.arch, lr: '0.1', maxSteps: '5000', eigFreq: '5' });
  const done = await page.evaluate(() => new Promise<unknown>((res) => {
    const [el] = (window as unknown as { __eoslabPage: { run(): El[] } }).__eoslabPage.run();
    el.addEventListener('record', () => { if (el.records.length === 3) el.stop(); });
    el.addEventListener('done', (e) => res((e as CustomEvent).detail));
  }));
  assert.equal(done, { status: 'stopped', stop_reason: 'stopped' });
  const { last, zip } = await page.evaluate(() => { const el = document.querySelector('eoslab-experiment') as El; return { last: el.records.at(-1)!.step, zip: Array.from(el.zip()!) }; });
  assert.ok(last! < 100, `stopped early (last step ${last})`);
  const files = unzipSync(Uint8Array.from(zip));
  assert.ok(files[`checkpoints/step_${last}.safetensors`], `checkpoint of step ${last}: ${Object.keys(files)}`);
  assert.is(JSON.parse(new TextDecoder().decode(files['metadata.json'])).status, 'stopped');
  await page.close();
});

test('embed.html: two embedded experiments both run', async () => {
  const page = await openPage('embed.html?backend=wasm');
  const attr = await page.evaluate(() => Array.from(document.querySelectorAll('eoslab-experiment')).map((e) => ({ ok: (e as El).check(), lr: JSON.parse((e as El).config as string).lr })));
  assert.equal(attr, [{ ok: true, lr: 0.1 }, { ok: true, lr: 0.3 }], 'the config attributes parse and validate');
  // A shorter run of the same problems keeps this test to seconds; the element takes the config property as well.
  const done = await page.evaluate((cfg) => Promise.all(Array.from(document.querySelectorAll('eoslab-experiment')).map((e, i) => new Promise((res) => {
    const el = e as El;
    el.config = { ...JSON.parse(el.config as string), ...cfg, lr: [0.1, 0.3][i] };
    el.addEventListener('done', (ev) => res({ ...(ev as CustomEvent).detail, rows: el.records.length, lr: el.records[0].lr }));
    el.start();
  }))), { maxSteps: 10, eigFreq: 5 });
  assert.equal(done, [{ status: 'finished', stop_reason: 'max_steps', rows: 11, lr: 0.1 }, { status: 'finished', stop_reason: 'max_steps', rows: 11, lr: 0.3 }]);
  assert.equal((page as unknown as { errors: string[] }).errors, []);
  await page.close();
});

test('bad input shows an inline one-line error, and a later valid run still works', async () => {
  const page = await openPage('index.html?backend=wasm');
  const formError = () => page.evaluate(() => { const e = document.getElementById('form-error')!; return e.hidden ? '' : e.textContent; });
  await fillForm(page, { dataset: CFG.dataset, arch: CFG.arch, lr: '-1', maxSteps: '20', eigFreq: '5' });
  assert.match(await formError(), /^learning rate must be positive, got -1$/);
  await page.click('#run');
  assert.is(await page.locator('eoslab-experiment').count(), 0, 'nothing started');
  await page.fill('#lr', '0x10');
  assert.match(await formError(), /^lr: '0x10' is not a number/, 'configuration is data: 0x10 is not read as a number');
  await page.fill('#lr', '0.1');
  await page.fill('#neigs', '1.5');
  assert.match(await formError(), /^config\.neigs must be an integer/);
  await page.fill('#neigs', '2');
  assert.is(await formError(), '');
  // A file of the wrong format: the npz loader's one-line error shows in the experiment.
  const bad = join(tmp, 'bad.npz');
  writeFileSync(bad, 'this is not a zip archive');
  await page.setInputFiles('#files', bad);
  await page.waitForFunction(() => (document.getElementById('dataset') as HTMLInputElement).value === 'npz:bad.npz');
  await page.click('#run');
  await waitDone(page);
  const failed = await page.evaluate(() => { const e = document.querySelector('eoslab-experiment') as El; return { status: e.status, error: e.error, shown: e.querySelector('.eoslab-error')!.textContent }; });
  assert.is(failed.status, 'error');
  assert.match(failed.error, /bad\.npz/);
  assert.not.match(failed.error, /\n|\s+at\s/, 'one line, no stack');
  assert.is(failed.shown, failed.error);
  // The element rejects an unknown field in a config it is given, inline too.
  const unknown = await page.evaluate(() => { const e = document.querySelector('eoslab-experiment') as El; e.config = { dataset: 'gmm-64-4-2', arch: 'mlp:8:tanh', loss: 'mse', lr: 0.1, maxSteps: 2, learningRate: 1 }; return { ok: e.start(), error: e.error }; });
  assert.is(unknown.ok, false);
  assert.match(unknown.error, /^config\.learningRate is not a configuration field/);
  // The page is still usable: a valid run after the errors.
  await page.fill('#dataset', CFG.dataset);
  await page.click('#run');
  await waitDone(page);
  const ok = await page.evaluate(() => { const e = document.querySelector('eoslab-experiment') as El; return { status: e.status, error: e.error }; });
  assert.equal(ok, { status: 'finished', error: '' });
  assert.equal(results(await records(page)), results(cli.wasm.rows));
  assert.equal((page as unknown as { errors: string[] }).errors, []);
  await page.close();
});

test.run();
