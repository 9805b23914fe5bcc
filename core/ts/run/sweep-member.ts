// One member of a batched sweep: its own θ and gradient (P floats each), its
// own optimizer state, eigenvectors and step counter, exactly the state a
// single run (experiment.ts) keeps. The batched objective computes every
// member's loss and gradient in one dispatch over a packed K·P vector; the
// member's slice is copied in and out, and everything else (update,
// eigen-solves on a K = 1 objective, checkpoints) runs on the member's own
// buffers, so each member's records equal its single run bit for bit.
import type { Backend, Buf } from '../backend/types.js';
import type { Objective } from '../objective/types.js';
import { makeOptimizer, type OptState, type Optimizer } from '../optim/optimizers.js';
import { hessianOperator, scaledOperator, type SymOperator } from '../measure/operator.js';
import { lanczos, type EigResult } from '../measure/lanczos.js';
import { lobpcg } from '../measure/lobpcg.js';
import { powerIteration } from '../measure/power.js';
import type { RunConfig } from './config.js';
import type { Checkpoint, MetricsRow, RunSink, StopReason } from './records.js';
import type { RunResult } from './experiment.js';

/**
 * dst[dOff + i] = src[sOff + i], bit for bit. A plain copy (γ = +0) turns
 * −0 into +0 (+0 + −0 = +0); γ = −0 keeps every value's bits, so the
 * member's gradient is the single run's exactly.
 */
export function copySlice(backend: Backend, dst: Buf, dOff: number, src: Buf, sOff: number, n: number): void {
  backend.vector({ n, y: dst, yOff: dOff, x: src, xOff: sOff, alpha: 1, beta: 0, gamma: -0 });
}

export class SweepMember {
  readonly opt: Optimizer;
  readonly st: OptState;
  readonly theta: Buf;
  readonly grad: Buf;
  /** Step of the next row. */
  t = 0;
  wall0 = 0;
  eigvecs: Buf[] = [];
  warmUsed: Buf[] = [];
  sharpness: number | null = null;
  sharpnessBefore: number | null = null;
  measuredAt = -1;
  last: MetricsRow | null = null;
  result: RunResult | null = null;

  constructor(readonly backend: Backend, readonly index: number, readonly cfg: RunConfig, readonly sink: RunSink, readonly P: number) {
    this.opt = makeOptimizer(cfg.opt);
    this.st = this.opt.init(backend, P);
    this.theta = backend.alloc(P, `θ member ${index}`);
    this.grad = backend.alloc(P, `gradient member ${index}`);
  }

  /** Starts from θ₀, or from a checkpoint (θ, optimizer state, eigenvectors, clock), as experiment.ts does. */
  start(theta0: Float32Array, resume: Checkpoint | undefined): void {
    const { backend } = this;
    if (!resume) { backend.write(this.theta, theta0); return; }
    if (resume.theta.length !== this.P) throw new Error(`checkpoint θ has ${resume.theta.length} values, the model ${this.P}: wrong architecture for member ${this.index}`);
    backend.write(this.theta, resume.theta);
    for (const [name, b] of Object.entries(this.st.tensors)) {
      const saved = resume.optTensors[name];
      if (!saved) throw new Error(`member ${this.index}'s checkpoint lacks optimizer state '${name}': it was written by a different optimizer`);
      backend.write(b, saved);
    }
    this.st.step = resume.optStep;
    this.eigvecs = resume.eigvecs.map((v) => { const b = backend.alloc(this.P, 'eigenvector'); backend.write(b, v); return b; });
    this.sharpness = resume.sharpness;
    this.t = resume.step;
    this.wall0 = resume.wall_s ?? 0;
  }

  stopReason(r: MetricsRow): StopReason | null {
    const { cfg } = this;
    if (!(Number.isFinite(r.train_loss) && r.train_loss <= cfg.divergeLoss)) return 'diverged';
    if (cfg.accGoal !== null && r.train_acc !== null && r.train_acc >= cfg.accGoal) return 'acc_goal';
    if (cfg.lossGoal !== null && r.train_loss <= cfg.lossGoal) return 'loss_goal';
    if (r.step >= cfg.maxSteps) return 'max_steps';
    return null;
  }

  /** Top-k of op with the member's eigen-solver, seeded by its seed and the step (experiment.ts's rule). */
  async solve(op: SymOperator, k: number, warm: Buf[]): Promise<EigResult> {
    const opts = { k, seed: this.cfg.seed * 1_000_003 + this.t, wantVectors: true, tol: 1e-4 };
    const init = warm.length === k ? warm : undefined;
    const solver = this.cfg.eigSolver === 'lobpcg' && 3 * k > op.n ? 'lanczos' : this.cfg.eigSolver;
    return solver === 'lanczos' ? lanczos(this.backend, op, { ...opts, start: init?.[0] })
      : solver === 'lobpcg' ? lobpcg(this.backend, op, { ...opts, init })
      : powerIteration(this.backend, op, { ...opts, init });
  }

  /** λ₁..λ_k of the Hessian on `measure` (a K = 1 objective), warm-started from the last eigenvectors. */
  async measureHessian(measure: Objective): Promise<(number | null)[]> {
    const r = await this.solve(hessianOperator(measure, this.theta), this.cfg.neigs, this.eigvecs);
    this.warmUsed.forEach((b) => this.backend.release(b));
    this.warmUsed = this.eigvecs;
    this.sharpnessBefore = this.sharpness;
    this.measuredAt = this.t;
    this.eigvecs = r.vectors ?? [];
    this.sharpness = r.values[0];
    return Array.from({ length: this.cfg.neigs }, (_, i) => r.values[i] ?? null);
  }

  async measureLambdaA(measure: Objective): Promise<number> {
    const d = this.backend.alloc(this.P, 'P^-1/2');
    this.opt.preconditionerInvSqrt!(this.backend, this.st, d);
    const r = await this.solve(scaledOperator(this.backend, hessianOperator(measure, this.theta), d), this.cfg.neigs, []);
    (r.vectors ?? []).forEach((b) => this.backend.release(b));
    this.backend.release(d);
    return r.values[0];
  }

  async checkpoint(): Promise<Checkpoint> {
    const { backend } = this;
    const optTensors: Record<string, Float32Array> = {};
    for (const [k, b] of Object.entries(this.st.tensors)) optTensors[k] = await backend.read(b);
    const now = this.measuredAt === this.t;
    return {
      step: this.t, theta: await backend.read(this.theta), optTensors, optStep: this.st.step,
      eigvecs: await Promise.all((now ? this.warmUsed : this.eigvecs).map((b) => backend.read(b))),
      sharpness: now ? this.sharpnessBefore : this.sharpness,
    };
  }

  dispose(): void {
    const { backend } = this;
    this.opt.dispose(backend, this.st);
    for (const b of [this.theta, this.grad, ...this.eigvecs, ...this.warmUsed]) backend.release(b);
    this.eigvecs = [];
    this.warmUsed = [];
  }
}
