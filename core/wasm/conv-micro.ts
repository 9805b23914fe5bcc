// matmul.ts's 4×8 micro-kernel with B read straight from the image: where
// a panel's eight positions lie in one source row at stride 1 (every panel of
// cnn-relu's convs, forward and dinput), B[k][0..8] is eight consecutive
// floats at src + offB[k], so the panel need not be packed first (packing was
// ~7% of those ops: each panel's kc × 8 floats copied once, then read by
// every 4-row panel of A). The arithmetic is matmul's micro, step for step
// (the same k order, the same fused or separate multiply-add, the same stores
// of full-width tiles), so the bits are those of the packed path.
import { setMicroOut } from './matmul';

// The output of the products in flight (setOut): matmul's micro keeps its own copy.
let gOut: usize = 0, gLdc: i32 = 0, gOutAccum: bool = false;

/** setMicroOut for both kernels: C with row stride ldc, `accum` adds into C_old on the first K block. */
export function setOut(c: usize, ldc: i32, accum: bool, tile: usize): void {
  setMicroOut(c, ldc, accum, tile);
  gOut = c; gLdc = ldc; gOutAccum = accum;
}

@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/**
 * C[m..m+mr, n..n+8] (=|+=) Ap(4×kc) · B(kc×8), B[k][j] = src[offs[k] + j]
 * (offs: kc element offsets). On the first K block the tile is overwritten
 * (plus C_old when accumulating). SIMD builds only.
 */
export function microDirect(kc: i32, ap: usize, src: usize, offs: usize, m: i32, n: i32, mr: i32, first: bool): void {
  if (!ASC_FEATURE_SIMD) return;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = offs + (<usize>kc << 2);
  while (offs < end) {
    const s = src + (<usize>load<i32>(offs) << 2);
    const b0 = v128.load(s), b1 = v128.load(s, 16);
    let a = v128.load32_splat(ap);
    c00 = fma(a, b0, c00); c01 = fma(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = fma(a, b0, c10); c11 = fma(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = fma(a, b0, c20); c21 = fma(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = fma(a, b0, c30); c31 = fma(a, b1, c31);
    ap += 16; offs += 4;
  }
  const ldc: usize = <usize>gLdc << 2;
  let dst: usize = gOut + (<usize>(m * gLdc + n) << 2);
  const old = !first || gOutAccum;
  storeRow(dst, c00, c01, old);
  if (mr > 1) { dst += ldc; storeRow(dst, c10, c11, old); }
  if (mr > 2) { dst += ldc; storeRow(dst, c20, c21, old); }
  if (mr > 3) { dst += ldc; storeRow(dst, c30, c31, old); }
}

/** matmul's storeRow with alpha 1 (1·x is x: the multiply is left out). */
@inline function storeRow(p: usize, x0: v128, x1: v128, addOld: bool): void {
  if (!ASC_FEATURE_SIMD) return;
  if (addOld) { x0 = f32x4.add(x0, v128.load(p)); x1 = f32x4.add(x1, v128.load(p, 16)); }
  v128.store(p, x0); v128.store(p, x1, 16);
}
