// One member of a batched sweep: a single run's RunContext (experiment.ts)
// over the group's shared K = 1 problem — its own θ and gradient buffers,
// optimizer state, eigenvectors and step counter. The member's θ_t lives in
// its slice of the group's packed K·P vector, where the batched objective
// computes every member's loss and gradient in one dispatch and the
// optimizer updates it in place (the single run's op at an offset: the same
// bits, no copies). Only a row that reads θ or g — eigen-measurements with
// their retry and diagnostics, the measurement suite, projections,
// checkpoints: the single run's own code on the member's buffers — copies
// the slices into them first, so each member's records equal its single run
// bit for bit. The group may have run the row's Hessian measurement already,
// with the other members' in lockstep (sweep.ts); the row then takes it.
import type { Backend, Buf } from '../backend/types.js';
import { copyBits } from '../backend/copy-bits.js';
import type { OptState } from '../optim/optimizers.js';
import { fires } from '../measure/schedule.js';
import { runMeasures } from '../measure/run-measures.js';
import { lrAt, type RunConfig } from './config.js';
import type { Checkpoint, MetricsRow, RunSink } from './records.js';
import { RunContext, type EigRow, type RunResult } from './experiment.js';
import type { RunProblem } from './problem.js';

const EVERY_STEP = { every: 1, after: [] };

/** A row's loss and accuracy from the batched passes (test values null where --test-freq skips the step). */
export interface MemberLosses {
  trainLoss: number;
  trainAcc: number;
  testLoss: number | null;
  testAcc: number | null;
}

/** The member's slices of the group's packed θ_t and g_t. */
export interface MemberSlices {
  thetaK: Buf;
  gradK: Buf;
  off: number;
}

export class SweepMember {
  readonly ctx: RunContext;
  readonly st: OptState;
  /** Step of the next row. */
  t = 0;
  wall0 = 0;
  result: RunResult | null = null;
  /** Step whose θ and g were last copied into the member's own buffers. */
  private syncedAt = -1;

  constructor(readonly backend: Backend, readonly index: number, readonly cfg: RunConfig, readonly sink: RunSink, problem: RunProblem) {
    this.ctx = new RunContext(backend, cfg, problem);
    this.st = this.ctx.opt!.init(backend, problem.P);
  }

  get theta(): Buf { return this.ctx.theta; }
  get grad(): Buf { return this.ctx.grad; }
  get P(): number { return this.ctx.P; }

  /** Starts from θ₀, or from a checkpoint (θ, optimizer state, eigenvectors, clock), as the single run does. */
  start(theta0: Float32Array, resume: Checkpoint | undefined): void {
    const { backend, ctx } = this;
    if (!resume) { backend.write(ctx.theta, theta0); return; }
    if (resume.theta.length !== this.P) throw new Error(`checkpoint θ has ${resume.theta.length} values, the model ${this.P}: wrong architecture for member ${this.index}`);
    backend.write(ctx.theta, resume.theta);
    for (const [name, b] of Object.entries(this.st.tensors)) {
      const saved = resume.optTensors[name];
      if (!saved) throw new Error(`member ${this.index}'s checkpoint lacks optimizer state '${name}': it was written by a different optimizer`);
      backend.write(b, saved);
    }
    this.st.step = resume.optStep;
    ctx.eigvecs = resume.eigvecs.map((v) => { const b = ctx.buf('eigenvector'); backend.write(b, v); return b; });
    ctx.sharpness = resume.sharpness;
    this.t = resume.step;
    this.wall0 = resume.wall_s ?? 0;
  }

  /** Whether this row evaluates the test set (--test-freq). */
  testDue(): boolean {
    return fires(this.cfg.testFreq ?? EVERY_STEP, this.t);
  }

  /** Whether row t measures the Hessian: a finite loss and --eig-freq due (the single run's rule). */
  eigDue(trainLoss: number): boolean {
    return this.finite(trainLoss) && this.cfg.eigFreq > 0 && this.t % this.cfg.eigFreq === 0;
  }

  private finite(trainLoss: number): boolean {
    return Number.isFinite(trainLoss) && trainLoss <= this.cfg.divergeLoss;
  }

