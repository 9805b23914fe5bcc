// The experiment loop: measure θ_t (row t) → stop rules → checkpoint →
// update t, for GD-family, minibatch and adaptive optimizers, or RK4
// gradient flow tick by tick. Emits records through a RunSink; everything
// that decides the trajectory is seeded, so a resumed run continues bit for
// bit (the checkpoint carries θ, the optimizer state and the eigenvectors
// that warm-start the next measurement).
import { BnRunning } from '../nn/bn-running.js';
import type { Backend, Buf } from '../backend/types.js';
import type { ModelObjective } from '../objective/model-objective.js';
import type { Objective } from '../objective/types.js';
import { makeOptimizer, type OptState, type Optimizer } from '../optim/optimizers.js';
import { encodeRk4Step, flowStepSize, rk4Scratch, releaseRk4Scratch } from '../optim/flow.js';
import { hessianOperator, scaledOperator, type SymOperator } from '../measure/operator.js';
import { lobpcg } from '../measure/lobpcg.js';
import { powerIteration } from '../measure/power.js';
import { lanczos, SOLVER_SLOT, solverSlots, type EigResult } from '../measure/lanczos.js';
import { MEASURE_SLOT, type MeasureContext } from '../measure/suite.js';
import { measureEig, retryStream } from '../measure/eig-measure.js';
import { fires } from '../measure/schedule.js';
import { runMeasures } from '../measure/run-measures.js';
import { lrAt, validateRun, type RunConfig } from './config.js';
import type { Checkpoint, MetricsRow, RunSink, StopReason } from './records.js';
import { buildProblem, type RunData, type RunProblem } from './problem.js';
export type { RunData } from './problem.js';

/** The relative residual every Hessian measurement must reach (else a fresh restart, then the flag). */
const EIG_TOL = 1e-4;
/** LOBPCG also stops once ‖r‖²/gap ≤ 1e-6·|λ| (λ's settled near f32 resolution): at the edge about 5 HVPs per warm λ₁ instead of 7 (bench/eig.ts --quick). */
const EIG_VALUE_TOL = 1e-6;
const EVERY_STEP = { every: 1, after: [] };

/** A row's eigen-measurement: λ's (null where none), and the solver's diagnostics when it ran. */
export interface EigRow {
  lambdas: (number | null)[];
  tracked?: number | null;
  hvps?: number;
  residual?: number;
  converged?: number;
}

export interface RunResult {
  reason: StopReason;
  /** Step (train) or tick index (flow) of the last row. */
  step: number;
  lastRow: MetricsRow | null;
}

/** Scalar slot for ‖g‖² (the objectives use [0, 2K), solvers ≥ 256). */
const GRAD_SLOT = 16;
const PROJ_SLOT = 1024;
const PROJ_STREAM = 0x70000000;

export interface RunOptions {
  /** Continue from this checkpoint (θ, optimizer state, eigenvectors). */
  resume?: Checkpoint;
  /** Clock for wall_s (ms). */
  now?: () => number;
  /** Called once with the run's objectives before the first step (hosts autotune kernels here). */
  prepare?: (objectives: ModelObjective[]) => Promise<void>;
  /** Vectors the host loaded for measures, by measure name (MeasureContext.reference). */
  references?: Record<string, Float32Array>;
  /** Asked after each row: true ends the run there as 'stopped', with a checkpoint of that row (a page's Stop button). */
  stopRequested?: () => boolean;
}

/** `data` may be null for the toy objectives (dataset toy:…), which have none. */
export async function runExperiment(backend: Backend, cfg: RunConfig, data: RunData | null, sink: RunSink, opts: RunOptions = {}): Promise<RunResult> {
  validateRun(cfg);
  const problem = buildProblem(backend, cfg, data);
  if (cfg.eigFreq > 0 && cfg.neigs > problem.P) {
    problem.dispose();
    throw new Error(`--neigs ${cfg.neigs} exceeds the model's ${problem.P} parameters`);
  }
  const ctx = new RunContext(backend, cfg, problem);
  ctx.references = opts.references ?? {};
  try {
    await opts.prepare?.(ctx.problem.tunable);
    return await ctx.run(sink, opts.resume, opts.now ?? (() => performance.now()), opts.stopRequested);
  } finally {
    ctx.dispose();
  }
}

