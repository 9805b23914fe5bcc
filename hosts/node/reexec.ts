// Re-spawns the current node command with lavapipe's private lib dirs on LD_LIBRARY_PATH.
// Why a re-exec: Vulkan dlopen()s the ICD inside Dawn, and ld.so resolves its DT_NEEDED libs
// with the LD_LIBRARY_PATH captured at process start; setting process.env.LD_LIBRARY_PATH
// in-process changes nothing. Usually unnecessary (system libs satisfy lavapipe, see
// needsReexec), but required on machines lacking e.g. libLLVM-15 or a new enough libdrm.
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { lavapipeLdLibraryPath, needsReexec, REEXEC_MARKER } from './vulkan-env.js';

/** Runs this same command (node flags such as tsx's loader included) with `env`; exits with its status. */
export function reexecSelf(env: NodeJS.ProcessEnv): never {
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  if (r.error) throw r.error;
  process.exit(r.status ?? 128 + (r.signal ? constants.signals[r.signal] : 0));
}

/** Call after configureVulkanEnv() and before the WebGPU instance is created. */
export function reexecForVulkanIfNeeded(repoRoot?: string): void {
  if (!needsReexec(repoRoot)) return;
  const ldPath = [lavapipeLdLibraryPath(repoRoot), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  reexecSelf({ ...process.env, LD_LIBRARY_PATH: ldPath, [REEXEC_MARKER]: '1' });
}
