// Philox-4x32-10 in AssemblyScript: the same definition as core/ts/rng/philox.ts
// and core/shaders/rng.wgsl (draw layout documented there), so the Wasm
// backend draws the same bits as WebGPU and the TS host.

const M0: u32 = 0xd2511f53;
const M1: u32 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;

// One block's four words, kept in globals: no allocation per draw.
let x0: u32 = 0;
let x1: u32 = 0;
let x2: u32 = 0;
let x3: u32 = 0;

function block(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  x0 = c0; x1 = c1; x2 = c2; x3 = c3;
  let ka = k0, kb = k1;
  for (let r = 0; r < 10; r++) {
    // Wasm has 64-bit integers: the 32×32→64 product is exact directly.
    const p0 = <u64>M0 * <u64>x0;
    const p1 = <u64>M1 * <u64>x2;
    const hi0 = <u32>(p0 >> 32), lo0 = <u32>p0;
    const hi1 = <u32>(p1 >> 32), lo1 = <u32>p1;
    x0 = hi1 ^ x1 ^ ka;
    x1 = lo1;
    x2 = hi0 ^ x3 ^ kb;
    x3 = lo0;
    ka += W0;
    kb += W1;
  }
}

function word(lane: u32): u32 {
  return lane == 0 ? x0 : lane == 1 ? x1 : lane == 2 ? x2 : x3;
}

/** out[j] = raw bits of uniform draw index0 + j (counter (i>>2, stream, 0, 0), lane i&3). */
export function philoxBits(out: usize, n: u32, index0: u32, stream: u32, k0: u32, k1: u32): void {
  let current: u32 = 0xffffffff;
  for (let j: u32 = 0; j < n; j++) {
    const i = index0 + j;
    const b = i >> 2;
    if (b != current || j == 0) { block(b, stream, 0, 0, k0, k1); current = b; }
    store<u32>(out + (<usize>j << 2), word(i & 3));
  }
}

/** out[j] = scale · uniform [-1, 1) draw (exact: ((x >> 8) − 2^23)·2^-23, one rounding by scale). */
export function philoxSigned(out: usize, n: u32, index0: u32, stream: u32, k0: u32, k1: u32, scale: f32): void {
  let current: u32 = 0xffffffff;
  for (let j: u32 = 0; j < n; j++) {
    const i = index0 + j;
    const b = i >> 2;
    if (b != current || j == 0) { block(b, stream, 0, 0, k0, k1); current = b; }
    const u = <f32>(<i32>(word(i & 3) >> 8) - 8388608) * (<f32>1.0 / <f32>8388608.0);
    store<f32>(out + (<usize>j << 2), scale * u);
  }
}
