// TEST-ONLY fault injection, off unless its environment variable is set:
// EOSLAB_TEST_LOSE_DEVICE_AFTER=N makes the backend fail every read-back
// after the N-th readScalars, with the error a lost WebGPU device gives
// (core/ts/backend/webgpu/device-errors.ts). It lets tests/crash-safety.test.ts
// lose a device mid-run on any machine, the Wasm core included; no user
// setting reaches it.
import type { Backend } from '../../core/ts/backend/types.js';

export function withTestFaults(backend: Backend, env: NodeJS.ProcessEnv = process.env): Backend {
  const after = Number(env.EOSLAB_TEST_LOSE_DEVICE_AFTER);
  if (!env.EOSLAB_TEST_LOSE_DEVICE_AFTER || !Number.isInteger(after) || after < 0) return backend;
  let reads = 0;
  const lost = () => new Error('WebGPU device lost (test: EOSLAB_TEST_LOSE_DEVICE_AFTER): the GPU was reset, removed or destroyed; start again (records already written stay as they are)');
  return new Proxy(backend, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof v !== 'function') return v;
      if (key === 'readScalars') return async (...a: unknown[]) => { if (++reads > after) throw lost(); return (v as Function).apply(target, a); };
      if (key === 'read' || key === 'flush') return async (...a: unknown[]) => { if (reads >= after) throw lost(); return (v as Function).apply(target, a); };
      return v.bind(target);
    },
  });
}
