// A run recorded by an earlier eoslab (whose metrics.csv lacks columns added
// since, e.g. the eigen-solver diagnostics) resumes under its own header:
// rows keep its columns in its order, and the values equal a fresh run's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = mkdtempSync(join(tmpdir(), 'eoslab-older-'));
const eoslab = (...args: string[]) => spawnSync(process.execPath, ['hosts/node/bin/eoslab.mjs', ...args], { encoding: 'utf8', env: { ...process.env, EOSLAB_RESULTS: root } });
const base = ['train', 'gmm-64-4-2', 'mlp:8:tanh', 'mse', '0.1'];
const flags = ['--backend', 'wasm', '--eig-freq', '2', '--checkpoint-every', '4'];
const csv = (dir: string) => readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));

test('an older run without the diagnostics columns resumes under its own header', () => {
  const old = join(root, 'old'), fresh = join(root, 'fresh');
  assert.is(eoslab(...base, '4', ...flags, '--out', old).status, 0);
  assert.is(eoslab(...base, '8', ...flags, '--out', fresh).status, 0);
  // Rewrite `old` as an earlier version recorded it: no eig_* columns.
  const drop = new Set(['eig_hvps', 'eig_residual', 'eig_converged']);
  const rows = csv(old), keep = rows[0].map((c, i) => (drop.has(c) ? -1 : i)).filter((i) => i >= 0);
  writeFileSync(join(old, 'metrics.csv'), rows.map((r) => keep.map((i) => r[i]).join(',')).join('\n') + '\n');
  const meta = JSON.parse(readFileSync(join(old, 'metadata.json'), 'utf8'));
  meta.columns = meta.columns.filter((c: string) => !drop.has(c));
  writeFileSync(join(old, 'metadata.json'), JSON.stringify(meta, null, 2));
  const r = eoslab('resume', old, '--max-steps', '8');
  assert.is(r.status, 0, r.stderr);
  const got = csv(old), want = csv(fresh);
  assert.equal(got[0], meta.columns, 'the recorded header is kept');
  assert.is(got.length, want.length);
  const wall = got[0].indexOf('wall_s');
  for (let t = 1; t < got.length; t++) {
    const w = got[0].map((c) => want[t][want[0].indexOf(c)]);
    assert.equal(got[t].filter((_, i) => i !== wall), w.filter((_, i) => i !== wall), `row ${t - 1}`);
  }
});

test.run();
