// Bundles the browser smoke page (hosts/browser) into build/browser/ with
// esbuild: smoke.js (one classic script, so the page also works from file://)
// and smoke.html. Usable as a module (buildBrowser()) or a command.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Bundles hosts/browser/<name>.ts into one classic script beside a copy of <name>.html; returns the html path. */
async function bundlePage(name, outDir, html = true) {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(root, `hosts/browser/${name}.ts`)],
    outfile: join(outDir, `${name}.js`),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'inline',
    logLevel: 'warning',
    // The Wasm core (build/*.wasm, built first by scripts/build-wasm.sh) rides inside the script.
    loader: { '.wasm': 'binary' },
  });
  if (!html) return join(outDir, `${name}.js`);
  const page = join(outDir, `${name}.html`);
  copyFileSync(join(root, `hosts/browser/${name}.html`), page);
  return page;
}

/** Builds build/browser/{smoke.js,smoke.html,wasm-worker.js}; returns the html path. */
export async function buildBrowser(outDir = join(root, 'build', 'browser')) {
  await bundlePage('wasm-worker', outDir, false);
  return bundlePage('smoke', outDir);
}

/** Builds build/browser/{datasets.js,datasets.html}: the dataset loaders in a page; returns the html path. */
export const buildDatasetsPage = (outDir = join(root, 'build', 'browser')) => bundlePage('datasets', outDir);

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await buildBrowser());
}
