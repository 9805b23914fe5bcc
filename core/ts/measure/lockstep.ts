// Lockstep eigen-solves: several models' solvers (a sweep's members at one
// step) run at once, and every operator application they wait on goes to the
// device as ONE Hessian-vector product of the K-model objective, each model's
// vectors at its offset z·stride, as the training step batches them.
//
// Each lane (one model's solve) gets an operator whose apply enqueues its
// vectors and waits. When every lane still running is waiting there, the
// products are issued together: the waiting lanes' vectors are copied into
// their slots of K-strided buffers (every other slot zero: the batched
// kernels keep models apart, so what another slot holds cannot reach a
// lane's bits), one encodeHvp over all of them — a block of several vectors
// as that many rounds of the one call — and the products copied back. A lane
// that finishes (or throws) stops counting, so it never holds the others up;
// a lane awaiting a read-back still counts, and the others wait for it to
// reach its next application.
//
// Per model the K-model product is the K = 1 product bit for bit (the
// batched kernels sum each model's terms in the order one model alone does;
// tests/lockstep.test.ts checks it on both backends, MLP and CNN), so each
// lane's solve is the one it would run alone. When at most half the K models
// are waiting (the stragglers of a sweep), computing all K would cost more
// than their own K = 1 products: those go one lane at a time through the
// lane's own operator, with the same bits.
//
// The lanes' solvers must not share scalar slots: laneSlots lays their
// ranges out side by side above LANE_SLOT.
import type { Backend, Buf } from '../backend/types.js';
import { copyBits } from '../backend/copy-bits.js';
import type { Objective } from '../objective/types.js';
import type { SymOperator } from './operator.js';

/** First scalar slot of the lanes' solver ranges: a run alone uses only slots below it (objectives, ‖g‖², its solver, projections, measures). */
export const LANE_SLOT = 4096;
/** Lane ranges start at multiples of 64 slots, as SOLVER_SLOT does: a matmul reading a solver's coefficients from the scalars buffer sees the offset alignment it sees alone. */
const LANE_ALIGN = 64;

/**
 * Slot ranges for lanes needing `spans[i]` slots each, from LANE_SLOT up to
 * `capacity`, in waves: lanes whose ranges do not fit beside the earlier
 * ones (and lanes past `maxLanes`) go in a later wave. Returns, per wave,
 * the lanes' indices and first slots; a lane too large for the lanes' slots
 * at all is in no wave (its solve runs alone, from SOLVER_SLOT).
 */
export function laneSlots(spans: number[], capacity: number, maxLanes = Infinity): { lane: number; slot: number }[][] {
  const waves: { lane: number; slot: number }[][] = [];
  let wave: { lane: number; slot: number }[] = [], next = LANE_SLOT;
  spans.forEach((span, lane) => {
    const size = Math.ceil(span / LANE_ALIGN) * LANE_ALIGN;
    if (LANE_SLOT + size > capacity) return;
    if (next + size > capacity || wave.length >= maxLanes) { waves.push(wave); wave = []; next = LANE_SLOT; }
    wave.push({ lane, slot: next });
    next += size;
  });
  if (wave.length) waves.push(wave);
  return waves;
}

interface Request { model: number; alone: SymOperator; vs: Buf[]; outs: Buf[]; done: (e?: unknown) => void }

export class LockstepHvp {
  /** K-model products issued (one encodeHvp each, however many rounds). */
  batched = 0;
  /** Lane applications issued through their own K = 1 operator (at most half the models waiting). */
  solo = 0;
  private live = 0;
  private waiting: Request[] = [];
  private readonly ins: Buf[] = [];
  private readonly outs: Buf[] = [];

  /**
   * `obj`: the K-model objective; `theta`: its K·stride parameters, model z
   * at z·stride (the lanes' θ, read where the products are issued).
   */
  constructor(readonly backend: Backend, readonly obj: Objective, readonly theta: Buf, readonly stride: number) {}

  /**
   * The operator of lane `model` (its slot in the K-model θ): H(θ_model) on
   * P-vectors. `alone` is the same Hessian as a K = 1 operator, used when
   * too few lanes wait to be worth all K models.
   */
  operator(model: number, alone: SymOperator): SymOperator {
    if (!Number.isInteger(model) || model < 0 || model >= this.obj.K) throw new Error(`lockstep: model ${model} is not one of the objective's ${this.obj.K}`);
    if (alone.n !== this.obj.P) throw new Error(`lockstep: lane operator on ${alone.n} unknowns, the objective's models have ${this.obj.P}`);
    let count = 0;
    return {
      n: this.obj.P,
      get applications() { return count; },
      apply: (vs, outs) => {
        if (vs.length !== outs.length) throw new Error('lockstep: need one output per vector');
        count += vs.length;
        return new Promise<void>((resolve, reject) => {
          this.waiting.push({ model, alone, vs, outs, done: (e) => (e === undefined ? resolve() : reject(e)) });
          this.maybeIssue();
        });
      },
    };
  }

  /** Runs the lanes' solves together (each calls apply on its own operator); their results in order, or the first error once every lane has stopped. */
  async run<T>(lanes: (() => Promise<T>)[]): Promise<T[]> {
    if (this.live > 0) throw new Error('lockstep: run() is already in progress');
    // Every lane counts from the start: the first to apply must wait for the rest.
    this.live = lanes.length;
    const settled = await Promise.allSettled(lanes.map(async (lane) => {
      try {
        return await lane();
      } finally {
        this.live--;
        this.maybeIssue();
      }
    }));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
  }

  private maybeIssue(): void {
    if (this.waiting.length === 0 || this.waiting.length < this.live) return;
    const reqs = this.waiting;
    this.waiting = [];
    const fail = (e: unknown) => reqs.forEach((r) => r.done(e));
    let pending: Promise<unknown> | null = null;
    try {
      if (2 * reqs.length <= this.obj.K) pending = this.issueAlone(reqs);
      else this.issueBatched(reqs);
    } catch (e) {
      fail(e);
      return;
    }
    if (pending) pending.then(() => reqs.forEach((r) => r.done()), fail);
    else reqs.forEach((r) => r.done());
  }

  /** Each lane through its own K = 1 operator; a promise only where one of those is asynchronous. */
  private issueAlone(reqs: Request[]): Promise<unknown> | null {
    const waits = reqs.map((r) => r.alone.apply(r.vs, r.outs)).filter((p): p is Promise<void> => p instanceof Promise);
    this.solo += reqs.length;
    return waits.length ? Promise.all(waits) : null;
  }

  private issueBatched(reqs: Request[]): void {
    const { backend, stride: S } = this, n = this.obj.P, K = this.obj.K;
    const rounds = Math.max(...reqs.map((r) => r.vs.length));
    while (this.ins.length < rounds) {
      this.ins.push(backend.alloc(K * S, 'lockstep directions'));
      this.outs.push(backend.alloc(K * S, 'lockstep products'));
    }
    for (let r = 0; r < rounds; r++) backend.vector({ n: K * S, y: this.ins[r], beta: 0, gamma: 0 });
    for (const q of reqs) q.vs.forEach((v, r) => copyBits(backend, this.ins[r], q.model * S, v, 0, n));
    this.obj.encodeHvp(this.theta, this.ins.slice(0, rounds), this.outs.slice(0, rounds));
    for (const q of reqs) q.outs.forEach((o, r) => copyBits(backend, o, 0, this.outs[r], q.model * S, n));
    this.batched++;
  }

  dispose(): void {
    for (const b of [...this.ins, ...this.outs]) this.backend.release(b);
    this.ins.length = 0;
    this.outs.length = 0;
  }
}
