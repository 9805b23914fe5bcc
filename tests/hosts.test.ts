// The same engine on three hosts: Node (Dawn via the `webgpu` package,
// in-process), Deno (wgpu/naga, child process running hosts/deno/smoke.ts)
// and headless Chromium (Dawn/Tint on SwiftShader, page bundled from
// hosts/browser by scripts/build-browser.mjs), each running
// core/ts/smoke/cross-host.ts. They must agree:
//  - θ bit for bit: it comes from the host-side Philox init in float64,
//    rounded to f32 once, and V8's arithmetic is the same on every host;
//  - device RNG draws to 1e-6 relative, on every pair of hosts and drivers:
//    Philox bits are exact integer math, and Box-Muller's log and cos are
//    the kernel's own polynomials (drivers' builtins differ: SwiftShader's
//    cos is ~1.9e-4 off, within WGSL's 2^-11 allowance), leaving f32
//    rounding and sqrt;
//  - loss to 1e-6, gradient and HVP to 1e-5 relative (‖a−b‖∞/‖b‖∞): the same
//    f32 kernels in the same summation order, but different shader compilers
//    (Tint, naga) and drivers (lavapipe, SwiftShader) may contract a·b+c into
//    an FMA or not, and differ by ulps in exp/tanh/log, so results can differ
//    in the last bits. Measured differences are printed at the end.
// Each host's result is also checked against the float64 reference, so the
// hosts cannot agree on something wrong.
//
// Every host runs it twice: on its WebGPU backend and on the Wasm core
// (issue 5: "the Wasm backend runs in Deno and in the browser page too"),
// with worker threads (Node worker_threads, Deno Workers, and in Chromium
// Web Workers on a cross-origin-isolated page served from loopback). The
// same tolerances hold across all six runs; the exact-integer matmul, big
// enough to be split over the threads, must come back exact everywhere.
//
// Deno and Chromium are required: when either is missing the suite fails
// with install instructions (`npm install` for Deno, `npm run setup` for
// Chromium) rather than skipping.
import { denoBinary } from './helpers/deno.js';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normals } from '../core/ts/rng/philox.js';
import { initParams } from '../core/ts/nn/init.js';
import { mlpModel } from '../core/ts/nn/mlp.js';
import { CROSS_HOST_SPEC, crossHostData, crossHostProblem, type CrossHostResult } from '../core/ts/smoke/cross-host.js';
import type { SmokeOutcome } from '../hosts/browser/smoke.js';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { crossHostMatmulExpected, crossHostCnnData, crossHostCnnModel } from '../core/ts/smoke/cross-host.js';
import * as layers64 from './reference/layers64.js';
import { toModel64 } from './helpers/model64.js';
import type { Backend } from '../core/ts/backend/types.js';
import { createNodeGpu } from '../hosts/node/device.js';
import { createNodeWasm } from '../hosts/node/wasm.js';
import { configureVulkanEnv, lavapipeLdLibraryPath } from '../hosts/node/vulkan-env.js';
import { buildBrowser } from '../scripts/build-browser.mjs';
import * as ref from './reference/mlp64.js';
import { relErr } from './helpers/gpu.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HOST_TIMEOUT_MS = 60_000;
const TOL = { rng: 1e-6, loss: 1e-6, grad: 1e-5, hvp: 1e-5 };
const REF_TOL = 2e-5; // as in tests/passes.test.ts
const CHROMIUM_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

type Platform = 'node' | 'deno' | 'chromium';
type BackendKind = 'webgpu' | 'wasm';
type Host = `${Platform}/${BackendKind}`;
const PLATFORMS: Platform[] = ['node', 'deno', 'chromium'];
const HOSTS: Host[] = PLATFORMS.flatMap((p) => [`${p}/webgpu`, `${p}/wasm`] as Host[]);
const results: Partial<Record<Host, CrossHostResult>> = {};
const timings: Partial<Record<Host, number>> = {};
const worst: Record<string, number> = {};

// ---- hosts -------------------------------------------------------------------

