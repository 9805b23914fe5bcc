// A Wasm core worker (bundled into build/browser/wasm-worker.js; hosts/browser/wasm.ts starts it).
import { runCoreWorker, type CoreWorkerInit } from '../../core/ts/backend/wasm/threads.js';

self.onmessage = (e: MessageEvent<CoreWorkerInit>) => { void runCoreWorker(e.data); };
