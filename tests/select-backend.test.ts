// `--backend auto` (hosts/shared/select-backend.ts) with stand-in factories:
// a hardware adapter is taken; a software one is released for the Wasm core;
// a failed probe or a machine without GPU drivers falls back to Wasm; the
// reason is always stated. Explicit choices never fall back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend } from '../core/ts/backend/types.js';
import type { NavigatorGpu } from '../hosts/shared/navigator-gpu.js';
import { parseBackendChoice, selectBackend } from '../hosts/shared/select-backend.js';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerIcd } from '../hosts/node/vulkan-env.js';

function fakes(gpu: 'hardware' | 'software' | 'none', noHardware: string | null = null) {
  const log: string[] = [];
  const backend = (kind: 'webgpu' | 'wasm', description: string) =>
    ({ kind, description, destroy: () => log.push(`destroy ${kind}`) }) as unknown as Backend;
  return {
    log,
    f: {
      webgpu: async () => {
        log.push('probe webgpu');
        if (gpu === 'none') throw new Error('no WebGPU adapter (navigator.gpu.requestAdapter() returned null)');
        return { backend: backend('webgpu', gpu === 'hardware' ? 'NVIDIA H100' : 'llvmpipe'), adapterInfo: {}, cpuLike: gpu === 'software' } as unknown as NavigatorGpu;
      },
      wasm: async () => { log.push('wasm'); return backend('wasm', 'WebAssembly (f32x4 SIMD, 2 threads)'); },
      noHardware: () => noHardware,
    },
  };
}

test('auto takes a hardware adapter', async () => {
  const { f, log } = fakes('hardware');
  const s = await selectBackend('auto', f);
  assert.is(s.backend.kind, 'webgpu');
  assert.match(s.why, /backend webgpu \(auto\): hardware adapter NVIDIA H100/);
  assert.equal(log, ['probe webgpu']);
});

test('auto releases a software adapter and runs on Wasm', async () => {
  const { f, log } = fakes('software');
  const s = await selectBackend('auto', f);
  assert.is(s.backend.kind, 'wasm');
  assert.match(s.why, /software rasteriser \(llvmpipe\)/);
  assert.equal(log, ['probe webgpu', 'destroy webgpu', 'wasm']);
});

test('auto falls back to Wasm when there is no adapter, or no GPU driver at all (without probing)', async () => {
  let { f, log } = fakes('none');
  let s = await selectBackend('auto', f);
  assert.is(s.backend.kind, 'wasm');
  assert.match(s.why, /no WebGPU adapter/);
  ({ f, log } = fakes('hardware', 'no GPU or hardware Vulkan driver on this machine'));
  s = await selectBackend('auto', f);
  assert.is(s.backend.kind, 'wasm');
  assert.match(s.why, /no GPU or hardware Vulkan driver/);
  assert.equal(log, ['wasm']);
});

test('explicit choices are obeyed, and fail loudly instead of falling back', async () => {
  assert.is((await selectBackend('webgpu', fakes('software').f)).backend.kind, 'webgpu');
  assert.is((await selectBackend('wasm', fakes('hardware').f)).backend.kind, 'wasm');
  try {
    await selectBackend('webgpu', fakes('none').f);
    assert.unreachable('no fallback under --backend webgpu');
  } catch (e) {
    assert.match((e as Error).message, /no WebGPU adapter/);
  }
  assert.throws(() => parseBackendChoice('gpu'), /unknown backend 'gpu': use webgpu, wasm or auto/);
});

test('an NVIDIA container mount (a manifest where no Vulkan loader looks) counts as a driver only beside an NVIDIA device node', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eoslab-icd-'));
  const share = join(dir, 'share/vulkan/icd.d'), etc = join(dir, 'etc/vulkan/icd.d');
  const [icdShare, icdEtc, node] = [join(share, 'nvidia_icd.json'), join(etc, 'nvidia_icd.json'), join(dir, 'nvidiactl')];
  const candidates = [icdShare, icdEtc];
  assert.is(containerIcd(candidates, [node]), null, 'nothing mounted');
  mkdirSync(etc, { recursive: true });
  writeFileSync(icdEtc, '{"file_format_version": "1.0.1", "ICD": {"library_path": "libGLX_nvidia.so.0"}}');
  assert.is(containerIcd(candidates, [node]), null, 'a manifest without a device node');
  writeFileSync(node, '');
  assert.is(containerIcd(candidates, [node]), icdEtc);
  mkdirSync(share, { recursive: true });
  writeFileSync(icdShare, '{}');
  assert.is(containerIcd(candidates, [node]), icdShare, 'the first candidate wins');
});

test.run();
