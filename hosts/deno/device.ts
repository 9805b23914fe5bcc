// The Deno host's WebGPU device: Deno's built-in navigator.gpu (wgpu, shaders
// through naga), on whatever Vulkan driver the environment selects. On a
// GPU-less Linux machine pass the ICD the Node host picked (VK_ICD_FILENAMES,
// see hosts/node/vulkan-env.ts) and set XDG_RUNTIME_DIR.
import type { WebGPUBackendOptions } from '../../core/ts/backend/webgpu/backend.js';
import { createNavigatorGpu, type NavigatorGpu } from '../shared/navigator-gpu.js';

export type DenoGpu = NavigatorGpu;

const NO_ADAPTER = 'on Linux without a GPU run `npm run setup` (installs libvulkan1 and Chromium\'s SwiftShader, ' +
  'fetches Mesa lavapipe) and set VK_ICD_FILENAMES to a Vulkan ICD json ' +
  '(e.g. .cache/vulkan/lavapipe/lvp_icd.json or /usr/lib/chromium/vk_swiftshader_icd.json)';

export async function createDenoGpu(opts: WebGPUBackendOptions = {}): Promise<DenoGpu> {
  return createNavigatorGpu(globalThis.navigator?.gpu, NO_ADAPTER, opts);
}
