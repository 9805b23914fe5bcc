// Turns WebGPU's asynchronous error reporting into thrown Errors at the next
// point where the engine waits anyway (a read-back or a flush): validation
// and out-of-memory errors are caught by error scopes around each submit,
// buffer creation and pipeline creation; a lost device is remembered and
// rethrown on every later call.

export class DeviceErrors {
  private pending: Promise<GPUError | null>[] = [];
  private labels: string[] = [];
  private lostInfo: string | null = null;
  private uncaptured: string | null = null;

  constructor(private readonly device: GPUDevice) {
    device.lost.then((info) => {
      // 'destroyed' is our own destroy(); anything else is the driver's doing.
      if (info.reason !== 'destroyed') this.lostInfo = info.message || String(info.reason);
      else this.lostInfo ??= 'device was destroyed';
    });
    device.addEventListener?.('uncapturederror', (ev: Event) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.uncaptured ??= e?.message ?? String(e);
    });
  }

  /** Runs fn inside validation + out-of-memory scopes; errors surface at check(). */
  scoped<T>(label: string, fn: () => T): T {
    this.assertAlive();
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    try {
      return fn();
    } finally {
      this.pending.push(this.device.popErrorScope(), this.device.popErrorScope());
      this.labels.push(`${label} (validation)`, `${label} (out of memory)`);
    }
  }

  assertAlive(): void {
    if (this.lostInfo !== null) {
      throw new Error(`WebGPU device lost (${this.lostInfo}): the GPU was reset, removed or destroyed; start again (records already written stay as they are)`);
    }
  }

  /** Awaits every scope opened so far and throws the first error found. */
  async check(): Promise<void> {
    const pending = this.pending, labels = this.labels;
    this.pending = [];
    this.labels = [];
    const errors = await Promise.all(pending);
    this.assertAlive();
    for (let i = 0; i < errors.length; i++) {
      const e = errors[i];
      if (!e) continue;
      if (labels[i].endsWith('(out of memory)')) {
        throw new Error(`WebGPU out of memory in ${labels[i].replace(' (out of memory)', '')}: ${e.message}. Use a smaller --physical-batch-size or fewer batched models`);
      }
      throw new Error(`WebGPU validation error in ${labels[i].replace(' (validation)', '')}: ${e.message}`);
    }
    if (this.uncaptured !== null) {
      const msg = this.uncaptured;
      this.uncaptured = null;
      throw new Error(`WebGPU error: ${msg}`);
    }
  }

  markLost(message: string): void {
    this.lostInfo ??= message;
  }
}
