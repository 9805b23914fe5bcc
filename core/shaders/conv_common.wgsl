// Conv2d as an implicit GEMM (PyTorch's cross-correlation, NCHW, zero
// padding; docs/architecture.md "Models are layer lists"): every conv product is C (M×N) = A (M×L) ·
// B (L×N) per model, with one operand gathered from an image through the
// im2col address computed in the load, never materialised.
//   forward  y[b,co,oh,ow] = Σ_{ci,i,j} x[b,ci,oh·s+i−pH,ow·s+j−pW] · w[co,ci,i,j]
//            M = B·Ho·Wo positions, N = Cout, L = Cin·KH·KW taps
//   dinput   dx[b,ci,ih,iw] = Σ_{co,i,j} dy[b,co,oh,ow] · w[co,ci,i,j]
//            over (ih+pH−i)/s = oh, (iw+pW−j)/s = ow exact and in range
//            (gather form: each input element sums its own terms)
//            M = B·H·W input positions, N = Cin, L = Cout·KH·KW
//   dweight  dw[co,ci,i,j] = Σ_{b,oh,ow} dy[b,co,oh,ow] · x[b,ci,oh·s+i−pH,ow·s+j−pW]
//            (+ db[co] = Σ dy as one more column of ones)
//            M = Cout, N = Cin·KH·KW (+1), L = B·Ho·Wo, split in S chunks
// Per model z: x [B,Cin,H,W], w [Cout,Cin,KH,KW], y [B,Cout,Ho,Wo], each at
// element offset *_off + z·*_bs (bs 0: shared by the models).
//
// A mode file (conv_forward / conv_dinput / conv_dweight) supplies the GEMM
// view to the kernel file (conv_gemm_naive / _reg / _tiled) through:
//   model_of(zz), k_first(zz), k_last(zz)   workgroup z → model, reduction range
//   a_row(z, m) -> ARow, b_col(z, n) -> BCol  per-row / per-column address parts
//   tap(k, kend) -> Tap                      per-reduction-index parts (shared by A and B)
//   a_at(ARow, Tap), b_at(BCol, Tap) -> f32  operand values, 0 outside the image/range
//   store(zz, z, m, n, acc)                  epilogue (accumulate, bias)
// Compile-time constants: the kernel geometry KH, KW, STRIDE (and the
// variant's shape). Epilogue switches are runtime `flags` (has(F_…)), so one
// pipeline per (variant, mode, geometry) serves every call: pipelines cost
// ~1 s each to compile on CPU drivers.
struct Params {
  M: u32, N: u32, L: u32, S: u32,
  Cin: u32, H: u32, W: u32, Cout: u32,
  Ho: u32, Wo: u32, padH: u32, padW: u32,
  x_off: u32, x_bs: u32, w_off: u32, w_bs: u32,
  y_off: u32, y_bs: u32, b_off: u32, b_bs: u32,
  chunk: u32, Lw: u32, n_out: u32, pitch: u32,
  flags: u32, _p0: u32, _p1: u32, _p2: u32,
}
@group(0) @binding(0) var<uniform> u: Params;

const KHW: u32 = KH * KW;
const F_ACCUM: u32 = 1u;     // add into the written operand
const F_BIAS: u32 = 2u;      // forward: add BIAS[co]
const F_SPLIT: u32 = 4u;     // dweight: write chunk sums to the partials
const F_BIAS_IN_W: u32 = 8u; // dweight: the bias gradient is written through the weights' binding
fn has(f: u32) -> bool { return (u.flags & f) != 0u; }

// 0 ≤ v < n for a signed coordinate (negative values wrap to large u32).
fn inside(v: i32, n: u32) -> bool { return bitcast<u32>(v) < n; }