/** The environment the Node host configured (Vulkan ICD, XDG_RUNTIME_DIR), for Deno. */
function childEnv(): NodeJS.ProcessEnv {
  const driver = configureVulkanEnv(); // idempotent: keeps what createNodeGpu chose
  const env: NodeJS.ProcessEnv = { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
  // lavapipe may need its private libdrm (see hosts/node/reexec.ts); a child can get it at exec.
  const ld = driver.kind === 'lavapipe' ? lavapipeLdLibraryPath() : '';
  if (ld && !(env.LD_LIBRARY_PATH ?? '').split(':').includes(ld.split(':')[0])) {
    env.LD_LIBRARY_PATH = [ld, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  }
  return env;
}

function parseResult(host: string, text: string): CrossHostResult {
  const r = JSON.parse(text) as CrossHostResult;
  for (const k of ['theta', 'grad', 'hvp', 'rng', 'matmul'] as const) {
    assert.ok(Array.isArray(r[k]) && r[k].every(Number.isFinite), `${host}: ${k} missing or not finite`);
  }
  assert.ok(Number.isFinite(r.loss), `${host}: loss ${r.loss}`);
  assert.ok(r.cnn && Number.isFinite(r.cnn.loss) && r.cnn.grad.every(Number.isFinite) && r.cnn.hvp.every(Number.isFinite), `${host}: cnn result missing or not finite`);
  return r;
}

async function runNode(kind: BackendKind): Promise<CrossHostResult> {
  const backend: Backend = kind === 'webgpu' ? (await createNodeGpu()).backend : await createNodeWasm({ threads: 2 });
  try {
    return await crossHostProblem(backend);
  } finally {
    backend.destroy();
  }
}

async function runDeno(kind: BackendKind): Promise<CrossHostResult> {
  const DENO_ARGS = ['run', '--allow-read', 'hosts/deno/smoke.ts', '--backend', kind];
  const bin = denoBinary();
  const child = spawn(bin, DENO_ARGS, { cwd: ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  let timer: NodeJS.Timeout | undefined;
  try {
    const code = await new Promise<number | string>((res, rej) => {
      child.on('error', rej);
      child.on('close', (c, sig) => res(c ?? String(sig)));
      timer = setTimeout(() => { child.kill('SIGKILL'); rej(new Error(`deno timed out after ${HOST_TIMEOUT_MS} ms\n${stderr}`)); }, HOST_TIMEOUT_MS);
    });
    if (code !== 0) throw new Error(`\`${bin} ${DENO_ARGS.join(' ')}\` exited with ${code}:\n${stderr || stdout}`);
    const line = stdout.trim().split('\n').pop() ?? '';
    try {
      return parseResult(`deno/${kind}`, line);
    } catch (e) {
      throw new Error(`deno printed no result (${(e as Error).message}):\n${stdout}\n${stderr}`);
    }
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Serves build/browser on loopback with the headers that make the page cross-origin isolated (SharedArrayBuffer). */
async function servePages(dir: string): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const name = new URL(req.url ?? '/', 'http://x').pathname.slice(1);
    if (!/^[\w.-]+$/.test(name) || !existsSync(join(dir, name))) { res.writeHead(404).end(); return; }
    res.writeHead(200, {
      'content-type': name.endsWith('.html') ? 'text/html' : 'text/javascript',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    });
    res.end(readFileSync(join(dir, name)));
  });
  return new Promise((res) => server.listen(0, '127.0.0.1', () => {
    const a = server.address() as { port: number };
    res({ server, base: `http://127.0.0.1:${a.port}/` });
  }));
}

async function runChromium(kind: BackendKind): Promise<CrossHostResult> {
  const executablePath = process.env.EOSLAB_CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}: run \`npm run setup\` (installs Debian's chromium), or set EOSLAB_CHROMIUM to a Chromium binary`);
  }
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    throw new Error(`cannot load playwright-core (${(e as Error).message.split('\n')[0]}): run \`npm install\``);
  }
  const html = await buildBrowser();
  configureVulkanEnv(); // XDG_RUNTIME_DIR for SwiftShader; the browser inherits process.env
  // Playwright adds --headless, --no-sandbox, a fresh --user-data-dir (removed on close) and
  // --disable-background-networking/--disable-component-update/--disable-sync/--no-first-run.
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: HOST_TIMEOUT_MS });
  const { server, base } = await servePages(dirname(html));
  try {
    const page = await browser.newPage();
    const log: string[] = [];
    page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
    await page.goto(`${base}smoke.html?backend=${kind}`);
    try {
      await page.waitForFunction(() => window.__eoslabSmoke !== undefined, null, { timeout: HOST_TIMEOUT_MS });
    } catch (e) {
      throw new Error(`the smoke page did not finish (${(e as Error).message.split('\n')[0]}); console:\n${log.join('\n')}`);
    }
    const outcome: SmokeOutcome = await page.evaluate(() => window.__eoslabSmoke!);
    if (!outcome.ok) throw new Error(`the smoke page failed in Chromium: ${outcome.error}\nconsole:\n${log.join('\n')}`);
    return parseResult(`chromium/${kind}`, JSON.stringify(outcome.result));
  } finally {
    server.close();
    await browser.close();
  }
}

