// A Wasm core worker (hosts/deno/wasm.ts starts it): runs the shared worker loop.
import { runCoreWorker, type CoreWorkerInit } from '../../core/ts/backend/wasm/threads.js';

self.onmessage = (e: MessageEvent<CoreWorkerInit>) => { void runCoreWorker(e.data); };
