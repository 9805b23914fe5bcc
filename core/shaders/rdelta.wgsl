// R-backward through an activation (docs/architecture.md, "The passes of a dense layer"):
//   R{δ} = σ″(a) ⊙ R{a} ⊙ G + σ′(a) ⊙ S,  G = Wᵀδ (pre-σ′), S = Vᵀδ + WᵀR{δ_next}
// All operands share one [K, rows, cols] layout, so one offset/stride pair each.
struct Params { n: u32, per_model: u32, K: u32, pitch: u32,
  a_off: u32, a_bs: u32, ra_off: u32, ra_bs: u32, g_off: u32, g_bs: u32,
  s_off: u32, s_bs: u32, o_off: u32, o_bs: u32, _p0: u32, _p1: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> Apre: array<f32>;
@group(0) @binding(2) var<storage, read> RA: array<f32>;
@group(0) @binding(3) var<storage, read> G: array<f32>;
@group(0) @binding(4) var<storage, read> S: array<f32>;
@group(0) @binding(5) var<storage, read_write> OUT: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let t = flat_index(g, u.pitch);
  if (t >= u.n) { return; }
  let z = t / u.per_model; let i = t % u.per_model;
  let a = Apre[u.a_off + z * u.a_bs + i];
  OUT[u.o_off + z * u.o_bs + i] =
      act_d2(ACT, a) * RA[u.ra_off + z * u.ra_bs + i] * G[u.g_off + z * u.g_bs + i]
    + act_d1(ACT, a) * S[u.s_off + z * u.s_bs + i];
}
