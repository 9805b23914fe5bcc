// A sweep group: K members that share dataset (and its seed), architecture,
// loss, optimizer kind and batch size train in lockstep, their losses and
// gradients computed as K batched models in every dispatch (θ is K·S, member
// j at offset j·S, S = alignedStride(P): each member's views as aligned as
// alone, so WebGPU runs the same kernels on them). What differs per member — η and its drops, β/β1/β2/ε,
// init seed, stop rules, eigen settings — lives in its SweepMember, which
// is a single run's RunContext over the group's shared K = 1 objectives: it
// updates its own θ with its own optimizer (one dispatch per member, the
// single run's op on the single run's operands, so the bits agree).
//
// Why per-member data is not batched: members of different dataset seeds
// have different data (synthetic sets are drawn from it) and different
// minibatch orders, so the planner puts them in different groups; a group's
// members share every minibatch.
//
// Divergence: a member whose loss is non-finite or above --diverge-loss is
// recorded `diverged` at that step and its θ slice is zeroed, so its NaNs
// never enter another dispatch. The batched kernels keep models apart (every
// reduction writes per-model slots; passes.test.ts checks batched = alone),
// so a finished member cannot affect the others either way.
//
// Repacking: a stopped member's slice would still be computed every step, so
// once at most half the group's slots are active the active slices move to
// the front and the batched objectives are rebuilt for that many models
// (halving bounds the rebuilds by log₂ K; per model the bits do not depend
// on K).
//
// Eigen-measurements: the members measuring at a step run their solvers
// (the single run's solver, retry and seed rule, each on its own buffers and
// scalar slots) at once, and every Hessian-vector product they wait on goes
// out as one K-model product of the measurement set, members at their θ
// slices (measure/lockstep.ts): per model the same bits as the K = 1 product,
// so each member's λ's equal its run alone. λ_A and the measurement suite
// run one member at a time on the K = 1 objectives over the same device data.
import type { Backend, Buf } from '../backend/types.js';
import { alignedStride, ModelObjective } from '../objective/model-objective.js';
import type { Objective } from '../objective/types.js';
import { initParams, namedInitScheme } from '../nn/init.js';
import { parseArchId } from '../nn/arch.js';
import { validateRun, type RunConfig } from './config.js';
import type { Checkpoint, RunSink } from './records.js';
import { buildProblem, type RunData } from './problem.js';
import type { EigRow, RunResult } from './experiment.js';
import { SweepMember, type MemberSlices } from './sweep-member.js';
import { copyBits } from '../backend/copy-bits.js';
import { laneSlots, LockstepHvp } from '../measure/lockstep.js';

/** Batched objectives take scalar slots [0, 2K) and solvers ≥ 256: the per-member ‖g‖² slots [2K, 3K) fit below them. */
export const MAX_GROUP_K = 64;

export interface SweepMemberSpec {
  cfg: RunConfig;
  sink: RunSink;
  resume?: Checkpoint;
  /** Host-loaded reference vectors of its measures (RunOptions.references). */
  references?: Record<string, Float32Array>;
  /** Called once when the member stops (its last row and checkpoint are written). */
  done?(r: RunResult): void | Promise<void>;
}

export interface SweepGroupOptions {
  now?: () => number;
  /**
   * Members whose Hessian solves run at once, in lockstep (default: all that
   * measure at a step; the memory plan counts a solver per member). 1: one
   * member at a time on the K = 1 objective, as before lockstep solves.
   */
  eigLanes?: number;
  /** Called once with the group's model objectives before the first step (hosts autotune here). */
  prepare?: (objectives: ModelObjective[]) => Promise<void>;
}

/** The settings members must share to be batched; equal keys run in one group. */
export function sweepGroupKey(c: RunConfig): string {
  return JSON.stringify([c.kind, c.dataset, c.datasetSeed, c.arch, c.loss, c.opt.name, c.batchSize, c.physicalBatchSize, c.abridgedSize]);
}

/** One line naming what a sweep cannot do for this member, or null. */
export function sweepUnsupported(c: RunConfig): string | null {
  if (c.kind !== 'train') return 'a sweep trains (gradient flow is not swept)';
  if (/^(toy|quadratic):/.test(c.dataset)) return `a sweep batches layer-list models on data, and ${c.dataset} has none: run \`eoslab train\` per member`;
  if (c.init) return '--init is not swept (members are seeded): run `eoslab train` per member';
  return null;
}

/**
 * Runs one group to the end of every member. Returns each member's result
 * in input order. A member that starts from a checkpoint may be at another
 * step than the others in full-batch groups; minibatch groups need one
 * common step (every member sees the same minibatch).
 */
