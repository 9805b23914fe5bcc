// Runs the cross-host problem on Deno's WebGPU and prints it as one JSON line
// (tests/hosts.test.ts compares it with Node and Chromium):
//   deno run --sloppy-imports hosts/deno/smoke.ts
// (--sloppy-imports lets the codebase's NodeNext-style ".js" specifiers resolve to
// the ".ts" files; WebGPU needs no flag and no permissions in Deno 2.9.)
import { crossHostProblem } from '../../core/ts/smoke/cross-host.js';
import { createDenoGpu } from './device.js';

const { backend, adapterInfo } = await createDenoGpu();
try {
  const result = await crossHostProblem(backend);
  console.log(JSON.stringify({ host: 'deno', adapterInfo, ...result }));
} finally {
  backend.destroy();
}
