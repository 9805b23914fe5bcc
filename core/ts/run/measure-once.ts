// `eoslab measure`: one row of measurements at a given θ (a checkpoint
// trained anywhere), with the run loop's own pieces: the problem, the
// RunContext's Hessian solve and measure context, and runMeasures. Nothing
// trains; the optimizer (for the threshold and the one-step loss change)
// starts from a fresh state.
import type { Backend } from '../backend/types.js';
import type { ModelObjective } from '../objective/model-objective.js';
import { runMeasures } from '../measure/run-measures.js';
import { dot, MEASURE_SLOT, type MeasureValues } from '../measure/suite.js';
import { validateRun, type RunConfig } from './config.js';
import { RunContext } from './experiment.js';
import { buildProblem, type RunData } from './problem.js';
import type { MeasureTable } from './records.js';

export interface MeasureOnceOptions {
  /** The step the measures see (their seeded draws depend on it), e.g. the checkpoint's. */
  step: number;
  /** Measure λ_1…λ_neigs of the curvature set. */
  eig: boolean;
  /** Vectors the host loaded for measures (MeasureContext.reference). */
  references?: Record<string, Float32Array>;
  table?: (t: MeasureTable) => void | Promise<void>;
  prepare?: (objectives: ModelObjective[]) => Promise<void>;
}

export interface MeasuredRow {
  step: number;
  train_loss: number;
  train_acc: number | null;
  test_loss: number;
  test_acc: number | null;
  lambdas: (number | null)[];
  grad_norm: number;
  threshold: number | null;
  extra: MeasureValues;
}

/** Every measure cfg.measures names, at θ (cfg.lr is the step the optimizer would take; NaN: none). */
export async function measureOnce(backend: Backend, cfg: RunConfig, data: RunData | null, theta: Float32Array, o: MeasureOnceOptions): Promise<MeasuredRow> {
  validateRun({ ...cfg, lr: Number.isFinite(cfg.lr) ? cfg.lr : 1 });
  const problem = buildProblem(backend, cfg, data);
  if (theta.length !== problem.P) {
    problem.dispose();
    throw new Error(`θ has ${theta.length} values, the model ${problem.P} parameters: wrong architecture for this checkpoint`);
  }
  if (o.eig && cfg.neigs > problem.P) {
    problem.dispose();
    throw new Error(`--neigs ${cfg.neigs} exceeds the model's ${problem.P} parameters`);
  }
  const rc = new RunContext(backend, cfg, problem);
  rc.references = o.references ?? {};
  const state = rc.opt ? rc.opt.init(backend, rc.P) : null;
  try {
    await o.prepare?.(problem.tunable);
    const t = o.step, lr = cfg.lr;
    backend.write(rc.theta, theta);
    rc.full.encodeGrad(rc.theta, rc.grad);
    const la = await rc.full.readLossAcc();
    const gradNorm = Math.sqrt(await dot(backend, rc.grad, rc.grad, rc.P, MEASURE_SLOT));
    const te = rc.testObj === rc.full ? la : await rc.testObj.lossAcc(rc.theta);
    const threshold = rc.opt && Number.isFinite(lr) ? rc.opt.threshold(lr, gradNorm) : null;
    const lambdas = o.eig ? (await rc.measureHessian(t, threshold)).lambdas : [];
    const sink = { row: () => {}, checkpoint: () => {}, table: o.table };
    const extra = cfg.measures ? await runMeasures(rc.measureContext(t, lr, gradNorm, la.loss[0], threshold, state, sink), cfg) : {};
    return {
      step: t, train_loss: la.loss[0], train_acc: problem.hasAccuracy ? la.acc[0] : null, test_loss: te.loss[0], test_acc: problem.hasAccuracy ? te.acc[0] : null,
      lambdas, grad_norm: gradNorm, threshold, extra,
    };
  } finally {
    if (state) rc.opt!.dispose(backend, state);
    rc.dispose();
  }
}
