// The toy objectives of the theory slides (the minimalist EoS example of the theory slides), one
// invocation per model z < K, θ[z] of P = 4 (MODEL 0) or 2 (MODEL 1, 2):
// MODEL 0  L = ½(1 − xyzw)²     the minimalist model of self-stabilisation
// MODEL 1  L = (1 − x²y²)²
// MODEL 2  L = (1 − xy)²
// MODE 0: OUT[z] = ∇L(θ[z]);  MODE 1: OUT[z] = H(θ[z]) V[z].  SCAL[slot + z] = L, SCAL[slot + K + z] = 0.
struct Params { K: u32, P: u32, slot: u32, _p: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> TH: array<f32>;
@group(0) @binding(2) var<storage, read> V: array<f32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(4) var<storage, read_write> SCAL: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let z = gid.x;
  if (z >= u.K) { return; }
  let o = z * u.P;
  var loss = 0.0;
  if (MODEL == 0u) {
    let t = vec4<f32>(TH[o], TH[o + 1u], TH[o + 2u], TH[o + 3u]);
    // ∂p/∂θ_i: the product of the other three coordinates (no division, safe at 0).
    let dp = vec4<f32>(t.y * t.z * t.w, t.x * t.z * t.w, t.x * t.y * t.w, t.x * t.y * t.z);
    let r = 1.0 - t.x * dp.x;
    loss = 0.5 * r * r;
    if (MODE == 0u) {
      for (var i = 0u; i < 4u; i++) { OUT[o + i] = -r * dp[i]; }
    } else {
      let v = vec4<f32>(V[o], V[o + 1u], V[o + 2u], V[o + 3u]);
      // H = ∇p∇pᵀ − r ∇²p, ∇²p_ij = product of the two coordinates other than i, j.
      let pairs = array<f32, 16>(
        0.0, t.z * t.w, t.y * t.w, t.y * t.z,
        t.z * t.w, 0.0, t.x * t.w, t.x * t.z,
        t.y * t.w, t.x * t.w, 0.0, t.x * t.y,
        t.y * t.z, t.x * t.z, t.x * t.y, 0.0);
      let gv = dot(dp, v);
      for (var i = 0u; i < 4u; i++) {
        var s = dp[i] * gv;
        for (var j = 0u; j < 4u; j++) { s -= r * pairs[i * 4u + j] * v[j]; }
        OUT[o + i] = s;
      }
    }
  } else {
    let x = TH[o]; let y = TH[o + 1u];
    var g: vec2<f32>;
    var h: mat2x2<f32>;
    if (MODEL == 1u) {
      let q = x * x * y * y;
      loss = (1.0 - q) * (1.0 - q);
      g = vec2<f32>(-4.0 * (1.0 - q) * x * y * y, -4.0 * (1.0 - q) * x * x * y);
      let hxy = 8.0 * x * x * x * y * y * y - 8.0 * (1.0 - q) * x * y;
      h = mat2x2<f32>(8.0 * x * x * y * y * y * y - 4.0 * (1.0 - q) * y * y, hxy,
                      hxy, 8.0 * x * x * x * x * y * y - 4.0 * (1.0 - q) * x * x);
    } else {
      let r = 1.0 - x * y;
      loss = r * r;
      g = vec2<f32>(-2.0 * r * y, -2.0 * r * x);
      h = mat2x2<f32>(2.0 * y * y, 4.0 * x * y - 2.0, 4.0 * x * y - 2.0, 2.0 * x * x);
    }
    if (MODE == 0u) { OUT[o] = g.x; OUT[o + 1u] = g.y; }
    else { let hv = h * vec2<f32>(V[o], V[o + 1u]); OUT[o] = hv.x; OUT[o + 1u] = hv.y; }
  }
  SCAL[u.slot + z] = loss;
  SCAL[u.slot + u.K + z] = 0.0;
}
