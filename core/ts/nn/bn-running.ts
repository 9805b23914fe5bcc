// BatchNorm running statistics, tracked as PyTorch's train() does: per
// BatchNorm layer a device buffer [K][2C] = [running_mean, running_var]
// (initial 0 and 1) that the forward kernel updates in place for every
// physical batch of a gradient evaluation that produces an update, and
// num_batches_tracked counted on the host. They live outside θ: the loss never
// reads them (eoslab stays in train mode), checkpoints carry them.
import type { Backend, Buf, View } from '../backend/types.js';
import type { Layer } from './layer.js';
import { BatchNorm } from './layers/batchnorm.js';
import type { Model } from './model.js';

/** Every layer, residual blocks opened, in θ order. */
function leaves(layers: Layer[]): Layer[] {
  return layers.flatMap((l) => {
    const inner = (l as { inner?: { layers: Layer[] } }).inner;
    return inner ? leaves(inner.layers) : [l];
  });
}

export function batchNorms(model: Model): BatchNorm[] {
  return leaves(model.layers).filter((l): l is BatchNorm => l instanceof BatchNorm);
}

/** Host values of one model's running statistics, by PyTorch buffer name. */
export interface RunningValues {
  /** '<i>.running_mean' / '<i>.running_var' → C values. */
  tensors: Record<string, Float32Array>;
  numBatchesTracked: number;
}

export class BnRunning {
  private readonly bufs = new Map<BatchNorm, Buf>();
  numBatchesTracked = 0;

  /** Null for a model without BatchNorm. */
  static create(backend: Backend, model: Model): BnRunning | null {
    const bns = batchNorms(model);
    return bns.length ? new BnRunning(backend, bns) : null;
  }

  private constructor(private readonly backend: Backend, readonly layers: BatchNorm[]) {
    for (const l of layers) {
      const b = backend.alloc(2 * l.C, `running stats ${l.w.name.slice(0, -'.weight'.length)}`);
      backend.write(b, new Float32Array(2 * l.C).fill(1, l.C));
      this.bufs.set(l, b);
    }
  }

  /** The layer's [running_mean, running_var] (one model: the run loop trains K = 1). */
  view(l: BatchNorm): View | undefined {
    const b = this.bufs.get(l);
    return b && { buf: b, off: 0, bs: 0 };
  }

  async read(): Promise<RunningValues> {
    const tensors: Record<string, Float32Array> = {};
    for (const [l, b] of this.bufs) {
      const v = await this.backend.read(b), pre = l.w.name.slice(0, -'weight'.length);
      tensors[`${pre}running_mean`] = v.slice(0, l.C);
      tensors[`${pre}running_var`] = v.slice(l.C, 2 * l.C);
    }
    return { tensors, numBatchesTracked: this.numBatchesTracked };
  }

  write(v: RunningValues): void {
    for (const [l, b] of this.bufs) {
      const pre = l.w.name.slice(0, -'weight'.length), m = v.tensors[`${pre}running_mean`], s = v.tensors[`${pre}running_var`];
      if (!m || !s) throw new Error(`checkpoint lacks '${pre}running_mean'/'${pre}running_var': it was written for a different model`);
      const x = new Float32Array(2 * l.C);
      x.set(m);
      x.set(s, l.C);
      this.backend.write(b, x);
    }
    this.numBatchesTracked = v.numBatchesTracked;
  }

  dispose(): void {
    for (const b of this.bufs.values()) this.backend.release(b);
    this.bufs.clear();
  }
}
