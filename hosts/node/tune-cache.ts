// Persists matmul autotune choices per adapter, so the short timing run at
// first use happens once per machine, not once per process:
// $XDG_CACHE_HOME/eoslab/autotune.json (default ~/.cache), or $EOSLAB_CACHE.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { MATMUL_VARIANTS } from '../../core/ts/backend/webgpu/matmul-variants.js';
import { CONV_VARIANTS } from '../../core/ts/backend/webgpu/conv-variants.js';

type CacheFile = Record<string, Record<string, string>>;

/** Cache key: the adapter and the variant set, so new kernels get tuned (Node's Dawn and Deno's wgpu describe adapters differently, so each keeps its own). */
export function tuneKey(description: string): string {
  let h = 0;
  for (const c of [...MATMUL_VARIANTS, ...CONV_VARIANTS].map((v) => v.id).join(',')) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return `${description} #${h.toString(16)}`;
}

export function tuneCachePath(): string {
  if (process.env.EOSLAB_CACHE) return join(process.env.EOSLAB_CACHE, 'autotune.json');
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'eoslab', 'autotune.json');
}

function readAll(path: string): CacheFile {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as CacheFile) : {};
  } catch {
    return {}; // missing or unreadable: tune again
  }
}

/** The choices remembered for `adapter`, as the live map the tuner fills. */
export function loadTuneCache(adapter: string, path = tuneCachePath()): Map<string, string> {
  return new Map(Object.entries(readAll(path)[adapter] ?? {}));
}

export function saveTuneCache(adapter: string, choices: Map<string, string>, path = tuneCachePath()): void {
  try {
    const all = readAll(path);
    all[adapter] = Object.fromEntries(choices);
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(all, null, 1));
    renameSync(tmp, path); // never leave a half-written cache
  } catch {
    // A read-only home only costs a re-tune next time.
  }
}
