// Test instruments shared by the sweep tests: a run sink that keeps every row
// and checkpoint bit for bit, and a backend whose method calls a callback sees.
import type { Backend } from '../../core/ts/backend/types.js';
import type { Checkpoint, MetricsRow, RunSink } from '../../core/ts/run/records.js';

/** A sink keeping rows and checkpoints as plain JSON (every f64's bits kept, absent fields dropped, wall_s left out: it is a clock). */
export function recorder(): { rows: unknown[]; ckpts: unknown[]; sink: RunSink } {
  const rows: unknown[] = [], ckpts: unknown[] = [];
  const plain = (o: object) => JSON.parse(JSON.stringify(o, (_k, v) => (v instanceof Float32Array ? Array.from(v) : v)));
  const sink: RunSink = {
    row: ({ wall_s: _w, ...r }: MetricsRow) => { rows.push(plain(r)); },
    checkpoint: ({ wall_s: _w, ...c }: Checkpoint) => { ckpts.push(plain(c)); },
  };
  return { rows, ckpts, sink };
}

/** The backend with `seen(method, args, result)` called after every method call (the objects it hands out are the real ones). */
export function spyBackend(be: Backend, seen: (method: string, args: unknown[], result: unknown) => void): Backend {
  return new Proxy(be, {
    get(t, key) {
      const v = Reflect.get(t, key, t);
      if (typeof v !== 'function') return v;
      return (...a: unknown[]) => { const r = v.apply(t, a); seen(String(key), a, r); return r; };
    },
  });
}
