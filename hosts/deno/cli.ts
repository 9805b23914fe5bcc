// `eoslab` on Deno: the same commands, flags and run directories as the Node
// CLI (one definition, hosts/node/cli.ts), on Deno's WebGPU or the Wasm core:
//   deno run -A hosts/deno/cli.ts train chebyshev-5-20 mlp:32x32:tanh mse 0.2 1000
// (deno.json at the repository root resolves the npm dependencies from
// node_modules and the codebase's ".js" specifiers to the ".ts" files).
import { runCli } from '../node/cli.js';
import { denoHost } from './backend.js';

declare const Deno: { exit(code: number): never };

// Exits explicitly: a Wasm worker or WebGPU device a failed run left behind must not keep the process alive.
Deno.exit(await runCli(denoHost()));
