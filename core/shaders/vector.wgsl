// Flat parameter-space vectors (θ, gradients, Lanczos bases, …), length n:
//   y[i] = alpha·x[i] + beta·y[i] + gamma        (x ignored unless HAS_X)
// covers axpy (beta 1), copy (alpha 1, beta 0), scale (no x), fill (no x, beta 0).
struct Params { n: u32, pitch: u32, x_off: u32, y_off: u32, alpha: f32, beta: f32, gamma: f32, _p: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let i = flat_index(g, u.pitch);
  if (i >= u.n) { return; }
  var v = u.beta * Y[u.y_off + i] + u.gamma;
  // beta = 0 must overwrite NaN/Inf garbage (fill, copy), not propagate it.
  if (u.beta == 0.0) { v = u.gamma; }
  if (HAS_X) { v += u.alpha * X[u.x_off + i]; }
  Y[u.y_off + i] = v;
}
