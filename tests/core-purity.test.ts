// core/ is host-agnostic: it never imports fs, process, Deno or DOM globals
// (docs/architecture.md). Hosts inject devices and I/O.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|js|mjs)$/.test(p) ? [p] : [];
  });
}

const FORBIDDEN = [
  /from\s+['"](node:[^'"]+|fs|fs\/promises|path|os|child_process|process|worker_threads)['"]/,
  /\brequire\(/,
  /\bprocess\./,
  /\bDeno\./,
  /\b(document|window|localStorage)\./,
];

test('nothing under core/ touches a host', () => {
  const bad: string[] = [];
  for (const f of files('core').filter((f) => !f.startsWith(join('core', 'wasm')))) {
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '');
      if (FORBIDDEN.some((re) => re.test(code))) bad.push(`${f}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.equal(bad, [], `host access in core/:\n${bad.join('\n')}`);
});

test('the checker itself catches a forbidden import', () => {
  assert.ok(FORBIDDEN.some((re) => re.test("import { readFileSync } from 'node:fs';")));
  assert.ok(FORBIDDEN.some((re) => re.test('const x = Deno.env.get("A");')));
});

// The engine's layers, bottom up (docs/architecture.md): an import may point down or
// sideways, never up. io/ reads models (state dicts), so it sits above nn/.
// plot/ (Vega-Lite specs from run records) sits on the run layer: it reads records, never runs anything.
const RANK: Record<string, number> = { rng: 0, backend: 1, nn: 2, io: 3, objective: 3, optim: 4, measure: 4, run: 5, plot: 6, smoke: 6 };

/** Every relative import of every file under core/ts, resolved to core/ts/<folder>/…. */
function engineImports(): { from: string; to: string; line: string }[] {
  const out: { from: string; to: string; line: string }[] = [];
  for (const f of files(join('core', 'ts'))) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const m = /from\s+['"](\.[^'"]+)['"]/.exec(line);
      if (m) out.push({ from: f, to: join(dirname(f), m[1]), line: line.trim() });
    }
  }
  return out;
}

const folderOf = (p: string) => p.split(sep)[2];

test('imports point down the layers: backend ← nn ← objective ← optim/measure ← run', () => {
  const bad = engineImports().filter(({ from, to }) => {
    const a = folderOf(from), b = folderOf(to);
    return a in RANK && b in RANK && RANK[b] > RANK[a];
  }).map((i) => `${i.from}: ${i.line}`);
  assert.equal(bad, [], `imports pointing up the layers:\n${bad.join('\n')}`);
});

test('the op set knows no model; measures see operators; the run loop names no MLP type', () => {
  const imports = engineImports();
  const bad: string[] = [];
  for (const { from, to, line } of imports) {
    const a = folderOf(from), b = folderOf(to);
    if (a === 'backend' && ['nn', 'objective', 'optim', 'measure', 'run'].includes(b)) bad.push(`${from}: ${line}`);
    // A measure may know the Objective interface (objective/types), never a concrete objective class.
    if (a === 'measure' && b === 'objective' && !to.endsWith(join('objective', 'types.js'))) bad.push(`${from}: ${line}`);
    // Objectives walk any layer list: no MLP-specific module.
    if (a === 'objective' && to.endsWith(join('nn', 'mlp.js'))) bad.push(`${from}: ${line}`);
  }
  for (const f of files(join('core', 'ts', 'run'))) {
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      if (/\bMlp[A-Z]\w*|nn\/mlp\.js/.test(line.replace(/\/\/.*$/, ''))) bad.push(`${f}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.equal(bad, [], bad.join('\n'));
});

test('eoslab demo goes through the run loop, with no private measurement', () => {
  const demo = readFileSync(join('hosts', 'node', 'demo.ts'), 'utf8');
  assert.match(demo, /runExperiment/);
  assert.not.match(demo, /measure\/|topEigenPower|powerIteration|\.encodeGrad\(/);
});

test('the layer checker catches an upward import', () => {
  const f = join('core', 'ts', 'backend', 'x.ts'), t = join('core', 'ts', 'nn', 'model.js');
  assert.ok(RANK[folderOf(t)] > RANK[folderOf(f)]);
});

test('embedded shaders are up to date with core/shaders/*.wgsl', async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['scripts/embed-shaders.mjs', '--check'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
});

test.run();
