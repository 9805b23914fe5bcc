// `--backend webgpu|wasm|auto`, the same rule on every host: auto takes a
// hardware WebGPU adapter when there is one and otherwise the Wasm core, since
// a software adapter (SwiftShader, lavapipe) runs WGSL on the CPU several
// times slower than the Wasm core does. The reason goes to the log and into
// metadata.json.
import type { Backend } from '../../core/ts/backend/types.js';
import type { NavigatorGpu } from './navigator-gpu.js';

export type BackendChoice = 'webgpu' | 'wasm' | 'auto';
export const BACKEND_CHOICES: BackendChoice[] = ['webgpu', 'wasm', 'auto'];

export function parseBackendChoice(s: string): BackendChoice {
  if (!(BACKEND_CHOICES as string[]).includes(s)) throw new Error(`unknown backend '${s}': use webgpu, wasm or auto`);
  return s as BackendChoice;
}

export interface SelectedBackend<G extends NavigatorGpu = NavigatorGpu> {
  backend: Backend;
  /** Set when the WebGPU backend was picked. */
  gpu: G | null;
  /** One line: which backend and why. */
  why: string;
}

export interface BackendFactories<G extends NavigatorGpu> {
  webgpu(): Promise<G>;
  wasm(): Promise<Backend>;
  /** A reason to skip the WebGPU probe under auto (e.g. no GPU driver installed), or null. */
  noHardware?(): string | null;
}

export async function selectBackend<G extends NavigatorGpu>(choice: BackendChoice, f: BackendFactories<G>): Promise<SelectedBackend<G>> {
  if (choice === 'wasm') {
    const backend = await f.wasm();
    return { backend, gpu: null, why: `backend wasm (--backend wasm): ${backend.description}` };
  }
  if (choice === 'webgpu') {
    const gpu = await f.webgpu();
    return { backend: gpu.backend, gpu, why: `backend webgpu (--backend webgpu): ${gpu.backend.description}` };
  }
  const skip = f.noHardware?.() ?? null;
  let reason: string;
  if (skip) {
    reason = skip;
  } else {
    let gpu: G | null = null;
    try {
      gpu = await f.webgpu();
    } catch (e) {
      reason = `no WebGPU adapter (${(e as Error).message.split('\n')[0]})`;
    }
    if (gpu && !gpu.cpuLike) {
      return { backend: gpu.backend, gpu, why: `backend webgpu (auto): hardware adapter ${gpu.backend.description}` };
    }
    if (gpu) {
      reason = `the WebGPU adapter is a software rasteriser (${gpu.backend.description}), slower than the Wasm core on this CPU`;
      gpu.backend.destroy();
    }
  }
  const backend = await f.wasm();
  return { backend, gpu: null, why: `backend wasm (auto): ${reason!}; ${backend.description}` };
}