export async function runSweepGroup(backend: Backend, specs: SweepMemberSpec[], data: RunData, opts: SweepGroupOptions = {}): Promise<RunResult[]> {
  if (specs.length === 0) return [];
  if (specs.length > MAX_GROUP_K) throw new Error(`a sweep group holds at most ${MAX_GROUP_K} members, got ${specs.length}: use --max-k`);
  const base = specs[0].cfg, key = sweepGroupKey(base);
  for (const s of specs) {
    validateRun(s.cfg);
    const why = sweepUnsupported(s.cfg);
    if (why) throw new Error(why);
    if (sweepGroupKey(s.cfg) !== key) throw new Error('members of one sweep group must share dataset, dataset seed, architecture, loss, optimizer, batch size, physical batch and abridged size');
  }
  if (base.batchSize > 0 && new Set(specs.map((s) => s.resume?.step ?? 0)).size > 1) {
    throw new Error('minibatch members of one group must start at the same step: split the group by resume step');
  }
  const problem = buildProblem(backend, base, data);
  const K = specs.length, P = problem.P, S = alignedStride(P);
  for (const s of specs) if (s.cfg.eigFreq > 0 && s.cfg.neigs > P) throw new Error(`--neigs ${s.cfg.neigs} exceeds the model's ${P} parameters`);
  const model = problem.model!;
  let objs: ModelObjective[] = [];
  /** The group's batched objectives for k models (the previous ones disposed). */
  const objectives = (k: number): GroupObjectives => {
    objs.forEach((o) => o.dispose());
    const batched = (o: Objective) => new ModelObjective(backend, model, (o as ModelObjective).data, { loss: base.loss, K: k, stride: S, physicalBatch: base.physicalBatchSize });
    const fullK = batched(problem.full);
    const testK = problem.test === problem.full ? fullK : batched(problem.test);
    const miniK = problem.mini ? batched(problem.mini.obj) : null;
    const measureK = problem.measure === problem.full ? fullK : batched(problem.measure);
    objs = [fullK, ...(testK === fullK ? [] : [testK]), ...(miniK ? [miniK] : []), ...(measureK === fullK ? [] : [measureK])];
    return { fullK, testK, miniK, measureK, mini: problem.mini, hasAccuracy: problem.hasAccuracy, all: objs };
  };
  const first = objectives(K);
  const thetaK = backend.alloc(K * S, 'θ[K]'), gradK = backend.alloc(K * S, 'gradient[K]');
  const members: SweepMember[] = [];
  try {
    const archInit = parseArchId(base.arch, data.c).init;
    specs.forEach((s, j) => {
      const m = new SweepMember(backend, j, s.cfg, s.sink, problem);
      m.ctx.references = s.references ?? {};
      members.push(m);
      m.start(s.resume ? new Float32Array(0) : initParams(model, { seed: s.cfg.seed, scheme: namedInitScheme(s.cfg.initScheme, archInit), scale: s.cfg.initScale ?? 1 }), s.resume);
    });
    await opts.prepare?.(first.all);
    const lanes = opts.eigLanes ?? Infinity;
    if (!(lanes >= 1)) throw new Error(`eigLanes must be at least 1, got ${opts.eigLanes}`);
    const loop = new GroupLoop(backend, members, specs, first, objectives, thetaK, gradK, opts.now ?? (() => performance.now()), lanes, opts.prepare !== undefined);
    await loop.run();
    return members.map((m) => m.result!);
  } finally {
    members.forEach((m) => m.dispose());
    objs.forEach((o) => o.dispose());
    backend.release(thetaK);
    backend.release(gradK);
    problem.dispose();
  }
}

interface GroupObjectives {
  fullK: ModelObjective;
  testK: ModelObjective;
  miniK: ModelObjective | null;
  /** The measurement set's (--abridged-size) K-model objective: fullK when that is the whole training set. */
  measureK: ModelObjective;
  mini: { fill(t: number): void } | null;
  hasAccuracy: boolean;
  all: ModelObjective[];
}

class GroupLoop {
  /** Models in the batched objectives now (slots 0..K-1 of θ and the gradient). */
  K: number;
  readonly P: number;
  /** Values per member slot in θ and the gradient (alignedStride(P)). */
  readonly S: number;
  readonly start: number;
  /** Each member's slot: its slice of θ and the gradient, its loss and ‖g‖² slots. */
  readonly slot = new Map<SweepMember, number>();

  constructor(readonly backend: Backend, readonly members: SweepMember[], readonly specs: SweepMemberSpec[], public o: GroupObjectives,
              readonly objectives: (k: number) => GroupObjectives, public thetaK: Buf, public gradK: Buf, readonly now: () => number,
              readonly eigLanes: number, readonly tuned: boolean) {
    this.K = members.length;
    this.P = members[0].P;
    this.S = alignedStride(this.P);
    this.start = now();
    members.forEach((m) => this.slot.set(m, m.index));
  }

  /** Moves the active members' θ slices to the front (via the gradient buffer, then the two swap) and rebuilds the objectives for them. */
  async repack(active: SweepMember[]): Promise<void> {
    const { backend, P, S } = this;
    active.forEach((m, s) => copyBits(backend, this.gradK, s * S, this.thetaK, this.slot.get(m)! * S, P));
    active.forEach((m, s) => this.slot.set(m, s));
    [this.thetaK, this.gradK] = [this.gradK, this.thetaK];
    this.K = active.length;
    this.o = this.objectives(this.K);
    // Autotune only where the host did (its prepare): choices are keyed by one model's shape, so
    // this finds them cached. A library caller that never tuned keeps its kernels: tuning here
    // would change them mid-sweep, and for the caller's later runs.
    if (this.tuned) for (const o of this.o.all) await o.tune();
  }

