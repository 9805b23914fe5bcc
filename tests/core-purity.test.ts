// core/ is host-agnostic: it never imports fs, process, Deno or DOM globals
// (DESIGN.md). Hosts inject devices and I/O.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

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

test('embedded shaders are up to date with core/shaders/*.wgsl', async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['scripts/embed-shaders.mjs', '--check'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
});

test.run();
