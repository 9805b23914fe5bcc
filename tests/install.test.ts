// Reproducible installs: the committed lockfile must be one that `npm ci`
// accepts on every platform, and CI must install with `npm ci`. Checked
// offline, from the files alone (no registry, no install).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { lockfileVersion: number; packages: Record<string, LockEntry> };

/** Where Node (and npm) would find `name` from the package at `from`: its own node_modules, then each ancestor's. */
function resolve(from: string, name: string): string | null {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? dir + '/' : ''}node_modules/${name}`;
    if (candidate in lock.packages) return candidate;
    if (!dir) return null;
    const up = dir.lastIndexOf('/node_modules/');
    dir = up < 0 ? '' : dir.slice(0, up);
  }
}

test('the lockfile root declares exactly package.json\'s dependencies (npm ci refuses a mismatch)', () => {
  const root = lock.packages[''];
  assert.ok(lock.lockfileVersion >= 2, 'lockfileVersion 2 or 3 (the packages map)');
  assert.equal(root.dependencies ?? {}, pkg.dependencies ?? {});
  assert.equal(root.devDependencies ?? {}, pkg.devDependencies ?? {});
});

// The bug this guards against: the lockfile was written by `npm install` on
// one platform with deno's darwin/win32 binaries left out, so `npm ci` failed
// on a clean clone with "Missing: @deno/darwin-arm64@2.9.6 from lock file",
// and `npm install` rewrote the tracked file (+68 lines).
test('every dependency of every locked package, optional platform binaries included, is locked', () => {
  const missing: string[] = [];
  for (const [at, entry] of Object.entries(lock.packages)) {
    if (at.startsWith('node_modules/') || at === '') {
      const wanted = { ...entry.dependencies, ...entry.optionalDependencies, ...(at === '' ? entry.devDependencies : {}) };
      for (const name of Object.keys(wanted)) if (!resolve(at, name)) missing.push(`${name} (needed by ${at || 'the root'})`);
      // A required peer must be locked too; an optional one may be absent.
      for (const name of Object.keys(entry.peerDependencies ?? {})) {
        if (!entry.peerDependenciesMeta?.[name]?.optional && !resolve(at, name)) missing.push(`${name} (peer of ${at})`);
      }
    }
  }
  assert.equal(missing, [], `missing from package-lock.json: ${missing.join(', ')}: run npm install and commit package-lock.json`);
});

test('deno\'s platform binaries are all locked (its optional dependencies)', () => {
  const deno = lock.packages['node_modules/deno'];
  assert.ok(deno, 'deno is a devDependency, so it is locked');
  const platforms = Object.keys(deno.optionalDependencies ?? {});
  assert.ok(platforms.length >= 6, `deno lists its platform packages (${platforms.join(', ')})`);
  for (const p of platforms) assert.ok(`node_modules/${p}` in lock.packages, `${p} locked`);
});

// The old .ci/run ran `npm install`, which rewrites an out-of-date lockfile
// instead of failing on it.
test('.ci/run installs with npm ci, never npm install', () => {
  const lines = readFileSync('.ci/run', 'utf8').split('\n').filter((l) => !l.trim().startsWith('#'));
  assert.ok(lines.some((l) => /^\s*npm ci\b/.test(l)), '.ci/run runs npm ci');
  assert.not.ok(lines.some((l) => /\bnpm (install|i)\b/.test(l)), '.ci/run does not run npm install');
});

test.run();
