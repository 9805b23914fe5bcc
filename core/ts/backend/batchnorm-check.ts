// The operands each BatchNormOp mode reads and writes (types.ts), checked
// before either backend runs it, so a missing view is one line, not a
// kernel reading address 0.
import type { BatchNormOp } from './types.js';

export function checkBatchnorm(op: BatchNormOp): void {
  for (const k of ['B', 'C', 'S', 'K'] as const) {
    if (!Number.isInteger(op[k]) || op[k] <= 0) throw new Error(`batchnorm: ${k} must be a positive integer, got ${op[k]}`);
  }
  if (!(op.eps > 0)) throw new Error(`batchnorm: eps must be positive, got ${op.eps}`);
  const need = (what: string, ok: boolean) => { if (!ok) throw new Error(`batchnorm ${op.mode}: needs ${what}`); };
  switch (op.mode) {
    case 'forward': need('out', !!op.out); break;
    case 'backward': need('dy', !!op.dy); need('out or g', !!(op.out || op.g)); break;
    case 'tangent': need('v', !!op.v); need('out', !!op.out); break;
    case 'rbackward': need('rdy', !!op.rdy); need('v', !!op.v); if (!op.gaussNewton) need('dy', !!op.dy); break;
  }
  if (op.running && op.mode !== 'forward') throw new Error(`batchnorm ${op.mode}: running statistics update only in 'forward'`);
  if (op.running && op.g) throw new Error('batchnorm forward: give running or g, not both');
  for (const o of [op.out, op.g, op.running]) {
    if (o && [op.x, op.w, op.v, op.dy, op.rx, op.rdy].some((i) => i && i.buf.id === o.buf.id)) throw new Error(`batchnorm ${op.mode}: an output must not share a buffer with an input`);
  }
}
