// Activations with first and second derivatives, selected by an integer id
// (ACTIVATION_IDS in core/ts/nn/activations.ts): the formulas of
// core/shaders/activations.wgsl, in f32, so both backends round alike.
// Callers pass a constant id to an @inline helper where they can, so the
// switch folds away after inlining (as the WGSL `act_id` constant does).
import { tanh4 } from './simd-math';

@inline function sigmoid_f(x: f32): f32 {
  // Two branches keep exp() from overflowing for large |x|.
  if (x >= 0) return <f32>1 / (<f32>1 + Mathf.exp(-x));
  const e = Mathf.exp(x);
  return e / (<f32>1 + e);
}

// erf through the Chebyshev-fitted erfc of Numerical Recipes (relative error
// < 1.2e-7, i.e. at f32 level), the same polynomial as the WGSL kernel.
@inline function erf_f(x: f32): f32 {
  const s = Mathf.sign(x);
  const a = Mathf.abs(x);
  const t: f32 = <f32>1 / (<f32>1 + <f32>0.5 * a);
  const y: f32 = t * Mathf.exp(-a * a - <f32>1.26551223 + t * (<f32>1.00002368 + t * (<f32>0.37409196 + t * (<f32>0.09678418 +
    t * (<f32>-0.18628806 + t * (<f32>0.27886807 + t * (<f32>-1.13520398 + t * (<f32>1.48851587 +
    t * (<f32>-0.82215223 + t * <f32>0.17087277)))))))));
  return s * (<f32>1 - y);
}

const INV_SQRT2: f32 = 0.70710678118654752;
const INV_SQRT_2PI: f32 = 0.39894228040143268;

@inline function softplus_f(x: f32): f32 {
  // log(1+e^x) = max(x,0) + log1p(e^{-|x|}); log1p via log is accurate enough at f32.
  return Mathf.max(x, 0) + Mathf.log(<f32>1 + Mathf.exp(-Mathf.abs(x)));
}

@inline function tanh_f(x: f32): f32 {
  // SIMD builds: the vector tanh of simd-math.ts (clamped to ±15 there), so a
  // lane-at-a-time caller and a four-lane loop give the same bits.
  if (ASC_FEATURE_SIMD) return f32x4.extract_lane(tanh4(f32x4.splat(x)), 0);
  // Clamped as in the WGSL (some drivers' tanh overflows); tanh(±15) is ±1 in f32 anyway.
  return Mathf.tanh(Mathf.min(Mathf.max(x, -15), 15));
}

/** σ(x) for activation `id`. */
@inline export function act_f(id: i32, x: f32): f32 {
  switch (id) {
    case 1: return tanh_f(x);
    case 2: return Mathf.max(x, 0);
    case 3: return x > 0 ? x : Mathf.exp(x) - <f32>1;            // elu (alpha 1)
    case 4: return softplus_f(x);
    case 5: return Mathf.min(Mathf.max(x, -1), 1);                // hardtanh
    case 6: return <f32>0.5 * x * (<f32>1 + erf_f(x * INV_SQRT2)); // gelu (erf)
    case 7: return x * sigmoid_f(x);                              // swish / SiLU
    default: return x;                                            // identity
  }
}

/** σ′(x) for activation `id`. */
@inline export function act_d1(id: i32, x: f32): f32 {
  switch (id) {
    case 1: { const t = tanh_f(x); return <f32>1 - t * t; }
    case 2: return x > 0 ? <f32>1 : <f32>0;
    case 3: return x > 0 ? <f32>1 : Mathf.exp(x);
    case 4: return sigmoid_f(x);
    case 5: return x > -1 && x < 1 ? <f32>1 : <f32>0;
    case 6: return <f32>0.5 * (<f32>1 + erf_f(x * INV_SQRT2)) + x * INV_SQRT_2PI * Mathf.exp(<f32>-0.5 * x * x);
    case 7: { const s = sigmoid_f(x); return s + x * s * (<f32>1 - s); }
    default: return 1;
  }
}

/** σ″(x) for activation `id` (0 for the piecewise-linear ones). */
@inline export function act_d2(id: i32, x: f32): f32 {
  switch (id) {
    case 1: { const t = tanh_f(x); return <f32>-2 * t * (<f32>1 - t * t); }
    case 3: return x > 0 ? <f32>0 : Mathf.exp(x);
    case 4: { const s = sigmoid_f(x); return s * (<f32>1 - s); }
    case 6: return INV_SQRT_2PI * Mathf.exp(<f32>-0.5 * x * x) * (<f32>2 - x * x);
    case 7: { const s = sigmoid_f(x); return s * (<f32>1 - s) * (<f32>2 + x * (<f32>1 - <f32>2 * s)); }
    default: return 0;
  }
}
