// A sweep group: K members that share dataset (and its seed), architecture,
// loss, optimizer kind and batch size train in lockstep, their losses and
// gradients computed as K batched models in every dispatch (θ is K·P, member
// j at offset j·P). What differs per member — η and its drops, β/β1/β2/ε,
// init seed, stop rules, eigen settings — lives in its SweepMember, which
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
// Eigen-measurements run one member at a time on a K = 1 objective over the
// same device data, with the single run's solver and seed rule. A lockstep
// (batched) solver would be faster; it is left for later.
import type { Backend, Buf } from '../backend/types.js';
import { ModelObjective } from '../objective/model-objective.js';
import type { Objective } from '../objective/types.js';
import { initParams } from '../nn/init.js';
import { parseArchId } from '../nn/arch.js';
import { lrAt, validateRun, type RunConfig } from './config.js';
import type { Checkpoint, MetricsRow, RunSink } from './records.js';
import { buildProblem, type RunData } from './problem.js';
import type { RunResult } from './experiment.js';
import { copySlice, SweepMember } from './sweep-member.js';

/** Batched objectives take scalar slots [0, 2K) and solvers ≥ 256: the per-member ‖g‖² slots [2K, 3K) fit below them. */
export const MAX_GROUP_K = 64;

export interface SweepMemberSpec {
  cfg: RunConfig;
  sink: RunSink;
  resume?: Checkpoint;
  /** Called once when the member stops (its last row and checkpoint are written). */
  done?(r: RunResult): void | Promise<void>;
}

export interface SweepGroupOptions {
  now?: () => number;
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
  if (c.measures && Object.keys(c.measures).length) return 'measurement-suite flags are not swept yet: run `eoslab train` per member';
  if (c.nproj > 0) return '--nproj is not swept yet: run `eoslab train` per member';
  if (c.init) return '--init is not swept: run `eoslab train` per member';
  // Read loosely: settings newer than the sweep loop, which it does not implement yet, must be at their defaults.
  const extra = c as unknown as { neigsAuto?: number | null; testFreq?: { every: number; after: unknown[] } };
  if (extra.neigsAuto != null) return '--neigs auto:F is not swept yet: give --neigs K';
  if (extra.testFreq && (extra.testFreq.every !== 1 || extra.testFreq.after.length)) return '--test-freq is not swept yet: the sweep evaluates the test set every step';
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
  const K = specs.length, P = problem.P;
  for (const s of specs) if (s.cfg.eigFreq > 0 && s.cfg.neigs > P) throw new Error(`--neigs ${s.cfg.neigs} exceeds the model's ${P} parameters`);
  const model = problem.model!;
  const batched = (o: Objective) => new ModelObjective(backend, model, (o as ModelObjective).data, { loss: base.loss, K, physicalBatch: base.physicalBatchSize });
  const fullK = batched(problem.full);
  const testK = problem.test === problem.full ? fullK : batched(problem.test);
  const miniK = problem.mini ? batched(problem.mini.obj) : null;
  const objs = [fullK, ...(testK === fullK ? [] : [testK]), ...(miniK ? [miniK] : [])];
  const thetaK = backend.alloc(K * P, 'θ[K]'), gradK = backend.alloc(K * P, 'gradient[K]');
  const members: SweepMember[] = [];
  try {
    const scheme = parseArchId(base.arch, data.c).init;
    specs.forEach((s, j) => {
      const m = new SweepMember(backend, j, s.cfg, s.sink, P);
      members.push(m);
      m.start(s.resume ? new Float32Array(0) : initParams(model, { seed: s.cfg.seed, scheme }), s.resume);
    });
    await opts.prepare?.(objs);
    const loop = new GroupLoop(backend, members, specs, { fullK, testK, miniK, measure: problem.measure, mini: problem.mini }, thetaK, gradK, opts.now ?? (() => performance.now()));
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
  measure: Objective;
  mini: { fill(t: number): void } | null;
}

class GroupLoop {
  readonly K: number;
  readonly P: number;
  readonly start: number;

  constructor(readonly backend: Backend, readonly members: SweepMember[], readonly specs: SweepMemberSpec[], readonly o: GroupObjectives,
              readonly thetaK: Buf, readonly gradK: Buf, readonly now: () => number) {
    this.K = members.length;
    this.P = members[0].P;
    this.start = now();
  }

