// Deterministic reductions: a fixed association order on every run, so the
// same inputs give the same bits (no atomics). Two stages:
//   STAGE 1: workgroup (chunk, z) sums its chunk of x (or x⊙y if DOT) → PART[z·nchunks + chunk]
//   STAGE 2: workgroup z sums PART[z·nchunks ..] → OUT[slot + z]  (= or += if ACCUM), times scale
struct Params { n: u32, chunk: u32, nchunks: u32, K: u32,
  x_off: u32, x_bs: u32, y_off: u32, y_bs: u32, slot: u32, scale: f32, _p0: u32, _p1: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> Yv: array<f32>;
@group(0) @binding(3) var<storage, read_write> PART: array<f32>;
@group(0) @binding(4) var<storage, read_write> OUT: array<f32>;
var<workgroup> sh: array<f32, 256>;

fn tree(t: u32) -> f32 {
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (t < s) { sh[t] += sh[t + s]; }
    workgroupBarrier();
  }
  return sh[0];
}

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  var acc = 0.0;
  if (STAGE == 1u) {
    let z = wg.y; let c = wg.x;
    let lo = c * u.chunk; let hi = min(lo + u.chunk, u.n);
    for (var i = lo + t; i < hi; i += 256u) {
      let x = X[u.x_off + z * u.x_bs + i];
      if (DOT) { acc += x * Yv[u.y_off + z * u.y_bs + i]; } else { acc += x; }
    }
    sh[t] = acc;
    let total = tree(t);
    if (t == 0u) { PART[z * u.nchunks + c] = total; }
  } else {
    let z = wg.x;
    for (var i = t; i < u.nchunks; i += 256u) { acc += PART[z * u.nchunks + i]; }
    sh[t] = acc;
    let total = tree(t) * u.scale;
    if (t == 0u) {
      if (ACCUM) { OUT[u.slot + z] += total; } else { OUT[u.slot + z] = total; }
    }
  }
}
