// Gradient flow θ' = −∇L(θ) by the classic fourth-order Runge-Kutta step,
// with the step size rule of Cohen et al.: h = min(α/λ̂, h_max), λ̂ the latest
// sharpness (measured before the first step, so h is never 0 or infinite).
import type { Backend, Buf } from '../backend/types.js';
import type { Objective } from '../objective/types.js';

export interface Rk4Scratch {
  k: Buf;
  acc: Buf;
  probe: Buf;
}

export function rk4Scratch(backend: Backend, n: number): Rk4Scratch {
  return { k: backend.alloc(n, 'rk4 k'), acc: backend.alloc(n, 'rk4 sum'), probe: backend.alloc(n, 'rk4 probe') };
}

export function releaseRk4Scratch(backend: Backend, s: Rk4Scratch): void {
  backend.release(s.k); backend.release(s.acc); backend.release(s.probe);
}

export function flowStepSize(alpha: number, sharpness: number, hMax: number): number {
  if (!(sharpness > 0) || !Number.isFinite(sharpness)) return hMax;
  return Math.min(alpha / sharpness, hMax);
}

/**
 * Enqueues one RK4 step of size h on θ (in place). With g_i the gradients
 * at the four stages (k_i = −g_i): θ ← θ − h/6 (g1 + 2g2 + 2g3 + g4). The
 * objective's loss slots hold the loss at the last stage afterwards, so
 * callers measure θ with a separate lossAcc.
 */
export function encodeRk4Step(backend: Backend, obj: Objective, theta: Buf, h: number, s: Rk4Scratch): void {
  const n = obj.K * obj.P;
  const stage = (from: Buf, coef: number) => {
    // probe = θ − coef·h·g_prev, then k = ∇L(probe)
    backend.vector({ n, y: s.probe, x: theta, alpha: 1, beta: 0 });
    backend.vector({ n, y: s.probe, x: from, alpha: -coef * h, beta: 1 });
    obj.encodeGrad(s.probe, s.k);
  };
  obj.encodeGrad(theta, s.k);                                   // g1
  backend.vector({ n, y: s.acc, x: s.k, alpha: 1, beta: 0 });
  stage(s.k, 0.5);                                              // g2 = ∇L(θ − h/2 g1)
  backend.vector({ n, y: s.acc, x: s.k, alpha: 2, beta: 1 });
  stage(s.k, 0.5);                                              // g3 = ∇L(θ − h/2 g2)
  backend.vector({ n, y: s.acc, x: s.k, alpha: 2, beta: 1 });
  stage(s.k, 1);                                                // g4 = ∇L(θ − h g3)
  backend.vector({ n, y: s.acc, x: s.k, alpha: 1, beta: 1 });
  backend.vector({ n, y: theta, x: s.acc, alpha: -h / 6, beta: 1 });
}
