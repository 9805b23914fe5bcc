// A Wasm core worker thread (hosts/node/wasm.ts starts it): registers tsx so
// the TypeScript core loads as it is, then runs the shared worker loop.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';
register();
const { runCoreWorker } = await import('../../core/ts/backend/wasm/threads.ts');
await runCoreWorker(workerData);
