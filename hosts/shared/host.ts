// What the `eoslab` CLI needs from the runtime it runs on, injected by each
// entry point (hosts/node/main.ts, hosts/deno/cli.ts) into the one CLI
// definition (hosts/node/cli.ts). Only types and web-standard code here.
//
// Why the file system is not in it: Deno implements node:fs, node:path,
// node:os, node:crypto and `process`, so the run-directory code (run-dir,
// run-lock, run-command, run-resume, dataset files) runs unchanged on both
// and writes byte-identical files. What truly differs is injected: the
// backend factory (Dawn with Vulkan driver selection and re-exec on Node,
// wgpu's navigator.gpu on Deno; worker_threads or Deno Workers for the Wasm
// core), the user's arguments and the CPU count.
import type { Backend } from '../../core/ts/backend/types.js';
import type { WebGPUBackendOptions } from '../../core/ts/backend/webgpu/backend.js';
import type { BackendChoice } from './select-backend.js';

export interface HostBackendOptions {
  backend?: BackendChoice;
  threads?: number;
  webgpu?: WebGPUBackendOptions;
}

/** A backend picked by `--backend`, with what metadata.json records about it. */
export interface HostBackend {
  backend: Backend;
  /** One line: which backend and why. */
  why: string;
  /** Metadata: which backend, on what, and why. */
  device: Record<string, string | number>;
  /** Persists WebGPU autotune choices where the host can (no-op on Wasm). */
  saveTuning(): void;
  /** The matmul kernels chosen so far (WebGPU only). */
  kernelChoices(): Record<string, string>;
}

export type CreateHostBackend = (opts: HostBackendOptions) => Promise<HostBackend>;

export interface CliHost {
  createBackend: CreateHostBackend;
  /** The user's arguments after the program name (metadata.json records them as `command`). */
  args: string[];
  /** CPU cores available to this process (caps --threads). */
  cores(): number;
  log(s: string): void;
  /** Warnings and errors (stderr). */
  warn(s: string): void;
}
