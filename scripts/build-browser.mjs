// Bundles the browser smoke page (hosts/browser) into build/browser/ with
// esbuild: smoke.js (one classic script, so the page also works from file://)
// and smoke.html. Usable as a module (buildBrowser()) or a command.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Builds build/browser/{smoke.js,smoke.html}; returns the html path. */
export async function buildBrowser(outDir = join(root, 'build', 'browser')) {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(root, 'hosts/browser/smoke.ts')],
    outfile: join(outDir, 'smoke.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  const html = join(outDir, 'smoke.html');
  copyFileSync(join(root, 'hosts/browser/smoke.html'), html);
  return html;
}

/** Builds build/browser/{datasets.js,datasets.html}: the dataset loaders in a page; returns the html path. */
export async function buildDatasetsPage(outDir = join(root, 'build', 'browser')) {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(root, 'hosts/browser/datasets.ts')],
    outfile: join(outDir, 'datasets.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
  });
  const html = join(outDir, 'datasets.html');
  copyFileSync(join(root, 'hosts/browser/datasets.html'), html);
  return html;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await buildBrowser());
}