/** Exported for `eoslab measure` (core/ts/run/measure-once.ts), which measures one θ with the loop's own pieces. */
export class RunContext {
  readonly P: number;
  readonly full: Objective;
  readonly testObj: Objective;
  readonly measureObj: Objective;
  readonly opt: Optimizer | null;
  readonly theta: Buf;
  readonly grad: Buf;
  readonly owned: Buf[] = [];
  eigvecs: Buf[] = [];
  sharpness: number | null = null;
  /** The warm start and λ̂ the measurement at step `measuredAt` began from: a checkpoint of that step saves these, so a resumed run repeats the measurement exactly. */
  warmUsed: Buf[] = [];
  sharpnessBefore: number | null = null;
  measuredAt = -1;
  /** Eigenvalues of the latest Hessian solve (measures read them with its vectors). */
  lastValues: number[] = [];
  references: Record<string, Float32Array> = {};
  /** BatchNorm running statistics of a train run (null without BatchNorm, or for gradient flow: no update is a train() step). */
  readonly running: BnRunning | null;

  constructor(readonly backend: Backend, readonly cfg: RunConfig, readonly problem: RunProblem) {
    this.P = problem.P;
    this.full = problem.full;
    this.testObj = problem.test;
    this.measureObj = problem.measure;
    this.opt = cfg.kind === 'train' ? makeOptimizer(cfg.opt) : null;
    this.theta = this.buf('θ');
    this.grad = this.buf('gradient');
    this.running = cfg.kind === 'train' && problem.model ? BnRunning.create(backend, problem.model) : null;
  }

  buf(label: string): Buf {
    const b = this.backend.alloc(this.P, label);
    this.owned.push(b);
    return b;
  }

  async run(sink: RunSink, resume: Checkpoint | undefined, now: () => number, stopRequested?: () => boolean): Promise<RunResult> {
    const { backend, cfg } = this;
    let optState: OptState | null = this.opt ? this.opt.init(backend, this.P) : null;
    let t0 = 0;
    let time = 0;
    let wall0 = 0;
    if (resume) {
      if (resume.theta.length !== this.P) throw new Error(`checkpoint θ has ${resume.theta.length} values, the model ${this.P}: wrong architecture for this run`);
      backend.write(this.theta, resume.theta);
      if (optState) {
        for (const [name, b] of Object.entries(optState.tensors)) {
          const saved = resume.optTensors[name];
          if (!saved) throw new Error(`checkpoint lacks optimizer state '${name}': it was written by a different optimizer`);
          backend.write(b, saved);
        }
        optState.step = resume.optStep;
      }
      this.eigvecs = resume.eigvecs.map((v) => { const b = this.buf('eigenvector'); backend.write(b, v); return b; });
      this.sharpness = resume.sharpness;
      if (this.running) {
        if (!resume.bnRunning) throw new Error('checkpoint lacks BatchNorm running statistics: it was written by an older eoslab; start the run afresh');
        this.running.write(resume.bnRunning);
      }
      t0 = resume.step;
      time = resume.time ?? 0;
      wall0 = resume.wall_s ?? 0;
    } else {
      backend.write(this.theta, this.problem.initialTheta());
    }
    const start = now();
    let last: MetricsRow | null = null;
    const rk4 = cfg.kind === 'flow' ? rk4Scratch(backend, this.P) : null;
    try {
      for (let t = t0; ; t++) {
        const lr = cfg.kind === 'train' ? lrAt(cfg, t) : NaN;
        // Full-batch gradient at θ_t: the row's train loss and ‖g‖ come with it. Under GD it is the
        // update's gradient, so it tracks BatchNorm statistics; a checkpoint of step t already holds
        // that step's, so the first step of a resumed run does not track them twice.
        const tracks = !this.problem.mini && !(resume && t === t0);
        this.full.encodeGrad(this.theta, this.grad, tracks ? this.running : null);
        backend.reduce({ n: this.P, K: 1, x: { buf: this.grad, off: 0, bs: 0 }, y: { buf: this.grad, off: 0, bs: 0 }, slot: GRAD_SLOT });
        const [trainLoss, trainAcc] = await this.full.readLossAcc().then((r) => [r.loss[0], r.acc[0]]);
        const [g2] = await backend.readScalars(GRAD_SLOT, 1);
        const gradNorm = Math.sqrt(g2);
        // --test-freq: the test pass can cost several training passes (10k test examples against 1k), so rows may skip it.
        const te = !fires(cfg.testFreq ?? EVERY_STEP, t) ? { loss: [null], acc: [null] }
          : this.testObj === this.full ? { loss: [trainLoss], acc: [trainAcc] } : await this.testObj.lossAcc(this.theta);
        const finite = Number.isFinite(trainLoss) && trainLoss <= cfg.divergeLoss;
        const threshold = this.opt ? this.opt.threshold(lr, gradNorm) : null;
        let eig: EigRow = { lambdas: Array(cfg.neigs).fill(null) };
        let lambdaA: number | null = null;
        if (finite && cfg.eigFreq > 0 && t % cfg.eigFreq === 0) {
          eig = await this.measureHessian(t, threshold);
          if (cfg.lambdaA && this.opt && optState) lambdaA = await this.measureLambdaA(optState, t);
        }
        const extra = finite && cfg.measures ? await runMeasures(this.measureContext(t, lr, gradNorm, trainLoss, threshold, optState, sink), cfg) : undefined;
        const row: MetricsRow = {
          step: t, time: cfg.kind === 'flow' ? time : undefined, train_loss: trainLoss, train_acc: this.problem.hasAccuracy ? trainAcc : null,
          test_loss: te.loss[0], test_acc: this.problem.hasAccuracy ? te.acc[0] : null, lambdas: eig.lambdas, lambda_A: lambdaA,
          threshold, lr: cfg.kind === 'train' ? lr : null, grad_norm: gradNorm, wall_s: wall0 + (now() - start) / 1000,
          neigs_tracked: eig.tracked ?? null, eig_hvps: eig.hvps ?? null, eig_residual: eig.residual ?? null, eig_converged: eig.converged ?? null, extra,
        };
        await sink.row(row);
        last = row;
        if (finite && cfg.nproj > 0 && t % cfg.iterateFreq === 0 && sink.projection) await sink.projection(t, await this.project());
        const reason = this.stopReason(row, t, time) ?? (stopRequested?.() ? 'stopped' : null);
        const due = cfg.checkpointEvery > 0 && t % cfg.checkpointEvery === 0;
        // The last measured row always gets a checkpoint, unless θ has blown up.
        if ((due && finite) || (reason && reason !== 'diverged')) await sink.checkpoint({ ...await this.checkpoint(t, time, optState), wall_s: row.wall_s });
        if (reason) return { reason, step: t, lastRow: last };
        if (cfg.kind === 'train') {
          await this.update(t, lr, gradNorm, optState!);
        } else {
          time = await this.integrateTick(time, rk4!);
        }
      }
    } finally {
      if (rk4) releaseRk4Scratch(backend, rk4);
      if (optState) this.opt!.dispose(backend, optState);
    }
  }

