// Element-wise optimizer updates and diagonal scalings on flat vectors of
// n = K·P elements (formulas: docs/architecture.md "Definitions"):
// MODE 0 Polyak   V ← βV + G;                θ ← θ − η V
// MODE 1 Nesterov V ← βV + G;                θ ← θ − η (G + βV)
// MODE 2 Adam     M ← β1M + (1−β1)G; V ← β2V + (1−β2)G²;
//                 θ ← θ − η (M/c1) / (√(V/c2) + ε)    (c = 1 − β^t, or 1 without bias correction)
// MODE 3 RMSProp  V ← β2V + (1−β2)G²;         θ ← θ − η G / (√V + ε)
// MODE 4 precond  θ ← (√(V/c2) + ε)^(-1/2)    (P^-1/2 of Adam/RMSProp, for λ_A)
// MODE 5 scale    θ ← θ ⊙ G                   (apply a diagonal)
// (θ is the written vector in every mode; G is read-only. TH and G are read
// from element `off` on: one member's slice of a sweep's K·P vectors.)
struct Params { n: u32, pitch: u32, off: u32, _p1: u32,
  lr: f32, beta: f32, beta2: f32, eps: f32, c1: f32, c2: f32, _q0: f32, _q1: f32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read_write> TH: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> M: array<f32>;
@group(0) @binding(4) var<storage, read_write> V: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid, u.pitch);
  if (i >= u.n) { return; }
  if (MODE == 0u || MODE == 1u) {
    let g = G[i + u.off];
    let v = u.beta * V[i] + g;
    V[i] = v;
    if (MODE == 0u) { TH[i + u.off] -= u.lr * v; } else { TH[i + u.off] -= u.lr * (g + u.beta * v); }
  } else if (MODE == 2u) {
    let g = G[i + u.off];
    let m = u.beta * M[i] + (1.0 - u.beta) * g;
    let v = u.beta2 * V[i] + (1.0 - u.beta2) * g * g;
    M[i] = m; V[i] = v;
    TH[i + u.off] -= u.lr * (m / u.c1) / (sqrt(v / u.c2) + u.eps);
  } else if (MODE == 3u) {
    let g = G[i + u.off];
    let v = u.beta2 * V[i] + (1.0 - u.beta2) * g * g;
    V[i] = v;
    TH[i + u.off] -= u.lr * g / (sqrt(v) + u.eps);
  } else if (MODE == 4u) {
    TH[i + u.off] = 1.0 / sqrt(sqrt(V[i] / u.c2) + u.eps);
  } else {
    TH[i + u.off] *= G[i + u.off];
  }
}