  async run(): Promise<void> {
    const { backend, K, P } = this;
    // Every slice holds a finite θ before the first dispatch: the members' θ₀ (active ones are re-packed every step).
    backend.vector({ n: K * P, y: this.thetaK, beta: 0, gamma: 0 });
    let active = this.members.slice();
    while (active.length > 0) {
      for (const m of active) copySlice(backend, this.thetaK, m.index * P, m.theta, 0, P);
      // Full-batch gradient of all K at θ_t: the rows' train losses and ‖g‖ come with it.
      this.o.fullK.encodeGrad(this.thetaK, this.gradK);
      const tr = await this.o.fullK.readLossAcc();
      const norms = await this.gradNorms(active);
      const te = this.o.testK === this.o.fullK ? tr : await this.o.testK.lossAcc(this.thetaK);
      const next: SweepMember[] = [];
      for (const m of active) {
        const j = m.index;
        if (await this.row(m, tr.loss[j], tr.acc[j], te.loss[j], te.acc[j], norms.get(j)!)) next.push(m);
        else backend.vector({ n: P, y: this.thetaK, yOff: j * P, beta: 0, gamma: 0 });
      }
      active = next;
      if (active.length) await this.update(active, norms);
    }
  }

  /** ‖g‖ of each member from its own copy of its gradient slice (the single run's reduction over its own buffer). */
  async gradNorms(active: SweepMember[]): Promise<Map<number, number>> {
    const { backend, K, P } = this;
    for (const m of active) {
      copySlice(backend, m.grad, 0, this.gradK, m.index * P, P);
      backend.reduce({ n: P, K: 1, x: { buf: m.grad, off: 0, bs: 0 }, y: { buf: m.grad, off: 0, bs: 0 }, slot: 2 * K + m.index });
    }
    const g2 = await backend.readScalars(2 * K, K);
    return new Map(active.map((m) => [m.index, Math.sqrt(g2[m.index])]));
  }

  /** Measures, records and checkpoints member m's row; returns whether it goes on. */
  async row(m: SweepMember, trainLoss: number, trainAcc: number, testLoss: number, testAcc: number, gradNorm: number): Promise<boolean> {
    const { cfg } = m, t = m.t, lr = lrAt(cfg, t);
    const finite = Number.isFinite(trainLoss) && trainLoss <= cfg.divergeLoss;
    let lambdas: (number | null)[] = Array(cfg.neigs).fill(null);
    let lambdaA: number | null = null;
    if (finite && cfg.eigFreq > 0 && t % cfg.eigFreq === 0) {
      lambdas = await m.measureHessian(this.o.measure);
      if (cfg.lambdaA) lambdaA = await m.measureLambdaA(this.o.measure);
    }
    const hasAcc = this.o.fullK.data.c > 1;
    const row: MetricsRow = {
      step: t, train_loss: trainLoss, train_acc: hasAcc ? trainAcc : null, test_loss: testLoss, test_acc: hasAcc ? testAcc : null,
      lambdas, lambda_A: lambdaA, threshold: m.opt.threshold(lr, gradNorm), lr, grad_norm: gradNorm,
      wall_s: m.wall0 + (this.now() - this.start) / 1000,
    };
    await m.sink.row(row);
    m.last = row;
    const reason = m.stopReason(row);
    const due = cfg.checkpointEvery > 0 && t % cfg.checkpointEvery === 0;
    if ((due && finite) || (reason && reason !== 'diverged')) await m.sink.checkpoint({ ...await m.checkpoint(), wall_s: row.wall_s });
    if (!reason) return true;
    m.result = { reason, step: t, lastRow: row };
    await this.specs[m.index].done?.(m.result);
    return false;
  }

  /** One optimizer update per active member from θ_t: the full-batch gradient, or the shared minibatch t. */
  async update(active: SweepMember[], norms: Map<number, number>): Promise<void> {
    const { backend, P, K } = this;
    if (this.o.miniK) {
      // Minibatch groups move in lockstep: every member is at the same step.
      this.o.mini!.fill(active[0].t);
      this.o.miniK.encodeGrad(this.thetaK, this.gradK);
      for (const m of active) copySlice(backend, m.grad, 0, this.gradK, m.index * P, P);
      if (active[0].cfg.opt.name === 'ngd') {
        for (const m of active) backend.reduce({ n: P, K: 1, x: { buf: m.grad, off: 0, bs: 0 }, y: { buf: m.grad, off: 0, bs: 0 }, slot: 2 * K + m.index });
        const g2 = await backend.readScalars(2 * K, K);
        for (const m of active) norms.set(m.index, Math.sqrt(g2[m.index]));
      }
    }
    for (const m of active) {
      m.opt.update(backend, m.theta, m.grad, m.st, lrAt(m.cfg, m.t), norms.get(m.index));
      m.t++;
    }
  }
}
