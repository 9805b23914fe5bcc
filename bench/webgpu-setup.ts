// The WebGPU half of a bench needs a Vulkan driver set up exactly as
// `npm start` and `npm test` set it up (scripts/setup.sh, then the driver
// choice of hosts/node/vulkan-env.ts and the re-exec of reexec.ts); when no
// adapter comes out of that, the half is skipped with one line saying why
// instead of dying after the CPU half has been measured.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configureVulkanEnv, REEXEC_MARKER, type DriverChoice, type DriverPreference } from '../hosts/node/vulkan-env.js';
import { reexecForVulkanIfNeeded } from '../hosts/node/reexec.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PROBE = join(ROOT, 'bench/webgpu-probe.ts');

/**
 * Runs scripts/setup.sh (idempotent, offline once done), then picks the
 * driver. Call before any measurement: it may re-exec this process.
 */
export function setUpVulkanDriver(prefer: DriverPreference, log: (s: string) => void): DriverChoice {
  // A re-exec'd copy of this process (reexec.ts) comes after a parent that already ran it.
  if (!process.env[REEXEC_MARKER]) {
    // setup.sh's progress goes to stderr with the bench's: stdout carries the bench's table.
    const r = spawnSync('bash', [join(ROOT, 'scripts/setup.sh')], { cwd: ROOT, stdio: ['ignore', 2, 2] });
    if (r.status !== 0) log(`setup: scripts/setup.sh did not complete (${r.error?.message ?? `exit ${r.status ?? r.signal}`}); the WebGPU half may be skipped`);
  }
  const driver = configureVulkanEnv({ prefer });
  reexecForVulkanIfNeeded();
  return driver;
}

/**
 * Whether a WebGPU device can be made here, asked of a child process so that
 * this one holds no Dawn instance while the matmul probes (children too) run.
 */
export function probeWebGpu(timeoutMs = 60_000): Promise<{ adapter: string } | { why: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...process.execArgv, PROBE], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = (tag: string) => stdout.split('\n').find((l) => l.startsWith(tag))?.slice(tag.length);
      const adapter = line('ADAPTER '), why = line('WHY ');
      if (adapter !== undefined) return done({ adapter });
      if (why !== undefined) return done({ why });
      const last = stderr.split('\n').filter((l) => l.trim() && !/^\s*at |^Warning: /.test(l)).pop();
      done({ why: signal === 'SIGKILL' ? `creating a WebGPU device took over ${timeoutMs / 1000} s` : `the WebGPU probe exited with ${code ?? signal}${last ? `: ${last.trim()}` : ''}` });
    });
  });
}
