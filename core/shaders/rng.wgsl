// Philox-4x32-10, the same definition as core/ts/rng/philox.ts (see there for
// the draw layout). WGSL has no 64-bit integers: the 32×32→64 product is
// built from 16-bit halves, exactly as the TS version does.
// OUT[off + j] = scale · draw(index0 + j), j < n.
struct Params { n: u32, pitch: u32, off: u32, index0: u32, k0: u32, k1: u32, stream: u32, scale: f32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read_write> OUT: array<f32>;

fn mulhi(a: u32, b: u32) -> u32 {
  let a0 = a & 0xffffu; let a1 = a >> 16u;
  let b0 = b & 0xffffu; let b1 = b >> 16u;
  let lo = a0 * b0;
  let mid1 = a1 * b0 + (lo >> 16u);
  let mid2 = a0 * b1 + (mid1 & 0xffffu);
  return a1 * b1 + (mid1 >> 16u) + (mid2 >> 16u);
}

fn philox(c: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var x = c; var k = key;
  for (var r = 0u; r < 10u; r++) {
    let hi0 = mulhi(0xd2511f53u, x.x); let lo0 = 0xd2511f53u * x.x;
    let hi1 = mulhi(0xcd9e8d57u, x.z); let lo1 = 0xcd9e8d57u * x.z;
    x = vec4<u32>(hi1 ^ x.y ^ k.x, lo1, hi0 ^ x.w ^ k.y, lo0);
    k += vec2<u32>(0x9e3779b9u, 0xbb67ae85u);
  }
  return x;
}

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let j = flat_index(g, u.pitch);
  if (j >= u.n) { return; }
  let i = u.index0 + j;
  let key = vec2<u32>(u.k0, u.k1);
  var v: f32;
  if (DIST == 0u) {        // raw bits, reinterpreted (tests compare them with TS)
    let w = philox(vec4<u32>(i >> 2u, u.stream, 0u, 0u), key);
    OUT[u.off + j] = bitcast<f32>(w[i & 3u]);
    return;
  } else if (DIST == 1u) { // uniform [0, 1)
    let w = philox(vec4<u32>(i >> 2u, u.stream, 0u, 0u), key);
    v = f32(w[i & 3u] >> 8u) * (1.0 / 16777216.0);
  } else if (DIST == 2u) { // uniform [-1, 1)
    let w = philox(vec4<u32>(i >> 2u, u.stream, 0u, 0u), key);
    v = (f32(w[i & 3u] >> 8u) - 8388608.0) * (1.0 / 8388608.0);
  } else {                 // standard normal, Box-Muller
    let w = philox(vec4<u32>(i >> 1u, u.stream, 1u, 0u), key);
    let lane = 2u * (i & 1u);
    let u1 = f32((w[lane] >> 8u) + 1u) * (1.0 / 16777216.0);
    let u2 = f32(w[lane + 1u] >> 8u) * (1.0 / 16777216.0);
    v = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
  }
  OUT[u.off + j] = u.scale * v;
}
