// `eoslab plot`: figures of tiny runs made here with the CLI (GD with a
// learning-rate drop, Adam with λ_A, gradient flow, GD at three step sizes
// overlaid) as SVGs holding their series and threshold lines, a
// self-contained report.html that headless Chromium draws offline without
// console errors, and one-line errors naming the file for broken run
// directories.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { parseMetricsCsv } from '../core/ts/plot/metrics.js';
import { figures } from '../core/ts/plot/specs.js';
import { xValues } from '../core/ts/plot/runs.js';
import { readRun, renderSvg } from '../hosts/node/plot-command.js';

const root = mkdtempSync(join(tmpdir(), 'eoslab-plot-'));
const env = { ...process.env, EOSLAB_RESULTS: join(root, 'results') };

function eoslab(...args: string[]) {
  const r = spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', ...args], { encoding: 'utf8', timeout: 120_000, env });
  return { code: r.status, out: r.stdout, err: r.stderr.split('\n').filter((l) => !l.startsWith('Warning: max')).join('\n') };
}

const TINY = ['gmm-64-4-2', 'mlp:8:tanh', 'mse'];
const runs: Record<string, string> = {};
function run(name: string, args: string[]): string {
  if (runs[name]) return runs[name];
  const out = join(root, name);
  const r = eoslab(...args, '--backend', 'wasm', '--threads', '1', '--eig-freq', '2', '--out', out);
  assert.is(r.code, 0, r.err);
  return (runs[name] = out);
}
const gd = () => run('gd', ['train', ...TINY, '0.1', '10', '--neigs', '2', '--lr-drop', '5:0.05']);
const adam = () => run('adam', ['train', ...TINY, '0.05', '10', '--opt', 'adam', '--lambda-a']);
const flow = () => run('flow', ['flow', ...TINY, '0.5', '3']);
const gdAt = (lr: string) => run(`gd-${lr}`, ['train', ...TINY, lr, '10']);

/** Well-formed enough for an SVG viewer: one <svg> root, every element closed in order. */
function assertSvg(svg: string, file: string) {
  assert.ok(svg.startsWith('<svg'), `${file}: root is not <svg>`);
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)(?:\s[^>]*?)?(\/?)>/g)) {
    if (m[3]) continue;
    if (!m[1]) stack.push(m[2]);
    else assert.is(stack.pop(), m[2], `${file}: </${m[2]}> closes another element`);
  }
  assert.equal(stack, [], `${file}: unclosed ${stack.join(', ')}`);
}

const svgOf = (dir: string, name: string) => {
  const file = join(dir, 'figures', `${name}.svg`);
  const svg = readFileSync(file, 'utf8');
  assertSvg(svg, file);
  return svg;
};
/** The threshold is the one dashed line; measured series are solid. */
const dashedPaths = (svg: string) => (svg.match(/<path[^>]*stroke-dasharray="6,4"/g) ?? []).length;

test('GD: loss, accuracy and λ₁, λ₂ against the 2/η threshold, which steps where the learning rate drops', () => {
  const dir = gd();
  const r = eoslab('plot', dir);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, `report: ${join(dir, 'report.html')}`);
  assert.equal(readdirSync(join(dir, 'figures')).sort(), ['accuracy.svg', 'loss.svg', 'sharpness.svg']);
  const loss = svgOf(dir, 'loss');
  assert.match(loss, '>train<');
  assert.match(loss, '>test<');
  assert.match(loss, 'loss (log scale)');
  const sharp = svgOf(dir, 'sharpness');
  for (const s of ['>λ₁<', '>λ₂<', '>2/η<']) assert.match(sharp, s);
  assert.is(dashedPaths(sharp), 2, 'the threshold line and its legend symbol');
  // 2/η: 20 before the drop to η = 0.05 at step 5, 40 from it on; the line is read from the threshold column.
  const spec = figures([readRun(dir)]).find((f) => f.name === 'sharpness')!.spec as unknown as { data: { values: { series: string; x: number; value: number }[] } };
  const thr = spec.data.values.filter((p) => p.series === '2/η');
  assert.equal(thr.map((p) => p.value), [20, 20, 20, 20, 20, 40, 40, 40, 40, 40, 40]);
  assert.match(sharp, '>40<', 'the axis reaches the threshold after the drop');
});

