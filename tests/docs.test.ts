// The architecture notes live in the repository and stay true to it: every
// file they name exists, every Markdown link resolves inside the repository,
// and the record format they describe is the one the code writes. (Before
// docs/ existed the README pointed readers at a design document outside the
// repository.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, normalize } from 'node:path';
import { metricsColumns } from '../core/ts/run/records.js';

const DOCS = ['README.md', 'docs/README.md', 'docs/architecture.md', 'bench/README.md'];
const read = (f: string) => readFileSync(f, 'utf8');

test('docs/architecture.md exists and README links it', () => {
  assert.ok(existsSync('docs/architecture.md'));
  assert.match(read('README.md'), /\]\(docs\/(README|architecture)\.md\)/);
});

test('Markdown links resolve to files inside the repository', () => {
  const bad: string[] = [];
  for (const doc of DOCS) {
    for (const [, target] of read(doc).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:|#)/.test(target)) continue;
      const path = normalize(join(dirname(doc), target.split('#')[0]));
      if (path.startsWith('..') || !existsSync(path)) bad.push(`${doc}: ${target}`);
    }
  }
  assert.equal(bad, []);
});

test('no document points outside the repository', () => {
  for (const doc of DOCS) {
    assert.not.match(read(doc), /\/work\/|\.\.\/shared\/|DESIGN\.md/, `${doc} names a file outside the repository`);
  }
});

test('no source comment sends readers outside the repository', () => {
  let out = '';
  try {
    out = execFileSync('git', ['grep', '-l', '-E', 'DESIGN\\.md|shared/reference/', '--', 'core', 'hosts', 'bench', 'datasets', 'scripts', 'tests', ':!tests/docs.test.ts'], { encoding: 'utf8' }).trim();
  } catch (e) {
    // git grep exits 1 when nothing matches.
    if ((e as { status?: number }).status !== 1) throw e;
  }
  assert.is(out, '', `files naming the design notes outside the repository (point at docs/architecture.md):\n${out}`);
});

test('every repository path docs/architecture.md names exists', () => {
  const text = read('docs/architecture.md');
  const named = [...text.matchAll(/`((?:core|hosts|tests|bench|datasets|scripts)\/[A-Za-z0-9_./-]+)`/g)].map((m) => m[1].replace(/\/$/, ''));
  assert.ok(named.length > 20, `found ${named.length} paths`);
  assert.equal(named.filter((p) => !existsSync(p)), []);
});

test('the metrics.csv columns it lists are the ones the code writes, in order', () => {
  const text = read('docs/architecture.md');
  const section = text.slice(text.indexOf('**`metrics.csv`**'), text.indexOf('**`checkpoints/'));
  const sentence = section.slice(section.indexOf('Columns:'), section.indexOf('An empty cell'));
  const listed = [...sentence.matchAll(/`([a-z_0-9A-]+)`/g)].map((m) => m[1]).filter((c) => !c.startsWith('--'));
  const k = 2;
  // The doc writes λ columns as `lambda_1` … `lambda_k`.
  const expanded = listed.flatMap((c) => (c === 'lambda_k' ? Array.from({ length: k - 1 }, (_, i) => `lambda_${i + 2}`) : [c]));
  assert.equal(expanded, metricsColumns({ kind: 'flow', neigs: k, lambdaA: true, eigFreq: 1 }));
});

test.run();
