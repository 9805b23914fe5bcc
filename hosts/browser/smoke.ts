// Browser entry of the cross-host smoke test (bundled by
// scripts/build-browser.mjs into build/browser/smoke.js, loaded by
// smoke.html): runs the cross-host problem on navigator.gpu and publishes
// { ok, result | error } as window.__eoslabSmoke and in <pre id="out">.
import { crossHostProblem, type CrossHostResult } from '../../core/ts/smoke/cross-host.js';
import { parseBackendChoice, selectBackend } from '../shared/select-backend.js';
import { createBrowserGpu } from './device.js';
import { createBrowserWasm } from './wasm.js';

export type SmokeOutcome =
  | { ok: true; result: CrossHostResult & { host: 'browser'; backend: string; why: string; adapterInfo: Record<string, string> } }
  | { ok: false; error: string };

declare global {
  interface Window { __eoslabSmoke?: SmokeOutcome }
}

async function run(): Promise<SmokeOutcome> {
  try {
    // smoke.html?backend=wasm|webgpu|auto (default webgpu)
    const choice = parseBackendChoice(new URLSearchParams(location.search).get('backend') ?? 'webgpu');
    const { backend, gpu, why } = await selectBackend(choice, { webgpu: () => createBrowserGpu(), wasm: () => createBrowserWasm() });
    try {
      const result = await crossHostProblem(backend);
      return { ok: true, result: { host: 'browser', backend: backend.kind, why, adapterInfo: gpu?.adapterInfo ?? {}, ...result } };
    } finally {
      backend.destroy();
    }
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) };
  }
}

void run().then((outcome) => {
  window.__eoslabSmoke = outcome;
  const pre = document.getElementById('out');
  if (pre) pre.textContent = JSON.stringify(outcome, null, 1);
});
