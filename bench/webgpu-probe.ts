// Child process of bench/webgpu-setup.ts's probeWebGpu: prints `ADAPTER <description>`
// when a WebGPU device can be created, else `WHY <the one-line reason>`.
import { createNodeGpu } from '../hosts/node/device.js';
import { oneLine } from './common.js';

try {
  const g = await createNodeGpu({ backend: { tuneCache: new Map() } });
  console.log(`ADAPTER ${g.backend.description}`);
  g.backend.destroy();
} catch (e) {
  console.log(`WHY ${oneLine(e)}`);
}
// Dawn's event loop would keep the process alive.
process.exit(0);
