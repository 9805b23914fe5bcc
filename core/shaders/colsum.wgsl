// Column sums of a [K, M, N] block: OUT[z][n] (+)= Σ_m D[z][m][n]  (bias gradients).
// One invocation per (n, z), rows in order: deterministic.
struct Params { M: u32, N: u32, K: u32, _p: u32, d_off: u32, d_bs: u32, o_off: u32, o_bs: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> D: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let n = g.x; let z = g.y;
  if (n >= u.N || z >= u.K) { return; }
  var acc = 0.0;
  for (var m = 0u; m < u.M; m++) { acc += D[u.d_off + z * u.d_bs + m * u.N + n]; }
  let o = u.o_off + z * u.o_bs + n;
  if (ACCUM) { OUT[o] += acc; } else { OUT[o] = acc; }
}
