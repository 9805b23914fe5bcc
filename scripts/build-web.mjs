// `npm run build:web`: bundles the static site into build/web/ with esbuild:
// index.html (page.js: presets and the form), embed.html (a blog post with
// two experiments), eoslab.js (the <eoslab-experiment> element, an ES
// module), eoslab-worker.js (the engine in a module worker, the Wasm core
// inside it) and wasm-worker.js (the Wasm core's thread workers, classic
// scripts as hosts/browser/wasm.ts starts them). Nothing is fetched at run
// time, so the folder works offline. Usable as a module (buildWeb()) or a command.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const WASM = ['eoslab.wasm', 'eoslab-simd.wasm', 'eoslab-scalar.wasm', 'eoslab-relaxed.wasm'];

/** Builds the site into outDir (default build/web); returns outDir. */
export async function buildWeb(outDir = join(root, 'build', 'web')) {
  const missing = WASM.filter((f) => !existsSync(join(root, 'build', f)));
  if (missing.length) throw new Error(`build/${missing[0]} is missing: run \`npm run build\` (or \`npm install\`) first, it compiles the Wasm core`);
  mkdirSync(outDir, { recursive: true });
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  const common = {
    bundle: true, platform: 'browser', target: 'es2022', logLevel: 'warning', sourcemap: 'linked',
    loader: { '.wasm': 'binary' }, define: { __EOSLAB_VERSION__: JSON.stringify(version) },
  };
  await Promise.all([
    build({ ...common, format: 'esm', entryPoints: { eoslab: join(root, 'hosts/browser/eoslab.ts'), page: join(root, 'hosts/browser/page/main.ts'), 'eoslab-worker': join(root, 'hosts/browser/page/run-worker.ts') }, outdir: outDir }),
    build({ ...common, format: 'iife', entryPoints: { 'wasm-worker': join(root, 'hosts/browser/wasm-worker.ts') }, outdir: outDir }),
  ]);
  for (const f of ['index.html', 'embed.html']) copyFileSync(join(root, 'hosts/browser', f), join(outDir, f));
  return outDir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    console.log(`built ${await buildWeb()} (serve it with \`npm run serve\`)`);
  } catch (e) {
    console.error(`build:web: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
    process.exit(1);
  }
}
