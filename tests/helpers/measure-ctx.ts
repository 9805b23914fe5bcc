// A MeasureContext built straight from an objective and θ, so each measure
// can be run on operators with a known answer without a whole run (the run
// loop builds the same context in core/ts/run/experiment.ts).
import type { Backend, Buf } from '../../core/ts/backend/types.js';
import type { Objective } from '../../core/ts/objective/types.js';
import { hessianOperator } from '../../core/ts/measure/operator.js';
import { lanczos } from '../../core/ts/measure/lanczos.js';
import { lobpcg } from '../../core/ts/measure/lobpcg.js';
import { MEASURE_SLOT, type BatchSampler, type MeasureContext, type ParamBlock } from '../../core/ts/measure/suite.js';
import type { Optimizer, OptState } from '../../core/ts/optim/optimizers.js';

export interface TestContextOptions {
  objective: Objective;
  theta: Float32Array;
  /** The curvature set (default: the objective). */
  curvature?: Objective;
  step?: number;
  seed?: number;
  lr?: number;
  /** The training minibatch size (default 0: full batch). */
  batchSize?: number;
  /** The run's --neigs (default 2). */
  neigs?: number;
  batches?: (size: number) => BatchSampler | null;
  liveBatch?: () => Objective | null;
  blocks?: ParamBlock[];
  threshold?: number | null;
  optimizer?: { opt: Optimizer; state: OptState } | null;
  /** Solve the Hessian first (k eigenpairs) so ctx.eig is set. */
  eigK?: number;
}

export interface TestTable { name: string; columns: string[]; rows: number[][] }

export interface TestContext {
  ctx: MeasureContext;
  /** Tables the measure emitted. */
  tables: TestTable[];
  /** Releases θ, the gradient, the eigenvectors and any scratch. */
  dispose(): void;
}

export async function makeTestContext(backend: Backend, o: TestContextOptions): Promise<TestContext> {
  const P = o.objective.P;
  const owned: Buf[] = [];
  const buf = (label: string) => { const b = backend.alloc(P, label); owned.push(b); return b; };
  const theta = buf('θ'), grad = buf('∇L');
  backend.write(theta, o.theta);
  const la = await o.objective.grad(theta, grad);
  backend.clearScalars(MEASURE_SLOT, 1);
  backend.reduce({ n: P, K: 1, x: { buf: grad, off: 0, bs: 0 }, y: { buf: grad, off: 0, bs: 0 }, slot: MEASURE_SLOT });
  const [g2] = await backend.readScalars(MEASURE_SLOT, 1);
  const curvature = o.curvature ?? o.objective;
  const step = o.step ?? 0, seed = o.seed ?? 0;
  let eig: MeasureContext['eig'] = null;
  const tables: TestTable[] = [];
  if (o.eigK) {
    const r = await lanczos(backend, hessianOperator(curvature, theta), { k: o.eigK, wantVectors: true, seed, tol: 1e-6 });
    owned.push(...(r.vectors ?? []));
    eig = { step, values: r.values, vectors: r.vectors ?? [] };
  }
  const ctx: MeasureContext = {
    backend, seed, step, lr: o.lr ?? 0.1, batchSize: o.batchSize ?? 0, neigs: o.neigs ?? 2, P, theta, grad, gradNorm: Math.sqrt(g2), trainLoss: la.loss[0],
    full: o.objective, curvature,
    batches: o.batches ?? (() => null),
    liveBatch: o.liveBatch ?? (() => null),
    eig, threshold: o.threshold ?? null, optimizer: o.optimizer ?? null, blocks: o.blocks ?? [],
    initialTheta: () => o.theta.slice(),
    async solve(op, k, so = {}) {
      const init = so.warm && so.warm.length === k ? so.warm : undefined;
      const r = 3 * k <= op.n
        ? await lobpcg(backend, op, { k, seed: seed * 1_000_003 + step, wantVectors: true, tol: so.tol ?? 1e-4, init })
        : await lanczos(backend, op, { k, seed: seed * 1_000_003 + step, wantVectors: true, tol: so.tol ?? 1e-4 });
      return { ...r, vectors: r.vectors ?? [] };
    },
    alloc: buf,
    table: async (name, columns, rows) => { tables.push({ name, columns, rows }); },
    slot: MEASURE_SLOT,
  };
  return { ctx, tables, dispose: () => owned.forEach((b) => backend.release(b)) };
}
