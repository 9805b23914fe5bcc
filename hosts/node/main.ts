// The Node entry point of `eoslab` (hosts/node/bin/eoslab.mjs runs it): the
// Node host for the shared CLI definition (hosts/node/cli.ts): Dawn or
// worker_threads backends (backend.ts, which picks the Vulkan driver and
// re-execs for it), the process's arguments and CPU count.
import { availableParallelism } from 'node:os';
import { createNodeBackend } from './backend.js';
import { runCli } from './cli.js';
import type { CliHost } from '../shared/host.js';
import { enableNodeRelaxedSimd } from './wasm.js';

export function nodeHost(argv: string[] = process.argv): CliHost {
  return {
    createBackend: createNodeBackend,
    args: argv.slice(2),
    cores: availableParallelism,
    log: (s) => console.log(s),
    warn: (s) => console.error(s),
  };
}

/** `argv` as process.argv (node, script, arguments…); returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  // Node 20 keeps Wasm relaxed SIMD (the FMA micro-kernel, ~1.2–1.5× on convs)
  // behind a V8 flag; the CLI turns it on for itself and its worker threads.
  enableNodeRelaxedSimd();
  return runCli(nodeHost(argv));
}