test('--x time: Σ η over the steps before each row (drops included); a flow\'s own time column', () => {
  const g = readRun(gd());
  const t = xValues(g, 'time');
  assert.is(t.length, 11);
  assert.ok(Math.abs(t[10] - (5 * 0.1 + 5 * 0.05)) < 1e-12, `time at step 10 is ${t[10]}`);
  assert.equal(xValues(g, 'step'), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const f = flow();
  const r = eoslab('plot', f, '--x', 'time');
  assert.is(r.code, 0, r.err);
  assert.equal(xValues(readRun(f), 'time'), [0, 0.5, 1, 1.5, 2, 2.5, 3]);
  const sharp = svgOf(f, 'sharpness');
  assert.match(sharp, '>time t<');
  assert.is(dashedPaths(sharp), 0, 'a gradient flow has no threshold');
});

test('Adam with --lambda-a: λ_A against λ_lim = 38/η and the edge ratio; λ₁ is not compared with 38/η', () => {
  const dir = adam();
  const r = eoslab('plot', dir);
  assert.is(r.code, 0, r.err);
  const la = svgOf(dir, 'lambda-a');
  assert.match(la, '>λ_lim = 38/η<');
  assert.match(la, '>λ_A<');
  assert.is(dashedPaths(la), 2);
  // λ_A at step 0 is ~λ₁/ε: off the axis, and said so, rather than flattening the rest.
  assert.match(la, /off the axis: λ_A [\d.]+e\+\d+ at 0/);
  const ratio = svgOf(dir, 'edge-ratio');
  assert.match(ratio, '>λ_A / λ_lim<');
  assert.match(ratio, '>edge (ratio 1)<');
  const sharp = svgOf(dir, 'sharpness');
  assert.not.match(sharp, '38/η');
  assert.is(dashedPaths(sharp), 0);
});

test('several runs overlay: one colour per run named by its η, each run with its own dashed 2/η', () => {
  const dirs = ['0.05', '0.1', '0.2'].map(gdAt);
  const out = join(root, 'overlay');
  const r = eoslab('plot', ...dirs, '--out', out);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, `overlay report: ${join(out, 'report.html')}`);
  for (const d of dirs) assert.ok(existsSync(join(d, 'report.html')), `${d} gets its own report too`);
  const sharp = svgOf(out, 'sharpness');
  for (const s of ['>η=0.05<', '>η=0.1<', '>η=0.2<', '>threshold 2/η<', '>λ₁<']) assert.match(sharp, s);
  assert.is(dashedPaths(sharp), 3 + 1, 'three thresholds and the legend symbol');
  const loss = svgOf(out, 'loss');
  assert.match(loss, '>η=0.2<');
});

test('every figure compiles without a Vega-Lite warning', async () => {
  const warnings: string[] = [];
  const sets = [[gd()], [adam()], [flow()], ['0.05', '0.1', '0.2'].map(gdAt), [gd(), flow(), adam()]];
  for (const set of sets) {
    for (const axis of ['step', 'time'] as const) {
      for (const f of figures(set.map(readRun), axis)) assertSvg(await renderSvg(f, (w) => warnings.push(w)), f.name);
    }
  }
  assert.equal(warnings, []);
});

