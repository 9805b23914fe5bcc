// The dataset loaders in headless Chromium: MNIST IDX files (gzipped, as
// distributed) picked through <input type=file>, and the same files fetched
// from URLs on a loopback server, give the dataset Node loads from disk.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'fflate';
import { idxFile } from './helpers/idx.js';
import { chromium } from 'playwright-core';
import { buildDatasetsPage } from '../scripts/build-browser.mjs';
import { loadDatasetFrom } from '../datasets/registry.js';
import { memoryFiles } from '../datasets/sources.js';
import { checksum } from '../hosts/browser/datasets.js';

const TRAIN = 50, TEST = 10;
const NAMES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

const idx = (magic: number, dims: number[], data: Uint8Array) => gzipSync(idxFile(magic, dims, data));

function mnistFiles(): Record<string, Uint8Array> {
  const images = (n: number, salt: number) => Uint8Array.from({ length: n * 784 }, (_, i) => (i * 7 + salt * 13 + (i >> 5)) % 256);
  const labels = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 10);
  return {
    [NAMES[0]]: idx(0x803, [TRAIN, 28, 28], images(TRAIN, 1)), [NAMES[1]]: idx(0x801, [TRAIN], labels(TRAIN)),
    [NAMES[2]]: idx(0x803, [TEST, 28, 28], images(TEST, 2)), [NAMES[3]]: idx(0x801, [TEST], labels(TEST)),
  };
}

function serve(roots: Record<string, string>): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const [prefix, ...rest] = (req.url ?? '/').slice(1).split('/');
    const file = roots[prefix] ? join(roots[prefix], ...rest) : '';
    if (!file || !existsSync(file)) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': file.endsWith('.html') ? 'text/html' : file.endsWith('.js') ? 'text/javascript' : 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const a = server.address() as { port: number };
    resolve({ server, base: `http://127.0.0.1:${a.port}` });
  }));
}

test('MNIST from picked files and from URLs, in Chromium, equals the Node load', async () => {
  const files = mnistFiles();
  const dir = mkdtempSync(join(tmpdir(), 'eoslab-idx-'));
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  const node = await loadDatasetFrom('mnist', { files: memoryFiles(Object.fromEntries(Object.entries(files).map(([n, b]) => [`mnist/${n}`, b]))) });
  const html = await buildDatasetsPage();
  const { server, base } = await serve({ page: dirname(html), data: dir });
  const executablePath = process.env.EOSLAB_CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`Chromium not found at ${executablePath}: run \`npm run setup\``);
  const browser = await chromium.launch({ executablePath, timeout: 60_000 });
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/page/datasets.html`);
    await page.setInputFiles('#files', NAMES.map((n) => join(dir, n)));
    const picked = await page.evaluate(() => (window as unknown as { __eoslabDatasets: { fromInput(id: string, f: string): Promise<unknown> } }).__eoslabDatasets.fromInput('mnist', 'mnist')) as Record<string, unknown>;
    const urls = Object.fromEntries(NAMES.map((n) => [`mnist/${n}`, `${base}/data/${n}`]));
    const fetched = await page.evaluate((u) => (window as unknown as { __eoslabDatasets: { fromUrls(id: string, u: Record<string, string>): Promise<unknown> } }).__eoslabDatasets.fromUrls('mnist', u), urls) as Record<string, unknown>;
    for (const s of [picked, fetched]) {
      assert.is(s.trainN, TRAIN);
      assert.is(s.testN, TEST);
      assert.is(s.d, 784);
      assert.is(s.c, 10);
      assert.equal(s.classCounts, Array(10).fill(TRAIN / 10));
      // Same code on the same bytes in the same JS engine: identical to the last bit.
      assert.is(s.checksum, checksum(node.train.X), 'same standardised inputs as Node');
      assert.ok(Math.abs(s.mean as number) < 1e-6, 'standardised');
    }
  } finally {
    await browser.close();
    server.close();
  }
});

test.run();