  /** The stability threshold of row t (what --neigs auto's line follows). */
  threshold(gradNorm: number): number | null {
    return this.ctx.opt!.threshold(lrAt(this.cfg, this.t), gradNorm);
  }

  /** θ_t and g_t into the member's own buffers, once per row, and only for a row that reads them. */
  sync(slices: MemberSlices): void {
    if (this.syncedAt === this.t) return;
    this.syncedAt = this.t;
    copyBits(this.backend, this.ctx.theta, 0, slices.thetaK, slices.off, this.P);
    copyBits(this.backend, this.ctx.grad, 0, slices.gradK, slices.off, this.P);
  }

  /**
   * Row t from the batched losses and the member's gradient (already in
   * `grad`): measurements, the row, projections, stop rules, checkpoint — the
   * single run's order. `eig`: the row's Hessian measurement where the group
   * already ran it (its members' solves in lockstep); otherwise it runs here.
   * Returns the stop result, or null to go on.
   */
  async row(l: MemberLosses, gradNorm: number, hasAccuracy: boolean, wall: number, slices: MemberSlices, eig?: EigRow): Promise<RunResult | null> {
    const { ctx, cfg, sink, t } = this;
    const sync = () => this.sync(slices);
    const lr = lrAt(cfg, t);
    const finite = this.finite(l.trainLoss);
    const threshold = this.threshold(gradNorm);
    let lambdaA: number | null = null;
    if (this.eigDue(l.trainLoss)) {
      if (!eig) {
        sync();
        eig = await ctx.measureHessian(t, threshold);
      }
      if (cfg.lambdaA) {
        sync();
        lambdaA = await ctx.measureLambdaA(this.st, t);
      }
    }
    eig ??= { lambdas: Array(cfg.neigs).fill(null) };
    if (finite && cfg.measures) sync();
    const extra = finite && cfg.measures ? await runMeasures(ctx.measureContext(t, lr, gradNorm, l.trainLoss, threshold, this.st, sink), cfg) : undefined;
    const row: MetricsRow = {
      step: t, train_loss: l.trainLoss, train_acc: hasAccuracy ? l.trainAcc : null, test_loss: l.testLoss, test_acc: hasAccuracy ? l.testAcc : null,
      lambdas: eig.lambdas, lambda_A: lambdaA, threshold, lr, grad_norm: gradNorm, wall_s: this.wall0 + wall,
      neigs_tracked: eig.tracked ?? null, eig_hvps: eig.hvps ?? null, eig_residual: eig.residual ?? null, eig_converged: eig.converged ?? null, extra,
    };
    await sink.row(row);
    if (finite && cfg.nproj > 0 && t % cfg.iterateFreq === 0 && sink.projection) sync();
    if (finite && cfg.nproj > 0 && t % cfg.iterateFreq === 0 && sink.projection) await sink.projection(t, await ctx.project());
    const reason = ctx.stopReason(row, t, 0);
    const due = cfg.checkpointEvery > 0 && t % cfg.checkpointEvery === 0;
    if ((due && finite) || (reason && reason !== 'diverged')) sync();
    if ((due && finite) || (reason && reason !== 'diverged')) await sink.checkpoint({ ...await ctx.checkpoint(t, 0, this.st), wall_s: row.wall_s });
    if (!reason) return null;
    this.result = { reason, step: t, lastRow: row };
    return this.result;
  }

  /** θ ← θ + update(g) on the member's slice at `off` of the group's θ and gradient, with its own optimizer and learning rate; on to the next step. */
  update(thetaK: Buf, gradK: Buf, off: number, gradNorm: number): void {
    this.ctx.opt!.update(this.backend, thetaK, gradK, this.st, lrAt(this.cfg, this.t), gradNorm, off);
    this.t++;
  }

  /** Releases the member's buffers; the group's shared problem stays (RunContext.dispose would dispose it). */
  dispose(): void {
    this.ctx.opt!.dispose(this.backend, this.st);
    this.ctx.owned.forEach((b) => this.backend.release(b));
    this.ctx.owned.length = 0;
  }
}