  stopReason(r: MetricsRow, t: number, time: number): StopReason | null {
    const { cfg } = this;
    if (!(Number.isFinite(r.train_loss) && r.train_loss <= cfg.divergeLoss)) return 'diverged';
    if (cfg.accGoal !== null && r.train_acc !== null && r.train_acc >= cfg.accGoal) return 'acc_goal';
    if (cfg.lossGoal !== null && r.train_loss <= cfg.lossGoal) return 'loss_goal';
    if (cfg.kind === 'train' && t >= cfg.maxSteps) return 'max_steps';
    if (cfg.kind === 'flow' && time >= cfg.maxSteps - 1e-9 * cfg.tick) return 'max_time';
    return null;
  }

  /** One optimizer update from θ_t: full-batch gradient, or a seeded minibatch. */
  async update(t: number, lr: number, gradNorm: number, st: OptState): Promise<void> {
    let g = this.grad, norm = gradNorm;
    const mini = this.problem.mini;
    if (mini) {
      mini.fill(t);
      mini.obj.encodeGrad(this.theta, this.grad, this.running);
      if (this.cfg.opt.name === 'ngd') {
        this.backend.reduce({ n: this.P, K: 1, x: { buf: this.grad, off: 0, bs: 0 }, y: { buf: this.grad, off: 0, bs: 0 }, slot: GRAD_SLOT });
        norm = Math.sqrt((await this.backend.readScalars(GRAD_SLOT, 1))[0]);
      }
      g = this.grad;
    }
    this.opt!.update(this.backend, this.theta, g, st, lr, norm);
  }

