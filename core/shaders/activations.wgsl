// Activations with first and second derivatives, selected by an integer id
// (the numbering is ACTIVATION_IDS in core/ts/nn/activations.ts).
// Prepended to every kernel that needs them; `act_id` is a compile-time
// constant there, so the switch folds away.

fn sigmoid_f(x: f32) -> f32 {
  // Two branches keep exp() from overflowing for large |x|.
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}

// erf through the Chebyshev-fitted erfc of Numerical Recipes (relative error
// < 1.2e-7, i.e. at f32 level); WGSL has no erf builtin.
fn erf_f(x: f32) -> f32 {
  let s = sign(x);
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.5 * a);
  let y = t * exp(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
          t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
          t * (-0.82215223 + t * 0.17087277)))))))));
  return s * (1.0 - y);
}

const INV_SQRT2: f32 = 0.70710678118654752;
const INV_SQRT_2PI: f32 = 0.39894228040143268;

fn softplus_f(x: f32) -> f32 {
  // log(1+e^x) = max(x,0) + log1p(e^{-|x|}); log1p via log is accurate enough at f32.
  return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}

fn tanh_f(x: f32) -> f32 {
  // Some drivers' tanh returns NaN for |x| > ~88 (exp overflow); clamp first.
  return tanh(clamp(x, -15.0, 15.0));
}

fn act_f(id: u32, x: f32) -> f32 {
  switch id {
    case 0u: { return x; }                                   // identity
    case 1u: { return tanh_f(x); }                           // tanh
    case 2u: { return max(x, 0.0); }                         // relu
    case 3u: { return select(exp(x) - 1.0, x, x > 0.0); }    // elu (alpha 1)
    case 4u: { return softplus_f(x); }                       // softplus
    case 5u: { return clamp(x, -1.0, 1.0); }                 // hardtanh
    case 6u: { return 0.5 * x * (1.0 + erf_f(x * INV_SQRT2)); } // gelu (erf)
    case 7u: { return x * sigmoid_f(x); }                    // swish / SiLU
    default: { return x; }
  }
}

fn act_d1(id: u32, x: f32) -> f32 {
  switch id {
    case 0u: { return 1.0; }
    case 1u: { let t = tanh_f(x); return 1.0 - t * t; }
    case 2u: { return select(0.0, 1.0, x > 0.0); }
    case 3u: { return select(exp(x), 1.0, x > 0.0); }
    case 4u: { return sigmoid_f(x); }
    case 5u: { return select(0.0, 1.0, x > -1.0 && x < 1.0); }
    case 6u: { return 0.5 * (1.0 + erf_f(x * INV_SQRT2)) + x * INV_SQRT_2PI * exp(-0.5 * x * x); }
    case 7u: { let s = sigmoid_f(x); return s + x * s * (1.0 - s); }
    default: { return 1.0; }
  }
}

fn act_d2(id: u32, x: f32) -> f32 {
  switch id {
    case 1u: { let t = tanh_f(x); return -2.0 * t * (1.0 - t * t); }
    case 3u: { return select(exp(x), 0.0, x > 0.0); }
    case 4u: { let s = sigmoid_f(x); return s * (1.0 - s); }
    case 6u: { return INV_SQRT_2PI * exp(-0.5 * x * x) * (2.0 - x * x); }
    case 7u: { let s = sigmoid_f(x); return s * (1.0 - s) * (2.0 + x * (1.0 - 2.0 * s)); }
    default: { return 0.0; } // identity, relu, hardtanh: piecewise linear
  }
}
