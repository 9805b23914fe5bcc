// Runs the cross-host problem on Deno and prints it as one JSON line
// (tests/hosts.test.ts compares it with Node and Chromium):
//   deno run --allow-read hosts/deno/smoke.ts [--backend webgpu|wasm|auto]
// (deno.json lets the codebase's NodeNext-style ".js" specifiers resolve to the
// ".ts" files, as --sloppy-imports does; WebGPU needs no flag, the Wasm core
// needs read access to build/.)
import { crossHostProblem } from '../../core/ts/smoke/cross-host.js';
import { parseBackendChoice, selectBackend } from '../shared/select-backend.js';
import { createDenoGpu } from './device.js';
import { createDenoWasm } from './wasm.js';

declare const Deno: { args: string[] };

const i = Deno.args.indexOf('--backend');
const choice = parseBackendChoice(i >= 0 ? Deno.args[i + 1] ?? '' : 'webgpu');
const { backend, gpu, why } = await selectBackend(choice, { webgpu: () => createDenoGpu(), wasm: () => createDenoWasm() });
try {
  const result = await crossHostProblem(backend);
  console.log(JSON.stringify({ host: 'deno', backend: backend.kind, why, adapterInfo: gpu?.adapterInfo ?? {}, ...result }));
} finally {
  backend.destroy();
}
