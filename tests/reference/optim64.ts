// float64 reference steps of every optimizer (docs/architecture.md "Definitions"),
// written out independently of core/ts/optim.
export interface Ref64State { m: Float64Array; v: Float64Array; t: number }

export function refStep(name: string, theta: Float64Array, g: Float64Array, s: Ref64State, lr: number,
                        h: { beta?: number; beta1?: number; beta2?: number; eps?: number; biasCorrection?: boolean }): void {
  const n = theta.length;
  s.t++;
  if (name === 'gd') for (let i = 0; i < n; i++) theta[i] -= lr * g[i];
  else if (name === 'ngd') {
    const norm = Math.sqrt(g.reduce((a, x) => a + x * x, 0));
    for (let i = 0; i < n; i++) theta[i] -= (lr / norm) * g[i];
  } else if (name === 'polyak' || name === 'nesterov') {
    const b = h.beta ?? 0.9;
    for (let i = 0; i < n; i++) {
      s.v[i] = b * s.v[i] + g[i];
      theta[i] -= lr * (name === 'polyak' ? s.v[i] : g[i] + b * s.v[i]);
    }
  } else if (name === 'adam') {
    const b1 = h.beta1 ?? 0.9, b2 = h.beta2 ?? 0.999, eps = h.eps ?? 1e-8, bc = h.biasCorrection ?? true;
    for (let i = 0; i < n; i++) {
      s.m[i] = b1 * s.m[i] + (1 - b1) * g[i];
      s.v[i] = b2 * s.v[i] + (1 - b2) * g[i] * g[i];
      const mh = bc ? s.m[i] / (1 - b1 ** s.t) : s.m[i];
      const vh = bc ? s.v[i] / (1 - b2 ** s.t) : s.v[i];
      theta[i] -= (lr * mh) / (Math.sqrt(vh) + eps);
    }
  } else if (name === 'rmsprop') {
    const b2 = h.beta2 ?? 0.999, eps = h.eps ?? 1e-8;
    for (let i = 0; i < n; i++) {
      s.v[i] = b2 * s.v[i] + (1 - b2) * g[i] * g[i];
      theta[i] -= (lr * g[i]) / (Math.sqrt(s.v[i]) + eps);
    }
  } else throw new Error(`no reference for ${name}`);
}
