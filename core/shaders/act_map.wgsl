// A standalone activation over K blocks of per_model elements (ActOp in
// core/ts/backend/types.ts), one invocation per element (grid.wgsl pitch):
//   MODE 0 'apply': OUT[z][i] = σ(X[z][i])
//   MODE 1 'dmul':  OUT[z][i] = σ′(A[z][i]) · X[z][i]     (jvp and vjp of σ)
// σ, σ′ are act_f, act_d1 of activations.wgsl (ACT). In place: X_IN_OUT /
// A_IN_OUT read that operand through OUT (a buffer may not be bound both
// read-only and writable in one dispatch); each invocation reads its own
// element before writing it, so in place means the same view (offset and
// stride): views of one buffer shifted against each other would race.
struct Params { n: u32, per_model: u32, pitch: u32, _p0: u32,
  x_off: u32, x_bs: u32, a_off: u32, a_bs: u32, o_off: u32, o_bs: u32, _p1: u32, _p2: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> A: array<f32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let t = flat_index(g, u.pitch);
  if (t >= u.n) { return; }
  let z = t / u.per_model; let i = t % u.per_model;
  let xi = u.x_off + z * u.x_bs + i;
  var x: f32;
  if (X_IN_OUT) { x = OUT[xi]; } else { x = X[xi]; }
  var v: f32;
  if (MODE == 0u) {
    v = act_f(ACT, x);
  } else {
    let ai = u.a_off + z * u.a_bs + i;
    var a: f32;
    if (A_IN_OUT) { a = OUT[ai]; } else { a = A[ai]; }
    v = act_d1(ACT, a) * x;
  }
  OUT[u.o_off + z * u.o_bs + i] = v;
}
