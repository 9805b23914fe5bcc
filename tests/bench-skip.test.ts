// The benches never lose figures: with no usable Vulkan driver (here an ICD
// path that does not exist, as on a clone where none is set up) the WebGPU
// half is skipped in one line and the JSON still holds the CPU figures
// measured before it. Tiny problems (N = 64 / 8) so each run takes seconds.
//
// Fails on the code before this fix: `npm run bench` died at the WebGPU half
// with a stack trace (exit 1) and wrote no JSON; bench:cnn printed a stack and
// recorded no reason for the missing WebGPU figures.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'eoslab-bench-'));
const NO_DRIVER = { ...process.env, VK_ICD_FILENAMES: join(dir, 'no-such-icd.json'), VK_DRIVER_FILES: '' };

function bench(script: string, args: string[], env: NodeJS.ProcessEnv = NO_DRIVER) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', timeout: 180_000, env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const stackLines = (s: string) => s.split('\n').filter((l) => /^\s+at \S+ \(|^\s+at file:|^Node\.js v/.test(l));

test('npm run bench: no adapter → CPU figures kept, WebGPU half skipped in one line', () => {
  const json = join(dir, 'bench.json');
  const r = bench('bench/run.ts', ['--n', '64', '--reps', '1', '--skip-tfjs', '--skip-numpy', '--skip-matmul', '--threads', '1', '--json', json]);
  assert.is(r.code, 0, r.err);
  assert.equal(stackLines(r.err + r.out), [], 'no stack trace');
  const skips = r.err.split('\n').filter((l) => l.startsWith('WebGPU half skipped: '));
  assert.is(skips.length, 1, r.err);
  assert.match(skips[0], /no WebGPU adapter/);
  const report = JSON.parse(readFileSync(json, 'utf8'));
  assert.type(report.wasm_grad_ms, 'number', 'the CPU half measured before the WebGPU half is in the JSON');
  assert.type(report.wasm_hvp_ms, 'number');
  assert.match(report.webgpu.skipped, /no WebGPU adapter/);
  assert.is(report.grad_ms, undefined, 'no WebGPU figure invented');
  assert.ok(!existsSync(`${json}.tmp`), 'no temporary file left behind');
});

test('bench:cnn: no adapter → Wasm figures kept, WebGPU half skipped in one line', () => {
  const json = join(dir, 'cnn.json');
  const r = bench('bench/cnn.ts', ['--n', '8', '--physical-batch', '4', '--small-n', '4', '--reps', '1', '--threads', '1', '--skip-tfjs', '--skip-torch', '--json', json]);
  assert.is(r.code, 0, r.err);
  assert.equal(stackLines(r.err + r.out), [], 'no stack trace');
  assert.is(r.err.split('\n').filter((l) => l.startsWith('WebGPU half skipped: ')).length, 1, r.err);
  const report = JSON.parse(readFileSync(json, 'utf8'));
  assert.type(report.cnn_wasm_grad_ms, 'number');
  assert.type(report.cnn_conv_gflops, 'number');
  assert.match(report.cnn_webgpu.skipped, /no WebGPU adapter/);
  assert.is(report.cnn_webgpu_grad_ms, null);
});

// A failure nothing anticipated (here a throw after a figure was recorded)
// still leaves the figures on disk and says what happened in one line.
test('an uncaught failure mid-bench: the JSON keeps what was measured, one line, exit 1', () => {
  const json = join(dir, 'crash.json');
  const script = join(dir, 'crash.mts');
  writeFileSync(script, [
    `import { JsonReport } from ${JSON.stringify(resolve('bench/common.ts'))};`,
    `const r = new JsonReport(${JSON.stringify(json)});`,
    `r.saveOnCrash((s) => console.error(s));`,
    `r.data.grad_ms = 12.5;`,
    `r.save();`,
    `r.data.hvp_ms = 30;`,
    `await new Promise((ok) => setTimeout(ok, 5));`,
    `throw new Error('device lost\\nsecond line');`,
  ].join('\n'));
  const r = bench(script, [], process.env);
  assert.is(r.code, 1);
  assert.equal(stackLines(r.err), []);
  assert.equal(r.err.trim().split('\n'), [`bench: device lost; figures measured so far are in ${json}`]);
  assert.equal(JSON.parse(readFileSync(json, 'utf8')), { grad_ms: 12.5, hvp_ms: 30 });
});

test.run();