const RUN: Record<Platform, (kind: BackendKind) => Promise<CrossHostResult>> = { node: runNode, deno: runDeno, chromium: runChromium };

for (const host of HOSTS) {
  test(`${host}: runs the cross-host problem`, async () => {
    const t0 = performance.now();
    const [platform, kind] = host.split('/') as [Platform, BackendKind];
    results[host] = await RUN[platform](kind);
    if (kind === 'wasm') {
      // Two cores here: the Wasm core must have used its worker threads on every host.
      assert.match(results[host]!.description, /WebAssembly \(f32x4 (relaxed )?SIMD, [2-9]\d* threads\)/, `${host}: ${results[host]!.description}`);
    }
    timings[host] = performance.now() - t0;
  });
}

// ---- agreement ---------------------------------------------------------------------

function all(): Record<Host, CrossHostResult> {
  const missing = HOSTS.filter((h) => !results[h]);
  if (missing.length) assert.unreachable(`no result from ${missing.join(', ')} (see the failure above)`);
  return results as Record<Host, CrossHostResult>;
}

const PAIRS: [Host, Host][] = HOSTS.flatMap((a, i) => HOSTS.slice(i + 1).map((b) => [a, b] as [Host, Host]));

function record(what: string, e: number): number {
  worst[what] = Math.max(worst[what] ?? 0, e);
  return e;
}

test('θ is bit-identical on every host (host-side init)', () => {
  const r = all();
  const expected = Array.from(initParams(mlpModel(CROSS_HOST_SPEC), { seed: 1234 }));
  for (const h of HOSTS) {
    assert.is(r[h].theta.length, expected.length, `${h}: θ length`);
    const bad = r[h].theta.findIndex((x, i) => !Object.is(x, expected[i]));
    assert.is(bad, -1, `${h}: θ[${bad}] = ${r[h].theta[bad]} vs ${expected[bad]}`);
  }
});

test(`device RNG draws agree to ${TOL.rng} across hosts and drivers`, () => {
  const r = all();
  for (const [a, b] of PAIRS) {
    const e = record(`rng ${a}↔${b}`, relErr(r[a].rng, r[b].rng));
    assert.ok(e <= TOL.rng, `rng ${a} vs ${b}: rel err ${e} > ${TOL.rng}`);
  }
  // And they are the Philox/Box-Muller draws the host computes in float64.
  const host = normals(5, 0, 0, 16);
  for (const h of HOSTS) {
    const e = record(`rng ${h}↔f64`, relErr(r[h].rng, host));
    assert.ok(e <= TOL.rng, `rng ${h} vs float64 host draws: rel err ${e}`);
  }
});

test(`loss agrees to ${TOL.loss}, grad and hvp to ${TOL.grad}`, () => {
  const r = all();
  for (const [a, b] of PAIRS) {
    const el = record(`loss ${a}↔${b}`, Math.abs(r[a].loss - r[b].loss) / Math.abs(r[b].loss));
    assert.ok(el <= TOL.loss, `loss ${a} ${r[a].loss} vs ${b} ${r[b].loss}: rel err ${el}`);
    const eg = record(`grad ${a}↔${b}`, relErr(r[a].grad, r[b].grad));
    assert.ok(eg <= TOL.grad, `grad ${a} vs ${b}: rel err ${eg}`);
    const eh = record(`hvp ${a}↔${b}`, relErr(r[a].hvp, r[b].hvp));
    assert.ok(eh <= TOL.hvp, `hvp ${a} vs ${b}: rel err ${eh}`);
  }
});

