// Optimizers on flat parameter vectors, optax-style: init(n) → state, and
// update(θ, g, state) applies the step in place on the device (θ ← θ + u).
// Each reports the stability threshold its sharpness is compared with, and
// adaptive ones their preconditioner P = diag(√v̂ + ε). Formulas and
// thresholds: docs/architecture.md "Definitions". SGD and SGD with momentum are GD and
// Polyak fed minibatch gradients by the run loop.
import type { Backend, Buf } from '../backend/types.js';

export type OptimizerName = 'gd' | 'polyak' | 'nesterov' | 'ngd' | 'adam' | 'rmsprop';
export const OPTIMIZERS: OptimizerName[] = ['gd', 'polyak', 'nesterov', 'ngd', 'adam', 'rmsprop'];

export interface OptimizerConfig {
  name: OptimizerName;
  /** Momentum β (polyak, nesterov). */
  beta?: number;
  /** Adam β1, β2 (rmsprop uses beta2), ε. */
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Adam bias correction (default on). */
  biasCorrection?: boolean;
}

export interface OptState {
  /** Updates applied so far. */
  step: number;
  /** Named state vectors (checkpointed as they are). */
  tensors: Record<string, Buf>;
  /** Parameters updated (the length of θ's slice when update gets an offset). */
  n?: number;
}

export interface Optimizer {
  readonly config: Required<OptimizerConfig>;
  init(backend: Backend, n: number): OptState;
  /**
   * θ ← θ + update(g); `gradNorm` (‖g‖ per step) is needed by normalized GD only.
   * With `off`, θ and g are the state's length at element `off` of larger
   * buffers: a sweep member's slice of the group's K·P vectors, updated in
   * place with the single run's op (so the same bits) and no copies.
   */
  update(backend: Backend, theta: Buf, grad: Buf, state: OptState, lr: number, gradNorm?: number, off?: number): void;
  /** The sharpness bound of stable training at this learning rate (λ_A's bound for adaptive methods). */
  threshold(lr: number, gradNorm?: number): number;
  /** Whether the threshold bounds the preconditioned sharpness λ_A rather than λ_H. */
  readonly preconditioned: boolean;
  /** out ← P^(-1/2) = (√v̂ + ε)^(-1/2) element-wise (adaptive methods). */
  preconditionerInvSqrt?(backend: Backend, state: OptState, out: Buf): void;
  dispose(backend: Backend, state: OptState): void;
}

const DEFAULTS = { beta: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, biasCorrection: true };

/** Which hyper-parameters each optimizer takes (a flag for another one is an error). */
export const OPTIMIZER_FLAGS: Record<OptimizerName, (keyof OptimizerConfig)[]> = {
  gd: [], ngd: [], polyak: ['beta'], nesterov: ['beta'],
  adam: ['beta1', 'beta2', 'eps', 'biasCorrection'], rmsprop: ['beta2', 'eps'],
};

/** The threshold formula as printed beside its value (progress lines, metadata, figure legends). */
export function thresholdFormula(cfg: OptimizerConfig): string {
  const c = { ...DEFAULTS, ...stripUndefined(cfg) } as Required<OptimizerConfig>;
  switch (c.name) {
    case 'polyak': return '(2+2β)/η';
    case 'nesterov': return '(2+2β)/((1+2β)η)';
    case 'ngd': return '2‖g‖/η';
    case 'adam': return c.beta1 === 0.9 ? '38/η' : '(2+2β1)/((1−β1)η)';
    default: return '2/η';
  }
}

/** The configuration with defaults filled in; throws one line naming the flag for a value it cannot take. */
export function checkOptimizerConfig(cfg: OptimizerConfig): Required<OptimizerConfig> {
  if (!OPTIMIZERS.includes(cfg.name)) throw new Error(`unknown optimizer '${cfg.name}': use one of ${OPTIMIZERS.join(', ')}`);
  const c: Required<OptimizerConfig> = { ...DEFAULTS, ...stripUndefined(cfg) } as Required<OptimizerConfig>;
  for (const k of ['beta', 'beta1'] as const) {
    if (!(c[k] >= 0 && c[k] < 1)) throw new Error(`--${k} must be in [0, 1), got ${c[k]}`);
  }
  // β2 = 1 freezes the second moment: the frozen-preconditioner experiments.
  if (!(c.beta2 >= 0 && c.beta2 <= 1)) throw new Error(`--beta2 must be in [0, 1], got ${c.beta2}`);
  if (c.beta2 === 1 && c.name === 'adam' && c.biasCorrection) {
    throw new Error('--beta2 1 freezes v and makes bias correction divide by zero: add --no-bias-correction');
  }
  if (!(c.eps >= 0 && Number.isFinite(c.eps))) throw new Error(`--eps must be a non-negative number, got ${c.eps}`);
  return c;
}

