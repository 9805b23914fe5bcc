// Loss head, one invocation per (example i < B, model z < K); c outputs.
// LOSS 0 = MSE  ℓ = ½‖f−y‖²,  ∂ℓ/∂f = f − y,                 H_ℓ = I
// LOSS 1 = CE   ℓ = s·lse(f) − y·f, ∂ℓ/∂f = s·p − y, H_ℓ = s(diag p − ppᵀ), s = Σ_j y_j
//   (s = 1 for one-hot targets; kept general for soft targets.)
// MODE 0: D = scale·∂ℓ/∂f, PE[pe_off + z·pe_bs + i] = ℓ,
//         PE[acc_off + z·acc_bs + i] = 1 if argmax f = argmax y (first max wins)
// MODE 1: D = scale·H_ℓ·RF   (the loss-Hessian product of the R-operator)
// MODE 2: D = scale·g·(gᵀRF), g = ∂ℓ/∂f   (H_ℓ → ggᵀ: the empirical Fisher's product)
// F, D, RF are [K, B, c]; Y rows are shared by all models.
struct Params { B: u32, c: u32, K: u32, _p: u32,
  f_off: u32, f_bs: u32, y_off: u32, d_off: u32, d_bs: u32, pe_off: u32, pe_bs: u32,
  rf_off: u32, rf_bs: u32, scale: f32, acc_off: u32, acc_bs: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> F: array<f32>;
@group(0) @binding(2) var<storage, read> Y: array<f32>;
@group(0) @binding(3) var<storage, read_write> D: array<f32>;
@group(0) @binding(4) var<storage, read_write> PE: array<f32>;
@group(0) @binding(5) var<storage, read> RF: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let i = g.x; let z = g.y;
  if (i >= u.B || z >= u.K) { return; }
  let f0 = u.f_off + z * u.f_bs + i * u.c;
  let y0 = u.y_off + i * u.c;
  let d0 = u.d_off + z * u.d_bs + i * u.c;
  // Stable softmax: shift by the max logit (log-sum-exp).
  var fmax = F[f0]; var fargmax = 0u; var ymax = Y[y0]; var yargmax = 0u; var ysum = 0.0;
  for (var j = 0u; j < u.c; j++) {
    let f = F[f0 + j]; let y = Y[y0 + j];
    if (f > fmax) { fmax = f; fargmax = j; }
    if (y > ymax) { ymax = y; yargmax = j; }
    ysum += y;
  }
  var ssum = 0.0;
  if (LOSS == 1u) { for (var j = 0u; j < u.c; j++) { ssum += exp(F[f0 + j] - fmax); } }
  if (MODE == 0u) {
    var l = 0.0;
    for (var j = 0u; j < u.c; j++) {
      let f = F[f0 + j]; let y = Y[y0 + j];
      if (LOSS == 0u) {
        l += 0.5 * (f - y) * (f - y);
        D[d0 + j] = u.scale * (f - y);
      } else {
        let p = exp(f - fmax) / ssum;
        l -= y * f;
        D[d0 + j] = u.scale * (p * ysum - y);
      }
    }
    if (LOSS == 1u) { l += ysum * (fmax + log(ssum)); }
    PE[u.pe_off + z * u.pe_bs + i] = l;
    PE[u.acc_off + z * u.acc_bs + i] = select(0.0, 1.0, fargmax == yargmax);
  } else if (MODE == 2u) {
    let r0 = u.rf_off + z * u.rf_bs + i * u.c;
    var gr = 0.0;
    for (var j = 0u; j < u.c; j++) {
      var gj = F[f0 + j] - Y[y0 + j];
      if (LOSS == 1u) { gj = exp(F[f0 + j] - fmax) / ssum * ysum - Y[y0 + j]; }
      gr += gj * RF[r0 + j];
    }
    for (var j = 0u; j < u.c; j++) {
      var gj = F[f0 + j] - Y[y0 + j];
      if (LOSS == 1u) { gj = exp(F[f0 + j] - fmax) / ssum * ysum - Y[y0 + j]; }
      D[d0 + j] = u.scale * gj * gr;
    }
  } else {
    let r0 = u.rf_off + z * u.rf_bs + i * u.c;
    if (LOSS == 0u) {
      for (var j = 0u; j < u.c; j++) { D[d0 + j] = u.scale * RF[r0 + j]; }
    } else {
      var pr = 0.0;
      for (var j = 0u; j < u.c; j++) { pr += exp(F[f0 + j] - fmax) / ssum * RF[r0 + j]; }
      for (var j = 0u; j < u.c; j++) {
        let p = exp(F[f0 + j] - fmax) / ssum;
        D[d0 + j] = u.scale * ysum * p * (RF[r0 + j] - pr);
      }
    }
  }
}
