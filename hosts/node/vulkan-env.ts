// Chooses the Vulkan driver (ICD) Dawn will use, so WebGPU works on GPU-less Linux machines.
// Call configureVulkanEnv() before the `webgpu` module's create(): the Vulkan loader reads
// VK_ICD_FILENAMES when the instance is created, so setting process.env here is early enough.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DriverChoice {
  icd: string | null;
  kind: 'system' | 'lavapipe' | 'swiftshader' | 'env';
  note: string;
}

export type DriverPreference = 'auto' | 'lavapipe' | 'swiftshader' | 'system';

/** Set in a process that reexec.ts re-spawned; guards against re-exec loops. */
export const REEXEC_MARKER = 'EOSLAB_VK_REEXEC';

const DEFAULT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const SYSTEM_ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'];
// ld.so reads LD_LIBRARY_PATH once, at exec; editing process.env later never affects dlopen().
const STARTUP_LD_LIBRARY_PATH = process.env.LD_LIBRARY_PATH ?? '';

export function noAdapterMessage(): string {
  return 'no WebGPU adapter: run `npm run setup` (installs libvulkan1 and Chromium\'s SwiftShader, ' +
    'fetches Mesa lavapipe) or set VK_ICD_FILENAMES to a Vulkan ICD json';
}

function lavapipeFiles(repoRoot: string) {
  const dir = join(repoRoot, '.cache/vulkan/lavapipe');
  return { icd: join(dir, 'lvp_icd.json'), ldPathFile: join(dir, 'ld_library_path') };
}

function icdLibrary(icdJson: string): string | null {
  try {
    const lib: unknown = JSON.parse(readFileSync(icdJson, 'utf8'))?.ICD?.library_path;
    return typeof lib === 'string' ? lib : null;
  } catch {
    return null;
  }
}

/** The fetched lavapipe ICD, if present and not stale (e.g. after the repo moved). */
function lavapipeIcd(repoRoot: string): string | null {
  const { icd } = lavapipeFiles(repoRoot);
  const lib = existsSync(icd) ? icdLibrary(icd) : null;
  return lib && existsSync(lib) ? icd : null;
}

// NVIDIA's container runtime mounts the driver's Vulkan manifest here, where no Vulkan loader
// looks (it searches /usr/share and /etc): a GPU container then has a driver but no adapter.
const CONTAINER_ICDS = ['/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json', '/usr/local/nvidia/etc/vulkan/icd.d/nvidia_icd.json'];

/**
 * The first of `candidates` that exists, where an NVIDIA device node does too (`nodes`); null
 * otherwise. The loader must be told of it (VK_DRIVER_FILES): configureVulkanEnv does.
 */
export function containerIcd(candidates: string[] = CONTAINER_ICDS, nodes: string[] = ['/dev/nvidiactl']): string | null {
  if (!nodes.some((n) => existsSync(n))) return null;
  return candidates.find((c) => existsSync(c)) ?? null;
}

/** A hardware Vulkan driver: one the loader finds, or NVIDIA's container mount. */
export function hasHardwareIcd(): boolean {
  return hasLoaderHardwareIcd() || containerIcd() !== null;
}

// Debian's mesa-vulkan-drivers drops intel/radeon ICD jsons on every machine, GPU or not, so a
// json alone proves nothing: also require a device node a hardware driver could open.
function hasLoaderHardwareIcd(): boolean {
  const hardwareJson = SYSTEM_ICD_DIRS.some((dir) => {
    try {
      return readdirSync(dir).some((f) => f.endsWith('.json') && !/lvp|lavapipe|swiftshader/i.test(f));
    } catch {
      return false;
    }
  });
  if (!hardwareJson) return false;
  let dri: string[] = [];
  try {
    dri = readdirSync('/dev/dri');
  } catch { /* no DRM devices */ }
  return dri.some((f) => f.startsWith('renderD')) || existsSync('/dev/nvidiactl') || existsSync('/dev/dxg');
}