  /** Integrates one tick of gradient flow with RK4 steps h = min(α/λ̂, h_max). */
  async integrateTick(time: number, rk4: ReturnType<typeof rk4Scratch>): Promise<number> {
    const { cfg } = this;
    // The last tick is cut at max_time: the record never runs past the integration time asked for.
    const end = Math.min(time + cfg.tick, cfg.maxSteps);
    let tcur = time;
    while (tcur < end - 1e-12 * cfg.tick) {
      const h = Math.min(flowStepSize(cfg.alpha, this.sharpness ?? NaN, cfg.maxStepSize), end - tcur);
      encodeRk4Step(this.backend, this.full, this.theta, h, rk4);
      tcur += h;
    }
    await this.backend.flush();
    return end;
  }

  async measure(op: SymOperator, t: number, warm: Buf[]): Promise<{ values: number[]; vectors: Buf[] }> {
    const r = await this.solveWith(op, this.cfg.neigs, t, warm);
    return { values: r.values, vectors: r.vectors ?? [] };
  }

  /** Top-k of op with the run's eigen-solver, seeded by the step; `slot`: the solver's first scalar slot (a sweep's lockstep lanes each have their own). */
  async solveWith(op: SymOperator, k: number, t: number, warm: Buf[], tol = 1e-4, eigTol = 0, slot = SOLVER_SLOT): Promise<EigResult> {
    const opts = { k, seed: this.cfg.seed * 1_000_003 + t, wantVectors: true, tol, slot };
    // Fewer warm vectors than k: the solvers fill the rest from their seeded streams.
    const init = warm.length > 0 && warm.length <= k ? warm : undefined;
    const solver = this.solverFor(k, op.n);
    const r = solver === 'lanczos' ? await lanczos(this.backend, op, { ...opts, start: init?.[0] })
      : solver === 'lobpcg' ? await lobpcg(this.backend, op, { ...opts, init, eigTol })
      : await powerIteration(this.backend, op, { ...opts, init });
    return r;
  }

  /** The solver a top-k solve on n unknowns runs: LOBPCG needs 3k ≤ n for its [X, R, P] block, tiny problems (toy objectives) use Lanczos, exact there. */
  solverFor(k: number, n: number): RunConfig['eigSolver'] {
    return this.cfg.eigSolver === 'lobpcg' && 3 * k > n ? 'lanczos' : this.cfg.eigSolver;
  }

  /** Scalar slots measureHessian's solver writes (the largest block it may use: --neigs, or its cap under auto). */
  hessianSolverSlots(): number {
    return solverSlots(this.solverFor(this.cfg.neigs, this.P), this.cfg.neigs, this.P);
  }

  /** H(θ_t) of the measurement objective as a K = 1 operator on the run's θ. */
  hessian(): SymOperator {
    return hessianOperator(this.measureObj, this.theta);
  }

  /**
   * λ's of H(θ_t) warm-started from the last measurement (its vectors are the checkpoint's warm start), with the solver's diagnostics.
   * `lane`: a sweep member's lockstep operator for the same H(θ_t) and its solver's scalar slots (measure/lockstep.ts); the same bits as alone.
   */
  async measureHessian(t: number, threshold: number | null, lane?: { op: SymOperator; slot: number }): Promise<EigRow> {
    const { backend, cfg } = this;
    const op = lane?.op ?? this.hessian();
    const slot = lane?.slot ?? SOLVER_SLOT;
    const auto = cfg.neigsAuto != null && threshold !== null ? { line: cfg.neigsAuto * threshold } : null;
    const m = await measureEig({
      backend, n: this.P, k: cfg.neigs, warm: this.eigvecs, auto, tol: EIG_TOL,
      solve: (a) => this.solveWith(op, a.k, t, a.warm, EIG_TOL, EIG_VALUE_TOL, slot),
      fresh: (k) => Array.from({ length: k }, (_, j) => {
        const b = backend.alloc(this.P, 'fresh start');
        backend.random({ out: b, n: this.P, seed: cfg.seed, stream: retryStream(t), index0: j * this.P, dist: 'normal' });
        return b;
      }),
    });
    this.warmUsed.forEach((b) => this.release(b));
    this.warmUsed = this.eigvecs;
    this.sharpnessBefore = this.sharpness;
    this.measuredAt = t;
    this.eigvecs = m.carry;
    this.owned.push(...m.carry);
    this.sharpness = m.values[0];
    this.lastValues = m.carryValues;
    return {
      lambdas: Array.from({ length: cfg.neigs }, (_, i) => m.values[i] ?? null),
      tracked: m.tracked, hvps: m.hvps, residual: m.residual, converged: m.converged ? 1 : 0,
    };
  }

