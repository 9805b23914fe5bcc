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

// Box-Muller's log and cos from +, ×, ÷ only: drivers' builtins differ
// (SwiftShader's cos is off by ~2e-4, inside WGSL's 2^-11 allowance), and
// random directions should be the same on every driver to f32 rounding.
fn log_unit(x: f32) -> f32 {            // x in (0, 1]
  let bits = bitcast<u32>(x);
  var e = f32(i32(bits >> 23u) - 127);
  var m = bitcast<f32>((bits & 0x7fffffu) | 0x3f800000u); // [1, 2)
  // m in [√½, √2) so log x near 0 (x near 1) has no e·ln2 − log m cancellation.
  if (m > 1.4142135623730951) { m = 0.5 * m; e += 1.0; }
  let s = (m - 1.0) / (m + 1.0);                           // |s| < 0.172
  let s2 = s * s;
  // 2·atanh(s) series to s^15: truncation < 1e-13.
  let p = 1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 +
          s2 * (1.0 / 11.0 + s2 * (1.0 / 13.0 + s2 * (1.0 / 15.0)))))));
  return e * 0.69314718055994531 + 2.0 * s * p;
}

fn cos_turn(t: f32) -> f32 {            // cos(2π t), t in [0, 1)
  let q4 = 4.0 * t;                     // exact: t has 24 bits
  let q = u32(floor(q4));
  let b = (q4 - f32(q) - 0.5) * 1.5707963267948966; // [-π/4, π/4)
  let b2 = b * b;
  // Taylor to degree 11/12 on |b| ≤ π/4: truncation < 1e-9.
  let sn = b * (1.0 - b2 / 6.0 * (1.0 - b2 / 20.0 * (1.0 - b2 / 42.0 * (1.0 - b2 / 72.0 * (1.0 - b2 / 110.0)))));
  let cs = 1.0 - b2 / 2.0 * (1.0 - b2 / 12.0 * (1.0 - b2 / 30.0 * (1.0 - b2 / 56.0 * (1.0 - b2 / 90.0 * (1.0 - b2 / 132.0)))));
  // a = b + π/4 in [0, π/2): cos a = (cs − sn)/√2, sin a = (cs + sn)/√2.
  let ca = (cs - sn) * 0.70710678118654752;
  let sa = (cs + sn) * 0.70710678118654752;
  switch q {
    case 0u: { return ca; }
    case 1u: { return -sa; }
    case 2u: { return -ca; }
    default: { return sa; }
  }
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
  } else if (DIST == 4u) { // Rademacher ±1: the word's top bit
    let w = philox(vec4<u32>(i >> 2u, u.stream, 0u, 0u), key);
    v = select(1.0, -1.0, (w[i & 3u] >> 31u) != 0u);
  } else {                 // standard normal, Box-Muller
    let w = philox(vec4<u32>(i >> 1u, u.stream, 1u, 0u), key);
    let lane = 2u * (i & 1u);
    let u1 = f32((w[lane] >> 8u) + 1u) * (1.0 / 16777216.0);
    let u2 = f32(w[lane + 1u] >> 8u) * (1.0 / 16777216.0);
    v = sqrt(-2.0 * log_unit(u1)) * cos_turn(u2);
  }
  OUT[u.off + j] = u.scale * v;
}