// SwiftShader prints "XDG_RUNTIME_DIR is invalid or not set" on every instance without it.
function ensureXdgRuntimeDir(): void {
  if (process.env.XDG_RUNTIME_DIR) return;
  const dir = join(tmpdir(), `eoslab-xdg-${process.getuid?.() ?? 'user'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env.XDG_RUNTIME_DIR = dir;
}

export function configureVulkanEnv(
  opts: { prefer?: DriverPreference; repoRoot?: string } = {},
): DriverChoice {
  ensureXdgRuntimeDir();
  const prefer = opts.prefer ?? 'auto';
  const repoRoot = opts.repoRoot ?? DEFAULT_ROOT;

  const preset = process.env.VK_DRIVER_FILES || process.env.VK_ICD_FILENAMES;
  if (preset) {
    // A child of a lavapipe process (e.g. after re-exec) inherits our choice; report it as such.
    if (preset === lavapipeFiles(repoRoot).icd) return { icd: preset, kind: 'lavapipe', note: 'inherited lavapipe ICD' };
    return { icd: preset, kind: 'env', note: 'using the Vulkan ICD set in the environment' };
  }
  if (prefer === 'system' || (prefer === 'auto' && hasHardwareIcd())) {
    const mounted = hasLoaderHardwareIcd() ? null : containerIcd();
    if (mounted) {
      process.env.VK_DRIVER_FILES = mounted;
      return { icd: mounted, kind: 'system', note: `using the NVIDIA Vulkan driver mounted at ${mounted} (named in VK_DRIVER_FILES: no Vulkan loader looks there)` };
    }
    return { icd: null, kind: 'system', note: 'using the system Vulkan drivers' };
  }

  const lavapipe = { kind: 'lavapipe' as const, icd: lavapipeIcd(repoRoot) };
  const swiftshader = { kind: 'swiftshader' as const, icd: existsSync(SWIFTSHADER_ICD) ? SWIFTSHADER_ICD : null };
  const order = prefer === 'swiftshader' ? [swiftshader, lavapipe] : [lavapipe, swiftshader];
  for (const { kind, icd } of order) {
    if (!icd) continue;
    process.env.VK_ICD_FILENAMES = icd;
    const fallback = prefer !== 'auto' && prefer !== kind ? ` (${prefer} not found)` : '';
    return { icd, kind, note: `using ${kind === 'lavapipe' ? 'Mesa lavapipe' : 'SwiftShader'} CPU Vulkan${fallback}` };
  }
  return { icd: null, kind: 'system', note: `no CPU Vulkan driver found; ${noAdapterMessage()}` };
}

/** Colon-joined lib dirs of the fetched lavapipe, or '' when absent. */
export function lavapipeLdLibraryPath(repoRoot: string = DEFAULT_ROOT): string {
  try {
    return readFileSync(lavapipeFiles(repoRoot).ldPathFile, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * True when lavapipe was chosen but its shared-library deps only resolve with the private
 * LD_LIBRARY_PATH, which cannot take effect in this process (see reexec.ts).
 * On Debian 12 with Mesa 22 installed this is false: the system libs satisfy it (`ldd -r` clean).
 */
export function needsReexec(repoRoot: string = DEFAULT_ROOT): boolean {
  if (process.env[REEXEC_MARKER]) return false;
  const { icd } = lavapipeFiles(repoRoot);
  if (process.env.VK_ICD_FILENAMES !== icd) return false;
  const lib = icdLibrary(icd);
  const privateDirs = lavapipeLdLibraryPath(repoRoot).split(':').filter(Boolean);
  if (!lib || privateDirs.length === 0) return false;
  if (privateDirs.every((d) => STARTUP_LD_LIBRARY_PATH.split(':').includes(d))) return false;
  // ldd -r resolves deps and symbols as this process's ld.so would (~30 ms).
  const r = spawnSync('ldd', ['-r', lib], {
    encoding: 'utf8',
    env: { ...process.env, LD_LIBRARY_PATH: STARTUP_LD_LIBRARY_PATH },
  });
  if (r.error || r.status !== 0) return true;
  return /not found|undefined symbol/.test(r.stdout + r.stderr);
}