test('metrics.csv: empty cells are unmeasured, nan/inf kept, a torn last line left out; bad lines named', () => {
  const t = parseMetricsCsv('step,train_loss,lambda_1\n0,0.5,3\n1,nan,\n2,inf,-inf\n3,0.4', 'm.csv');
  assert.equal(t.rows.map((r) => r.step), [0, 1, 2]);
  assert.is(t.rows[1].lambda_1, null);
  assert.ok(Number.isNaN(t.rows[1].train_loss));
  assert.is(t.rows[2].lambda_1, -Infinity);
  assert.throws(() => parseMetricsCsv('step,train_loss\n0,0.5,1\n', 'm.csv'), /^m\.csv line 2: 3 cells where the header has 2/);
  assert.throws(() => parseMetricsCsv('step,train_loss\n0,0x10\n', 'm.csv'), /^m\.csv line 2, column train_loss: '0x10' is not a number/);
  assert.throws(() => parseMetricsCsv('a,b\n1,2\n', 'm.csv'), /^m\.csv: the header lacks step, train_loss/);
  assert.throws(() => parseMetricsCsv('step,train_loss\n', 'm.csv'), /^m\.csv has a header but no rows yet/);
});

test('a missing or broken run directory: one line naming the file, exit 1, nothing written', () => {
  const bad = join(root, 'bad');
  mkdirSync(bad, { recursive: true });
  const cases: [() => void, string, RegExp][] = [
    [() => {}, join(root, 'nope'), /^eoslab: .*nope: no such run directory/],
    [() => {}, bad, /^eoslab: .*bad\/metadata\.json not found: .* not an eoslab run directory/],
    [() => writeFileSync(join(bad, 'metadata.json'), '{"config": '), bad, /^eoslab: .*bad\/metadata\.json is not valid JSON/],
    [() => writeFileSync(join(bad, 'metadata.json'), '{"status": "finished"}'), bad, /^eoslab: .*bad\/metadata\.json: no "config" object/],
    [() => writeFileSync(join(bad, 'metadata.json'), readFileSync(join(gd(), 'metadata.json'))), bad, /^eoslab: .*bad\/metrics\.csv not found/],
    [() => writeFileSync(join(bad, 'metrics.csv'), 'step,train_loss\n0,abc\n'), bad, /^eoslab: .*bad\/metrics\.csv line 2, column train_loss: 'abc' is not a number/],
  ];
  for (const [prepare, dir, re] of cases) {
    prepare();
    const r = eoslab('plot', dir);
    assert.is(r.code, 1, dir);
    assert.is(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, re);
  }
  assert.not.ok(existsSync(join(bad, 'figures')) || existsSync(join(bad, 'report.html')));
});

test('report.html: offline in headless Chromium, every figure drawn by vega-embed, no console errors (screenshot saved)', async () => {
  const dir = adam();
  if (!existsSync(join(dir, 'report.html'))) assert.is(eoslab('plot', dir).code, 0);
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  assert.not.match(html, /<script[^>]+src=/, 'scripts are inlined');
  for (const s of ['stop: max_steps', 'wasm (WebAssembly', 'adam beta1=0.9 beta2=0.999', 'λ_lim = 38/η']) assert.ok(html.includes(s), s);
  const executablePath = process.env.EOSLAB_CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`Chromium not found at ${executablePath}: run \`npm run setup\``);
  const browser = await chromium.launch({ executablePath, timeout: 60_000 });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(String(e)));
    // Self-contained: any request beyond the file itself fails the test.
    const requests: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file://') && url.endsWith('report.html')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    await page.goto(`file://${join(dir, 'report.html')}`);
    const expected = figures([readRun(dir)]).length;
    await page.waitForFunction((n) => document.querySelectorAll('.vega .chart-wrapper svg').length === n, expected, { timeout: 20_000 });
    const titles = await page.evaluate(() => Array.from(document.querySelectorAll('.vega .chart-wrapper svg .role-title-text text')).map((t) => t.textContent));
    assert.equal(titles.length, expected);
    const legend = await page.evaluate(() => Array.from(document.querySelectorAll('.vega .chart-wrapper svg .role-legend-label text')).map((t) => t.textContent));
    assert.ok(legend.includes('λ_lim = 38/η'), legend.join(', '));
    mkdirSync(join('build', 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join('build', 'test-artifacts', 'report.png'), fullPage: true });
    assert.equal(problems, []);
    assert.equal(requests, []);
  } finally {
    await browser.close();
  }
});

test.run();
