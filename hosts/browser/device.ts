// The browser host's WebGPU device: the page's navigator.gpu (Dawn in
// Chromium). Headless Chromium on a GPU-less machine needs
// --enable-unsafe-webgpu and a software adapter (SwiftShader); see
// tests/hosts.test.ts for the flags.
import type { WebGPUBackendOptions } from '../../core/ts/backend/webgpu/backend.js';
import { createNavigatorGpu, type NavigatorGpu } from '../shared/navigator-gpu.js';

export type BrowserGpu = NavigatorGpu;

const NO_ADAPTER = 'use a WebGPU-enabled browser over https or localhost; headless Chromium needs ' +
  '--enable-unsafe-webgpu --use-webgpu-adapter=swiftshader (and `npm run setup` on Debian for Chromium itself)';

export async function createBrowserGpu(opts: WebGPUBackendOptions = {}): Promise<BrowserGpu> {
  return createNavigatorGpu(globalThis.navigator?.gpu, NO_ADAPTER, opts);
}