export function makeOptimizer(cfg: OptimizerConfig): Optimizer {
  const c = checkOptimizerConfig(cfg);
  const zeros = (backend: Backend, n: number, label: string) => {
    const b = backend.alloc(n, label);
    backend.vector({ n, y: b, beta: 0, gamma: 0 });
    return b;
  };
  const release = (backend: Backend, s: OptState) => Object.values(s.tensors).forEach((b) => backend.release(b));
  const adaptive = c.name === 'adam' || c.name === 'rmsprop';
  const base = {
    config: c,
    preconditioned: adaptive,
    dispose: release,
  };
  switch (c.name) {
    case 'gd':
    case 'ngd':
      return {
        ...base,
        init: (_backend, n) => ({ step: 0, tensors: {}, n }),
        update(backend, theta, grad, s, lr, gradNorm, off = 0) {
          let step = lr;
          if (c.name === 'ngd') {
            if (!(gradNorm !== undefined && gradNorm > 0)) throw new Error('normalized GD needs the gradient norm of this step');
            step = lr / gradNorm;
          }
          backend.vector({ n: s.n ?? theta.length, y: theta, yOff: off, x: grad, xOff: off, alpha: -step, beta: 1 });
          s.step++;
        },
        // NGD moves η/‖g‖ along g: GD's bound at that effective step.
        threshold: (lr, gradNorm) => (c.name === 'ngd' ? (2 * (gradNorm ?? NaN)) / lr : 2 / lr),
      };
    case 'polyak':
    case 'nesterov':
      return {
        ...base,
        init: (backend, n) => ({ step: 0, tensors: { momentum: zeros(backend, n, 'momentum') }, n }),
        update(backend, theta, grad, s, lr, _gradNorm, off = 0) {
          backend.optim({ mode: c.name as 'polyak' | 'nesterov', n: s.n ?? theta.length, theta, grad, off, v: s.tensors.momentum, lr, beta: c.beta });
          s.step++;
        },
        threshold: (lr) => (c.name === 'polyak' ? (2 + 2 * c.beta) / lr : (2 + 2 * c.beta) / ((1 + 2 * c.beta) * lr)),
      };
    case 'adam':
    case 'rmsprop': {
      const isAdam = c.name === 'adam';
      const corr = (beta: number, t: number) => (isAdam && c.biasCorrection ? 1 - beta ** t : 1);
      return {
        ...base,
        init: (backend, n): OptState => {
          const tensors: Record<string, Buf> = isAdam
            ? { exp_avg: zeros(backend, n, 'adam m'), exp_avg_sq: zeros(backend, n, 'adam v') }
            : { square_avg: zeros(backend, n, 'rmsprop v') };
          return { step: 0, tensors, n };
        },
        update(backend, theta, grad, s, lr, _gradNorm, off = 0) {
          const t = s.step + 1;
          backend.optim({
            mode: c.name as 'adam' | 'rmsprop', n: s.n ?? theta.length, theta, grad, off, m: s.tensors.exp_avg, v: isAdam ? s.tensors.exp_avg_sq : s.tensors.square_avg,
            lr, beta: c.beta1, beta2: c.beta2, eps: c.eps, c1: corr(c.beta1, t), c2: corr(c.beta2, t),
          });
          s.step = t;
        },
        // Cohen et al. 2022: λ_A of P^-1/2 H P^-1/2 against (2 + 2β1)/((1 − β1)η); RMSProp is β1 = 0.
        threshold: (lr) => (isAdam ? (2 + 2 * c.beta1) / ((1 - c.beta1) * lr) : 2 / lr),
        preconditionerInvSqrt(backend, s, out) {
          // v̂ is the bias-corrected second moment at the current step.
          backend.optim({ mode: 'precond', n: out.length, theta: out, v: isAdam ? s.tensors.exp_avg_sq : s.tensors.square_avg, eps: c.eps, c2: corr(c.beta2, Math.max(1, s.step)) });
        },
      };
    }
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
