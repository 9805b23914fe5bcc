// Browser entry of the cross-host smoke test (bundled by
// scripts/build-browser.mjs into build/browser/smoke.js, loaded by
// smoke.html): runs the cross-host problem on navigator.gpu and publishes
// { ok, result | error } as window.__eoslabSmoke and in <pre id="out">.
import { crossHostProblem, type CrossHostResult } from '../../core/ts/smoke/cross-host.js';
import { createBrowserGpu } from './device.js';

export type SmokeOutcome =
  | { ok: true; result: CrossHostResult & { host: 'browser'; adapterInfo: Record<string, string> } }
  | { ok: false; error: string };

declare global {
  interface Window { __eoslabSmoke?: SmokeOutcome }
}

async function run(): Promise<SmokeOutcome> {
  try {
    const { backend, adapterInfo } = await createBrowserGpu();
    try {
      const result = await crossHostProblem(backend);
      return { ok: true, result: { host: 'browser', adapterInfo, ...result } };
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