  async measureLambdaA(st: OptState, t: number): Promise<number> {
    const d = this.buf('P^-1/2');
    this.opt!.preconditionerInvSqrt!(this.backend, st, d);
    const op = scaledOperator(this.backend, hessianOperator(this.measureObj, this.theta), d);
    const { values, vectors } = await this.measure(op, t, []);
    vectors.forEach((b) => this.backend.release(b));
    this.release(d);
    return values[0];
  }

  /** What a measure sees at step t: operators, θ_t and its gradient, the last solve; scratch is released after each measure. */
  measureContext(t: number, lr: number, gradNorm: number, trainLoss: number, threshold: number | null, st: OptState | null, sink: RunSink): (scratch: Buf[]) => MeasureContext {
    const { backend, problem } = this;
    return (scratch) => ({
      backend, seed: this.cfg.seed, step: t, lr, batchSize: this.cfg.batchSize, neigs: this.cfg.neigs, P: this.P, theta: this.theta, grad: this.grad, gradNorm, trainLoss,
      full: this.full, curvature: this.measureObj,
      batches: (size) => problem.sampler(size),
      liveBatch: () => {
        if (!problem.mini) return null;
        problem.mini.fill(t);
        return problem.mini.obj;
      },
      eig: this.measuredAt >= 0 ? { step: this.measuredAt, values: this.lastValues, vectors: this.eigvecs } : null,
      threshold, optimizer: this.opt && st ? { opt: this.opt, state: st } : null,
      blocks: problem.blocks,
      initialTheta: () => problem.initialTheta(),
      solve: async (op, k, o = {}) => {
        const r = await this.solveWith(op, k, t, o.warm ?? [], o.tol);
        return { ...r, vectors: r.vectors ?? [] };
      },
      alloc: (label) => { const b = backend.alloc(this.P, label); scratch.push(b); return b; },
      table: async (name, columns, rows) => { await sink.table?.({ name, step: t, columns, rows }); },
      slot: MEASURE_SLOT,
      reference: (name) => this.references[name] ?? null,
    });
  }

  /** Fixed random projection of θ: coordinate j = ⟨r_j, θ⟩ with r_j ~ N(0, I/P) drawn from Philox (no storage). */
  async project(): Promise<Float32Array> {
    const n = this.cfg.nproj, r = this.buf('projector');
    const out = new Float32Array(n);
    const chunk = Math.min(n, 1024);
    for (let j0 = 0; j0 < n; j0 += chunk) {
      const m = Math.min(chunk, n - j0);
      for (let j = 0; j < m; j++) {
        this.backend.random({ out: r, n: this.P, seed: this.cfg.seed, stream: PROJ_STREAM + j0 + j, dist: 'normal', scale: 1 / Math.sqrt(this.P) });
        this.backend.reduce({ n: this.P, K: 1, x: { buf: r, off: 0, bs: 0 }, y: { buf: this.theta, off: 0, bs: 0 }, slot: PROJ_SLOT + j });
      }
      out.set(Float32Array.from(await this.backend.readScalars(PROJ_SLOT, m)), j0);
    }
    this.release(r);
    return out;
  }

  async checkpoint(step: number, time: number, st: OptState | null): Promise<Checkpoint> {
    const optTensors: Record<string, Float32Array> = {};
    if (st) for (const [k, b] of Object.entries(st.tensors)) optTensors[k] = await this.backend.read(b);
    return {
      step, time: this.cfg.kind === 'flow' ? time : undefined, theta: await this.backend.read(this.theta),
      optTensors, optStep: st?.step ?? 0,
      eigvecs: await Promise.all((this.measuredAt === step ? this.warmUsed : this.eigvecs).map((b) => this.backend.read(b))),
      sharpness: this.measuredAt === step ? this.sharpnessBefore : this.sharpness,
      ...(this.running ? { bnRunning: await this.running.read() } : {}),
    };
  }

  release(b: Buf): void {
    const i = this.owned.indexOf(b);
    if (i >= 0) this.owned.splice(i, 1);
    this.backend.release(b);
  }

  dispose(): void {
    this.owned.forEach((b) => this.backend.release(b));
    this.running?.dispose();
    this.problem.dispose();
  }
}