test(`the CNN's loss agrees to ${TOL.loss}, grad and hvp to ${TOL.grad}, on every host and backend, and with float64`, () => {
  const r = all();
  for (const [a, b] of PAIRS) {
    const el = record(`cnn loss ${a}↔${b}`, Math.abs(r[a].cnn.loss - r[b].cnn.loss) / Math.abs(r[b].cnn.loss));
    assert.ok(el <= TOL.loss, `cnn loss ${a} ${r[a].cnn.loss} vs ${b} ${r[b].cnn.loss}: rel err ${el}`);
    const eg = record(`cnn grad ${a}↔${b}`, relErr(r[a].cnn.grad, r[b].cnn.grad));
    assert.ok(eg <= TOL.grad, `cnn grad ${a} vs ${b}: rel err ${eg}`);
    const eh = record(`cnn hvp ${a}↔${b}`, relErr(r[a].cnn.hvp, r[b].cnn.hvp));
    assert.ok(eh <= TOL.hvp, `cnn hvp ${a} vs ${b}: rel err ${eh}`);
  }
  const model = crossHostCnnModel();
  const { X, Y, N } = crossHostCnnData();
  const args = [toModel64(model), Float64Array.from(initParams(model, { seed: 1234 })), Float64Array.from(X), Float64Array.from(Y), N, 'mse'] as const;
  const grad = layers64.grad64(...args), hvp = layers64.hvp64(...args, Float64Array.from(initParams(model, { seed: 99 })));
  for (const h of HOSTS) {
    const eg = record(`cnn grad ${h}↔f64`, relErr(r[h].cnn.grad, grad));
    assert.ok(eg <= REF_TOL, `${h}: cnn grad rel err ${eg} vs float64`);
    const eh = record(`cnn hvp ${h}↔f64`, relErr(r[h].cnn.hvp, hvp));
    assert.ok(eh <= REF_TOL, `${h}: cnn hvp rel err ${eh} vs float64`);
  }
});

test('the threaded exact-integer matmul is exact on every host and backend', () => {
  const r = all();
  const want = crossHostMatmulExpected();
  for (const h of HOSTS) assert.equal(r[h].matmul, want, `${h}: matmul`);
});

test(`every host matches the float64 reference to ${REF_TOL}`, () => {
  const r = all();
  const { X, Y, N } = crossHostData();
  const m64: ref.Mlp64 = { sizes: CROSS_HOST_SPEC.sizes, act: 'tanh', bias: true };
  const theta = Float64Array.from(r['node/webgpu'].theta);
  const v = Float64Array.from(initParams(mlpModel(CROSS_HOST_SPEC), { seed: 99 }));
  const args = [m64, theta, Float64Array.from(X), Float64Array.from(Y), N, 'ce'] as const;
  const loss = ref.lossAcc64(...args).loss, grad = ref.grad64(...args), hvp = ref.hvp64(...args, v);
  for (const h of HOSTS) {
    const el = record(`loss ${h}↔f64`, Math.abs(r[h].loss - loss) / Math.abs(loss));
    assert.ok(el <= REF_TOL, `${h}: loss ${r[h].loss} vs float64 ${loss}`);
    const eg = record(`grad ${h}↔f64`, relErr(r[h].grad, grad));
    assert.ok(eg <= REF_TOL, `${h}: grad rel err ${eg} vs float64`);
    const eh = record(`hvp ${h}↔f64`, relErr(r[h].hvp, hvp));
    assert.ok(eh <= REF_TOL, `${h}: hvp rel err ${eh} vs float64`);
  }
});

test.after(() => {
  const desc = HOSTS.filter((h) => results[h]).map((h) => `  ${h}: ${results[h]!.description} (${timings[h]?.toFixed(0) ?? "?"} ms)`);
  if (desc.length) console.log(`\nhosts:\n${desc.join('\n')}`);
  const w = Object.entries(worst).map(([k, e]) => `  ${k}: ${e.toExponential(2)}`);
  if (w.length) console.log(`max relative differences:\n${w.join('\n')}`);
});

test.run();