  async run(): Promise<void> {
    const { backend, P, S } = this;
    // Every slice holds a finite θ before the first dispatch; from here on the members' θ_t live in their slices.
    backend.vector({ n: this.K * S, y: this.thetaK, beta: 0, gamma: 0 });
    for (const m of this.members) copyBits(backend, this.thetaK, m.index * S, m.theta, 0, P);
    let active = this.members.slice();
    while (active.length > 0) {
      if (2 * active.length <= this.K) await this.repack(active);
      // Full-batch gradient of all K at θ_t: the rows' train losses and ‖g‖ come with it.
      this.o.fullK.encodeGrad(this.thetaK, this.gradK);
      const tr = await this.o.fullK.readLossAcc();
      const norms = await this.gradNorms(active);
      const due = active.map((m) => m.testDue());
      const te = !due.some(Boolean) || this.o.testK === this.o.fullK ? tr : await this.o.testK.lossAcc(this.thetaK);
      const eigs = await this.measureHessians(active, tr.loss, norms);
      const next: SweepMember[] = [];
      for (const [a, m] of active.entries()) {
        const s = this.slot.get(m)!;
        const losses = { trainLoss: tr.loss[s], trainAcc: tr.acc[s], testLoss: due[a] ? te.loss[s] : null, testAcc: due[a] ? te.acc[s] : null };
        const r = await m.row(losses, norms.get(m)!, this.o.hasAccuracy, (this.now() - this.start) / 1000, this.slices(m), eigs.get(m));
        if (!r) { next.push(m); continue; }
        await this.specs[m.index].done?.(r);
        backend.vector({ n: P, y: this.thetaK, yOff: s * S, beta: 0, gamma: 0 });
      }
      active = next;
      if (active.length) await this.update(active, norms);
    }
  }

  slices(m: SweepMember): MemberSlices {
    return { thetaK: this.thetaK, gradK: this.gradK, off: this.slot.get(m)! * this.S };
  }

  /**
   * The Hessian measurements of the members due at this row, their solvers in
   * lockstep (at most eigLanes, and as many as the scalar slots hold, at a
   * time). A member it leaves out measures in its row, alone: all of them
   * when fewer than two are due or eigLanes is 1.
   */
  async measureHessians(active: SweepMember[], losses: Float64Array, norms: Map<SweepMember, number>): Promise<Map<SweepMember, EigRow>> {
    const out = new Map<SweepMember, EigRow>();
    const due = active.filter((m) => m.eigDue(losses[this.slot.get(m)!]));
    if (due.length < 2 || this.eigLanes <= 1) return out;
    for (const wave of laneSlots(due.map((m) => m.ctx.hessianSolverSlots()), this.backend.scalarCapacity, this.eigLanes)) {
      const lock = new LockstepHvp(this.backend, this.o.measureK, this.thetaK, this.S);
      try {
        const rows = await lock.run(wave.map(({ lane, slot }) => () => {
          const m = due[lane];
          // Its own θ too: stragglers' products run on the K = 1 operator.
          m.sync(this.slices(m));
          return m.ctx.measureHessian(m.t, m.threshold(norms.get(m)!), { op: lock.operator(this.slot.get(m)!, m.ctx.hessian()), slot });
        }));
        wave.forEach(({ lane }, i) => out.set(due[lane], rows[i]));
      } finally {
        lock.dispose();
      }
    }
    return out;
  }

  /**
   * ‖g‖ of every member in one batched reduction over the K slices of the
   * gradient: per model the single run's reduction over its own buffer.
   */
  async gradNorms(active: SweepMember[]): Promise<Map<SweepMember, number>> {
    const { backend, K, P, S } = this;
    const g = { buf: this.gradK, off: 0, bs: S };
    backend.reduce({ n: P, K, x: g, y: g, slot: 2 * K });
    const g2 = await backend.readScalars(2 * K, K);
    return new Map(active.map((m) => [m, Math.sqrt(g2[this.slot.get(m)!])]));
  }

  /** One optimizer update per active member on its slice, from θ_t: the full-batch gradient, or the shared minibatch t. */
  async update(active: SweepMember[], norms: Map<SweepMember, number>): Promise<void> {
    const { S } = this;
    if (this.o.miniK) {
      // Minibatch groups move in lockstep: every member is at the same step.
      this.o.mini!.fill(active[0].t);
      this.o.miniK.encodeGrad(this.thetaK, this.gradK);
      if (active[0].cfg.opt.name === 'ngd') norms = await this.gradNorms(active);
    }
    for (const m of active) m.update(this.thetaK, this.gradK, this.slot.get(m)! * S, norms.get(m)!);
  }
}
