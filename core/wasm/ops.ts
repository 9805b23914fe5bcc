// The non-matmul ops of the engine (core/ts/backend/types.ts; activation
// products in rdelta.ts, conv and pooling in their own files), ported from
// their WGSL kernels with the same f32 formulas and association order, so
// the Wasm backend agrees with WebGPU to f32 rounding. Pointers are byte
// addresses (0 = absent), strides `*Bs` are per-model strides in elements.
// No managed allocation anywhere: the threads build runs several instances
// over one shared memory, and only alloc() in index.ts may claim heap.
import { philoxBits, philoxNormal, philoxRademacher, philoxSigned, philoxUniform } from './philox';

@inline function at(base: usize, i: usize): usize {
  return base + (i << 2);
}

// ------------------------------------------------------------------ loss

/** ∂ℓ/∂f_j: f − y (MSE), s·p_j − y_j (CE), as mode 0 writes it. */
@inline function lossGrad(lossId: i32, fj: f32, yj: f32, fmax: f32, ssum: f32, ysum: f32): f32 {
  return lossId == 0 ? fj - yj : Mathf.exp(fj - fmax) / ssum * ysum - yj;
}

/**
 * Loss head (loss.wgsl), f/d/rf [K, B, c], y [B, c] shared by all models:
 * lossId 0 MSE ℓ = ½‖f−y‖², 1 CE ℓ = s·lse(f) − y·f with s = Σ_j y_j.
 * mode 0: d = scale·∂ℓ/∂f, pe[z][i] = ℓ, acc[z][i] = [argmax f = argmax y];
 * mode 1: d = scale·H_ℓ·rf;
 * mode 2: d = scale·g·(gᵀrf), g = ∂ℓ/∂f (the empirical Fisher's product).
 */
export function loss(lossId: i32, mode: i32, B: u32, c: u32, K: u32, f: usize, fBs: u32, y: usize,
  d: usize, dBs: u32, pe: usize, peBs: u32, acc: usize, accBs: u32, rf: usize, rfBs: u32, scale: f32): void {
  for (let z: u32 = 0; z < K; z++) {
    for (let i: u32 = 0; i < B; i++) {
      const row = <usize>i * c;
      const f0 = at(f, <usize>z * fBs + row), y0 = at(y, row), d0 = at(d, <usize>z * dBs + row);
      // Stable softmax: shift by the max logit; the first maximum wins argmax.
      let fmax = load<f32>(f0), ymax = load<f32>(y0), ysum: f32 = 0;
      let fargmax: u32 = 0, yargmax: u32 = 0;
      for (let j: u32 = 0; j < c; j++) {
        const fj = load<f32>(at(f0, j)), yj = load<f32>(at(y0, j));
        if (fj > fmax) { fmax = fj; fargmax = j; }
        if (yj > ymax) { ymax = yj; yargmax = j; }
        ysum += yj;
      }
      let ssum: f32 = 0;
      if (lossId == 1) for (let j: u32 = 0; j < c; j++) ssum += Mathf.exp(load<f32>(at(f0, j)) - fmax);
      if (mode == 0) {
        let l: f32 = 0;
        for (let j: u32 = 0; j < c; j++) {
          const fj = load<f32>(at(f0, j)), yj = load<f32>(at(y0, j));
          if (lossId == 0) {
            l += <f32>0.5 * (fj - yj) * (fj - yj);
            store<f32>(at(d0, j), scale * (fj - yj));
          } else {
            const p = Mathf.exp(fj - fmax) / ssum;
            l -= yj * fj;
            store<f32>(at(d0, j), scale * (p * ysum - yj));
          }
        }
        if (lossId == 1) l += ysum * (fmax + Mathf.log(ssum));
        store<f32>(at(pe, <usize>z * peBs + i), l);
        store<f32>(at(acc, <usize>z * accBs + i), fargmax == yargmax ? <f32>1 : <f32>0);
      } else if (mode == 2) {
        const r0 = at(rf, <usize>z * rfBs + row);
        let gr: f32 = 0;
        for (let j: u32 = 0; j < c; j++) gr += lossGrad(lossId, load<f32>(at(f0, j)), load<f32>(at(y0, j)), fmax, ssum, ysum) * load<f32>(at(r0, j));
        for (let j: u32 = 0; j < c; j++) store<f32>(at(d0, j), scale * lossGrad(lossId, load<f32>(at(f0, j)), load<f32>(at(y0, j)), fmax, ssum, ysum) * gr);
      } else {
        const r0 = at(rf, <usize>z * rfBs + row);
        if (lossId == 0) {
          for (let j: u32 = 0; j < c; j++) store<f32>(at(d0, j), scale * load<f32>(at(r0, j)));
        } else {
          let pr: f32 = 0;
          for (let j: u32 = 0; j < c; j++) pr += Mathf.exp(load<f32>(at(f0, j)) - fmax) / ssum * load<f32>(at(r0, j));
          for (let j: u32 = 0; j < c; j++) {
            const p = Mathf.exp(load<f32>(at(f0, j)) - fmax) / ssum;
            store<f32>(at(d0, j), scale * ysum * p * (load<f32>(at(r0, j)) - pr));
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------- colsum

/**
 * Column sums of [K, M, N] d: out[z][n] (+)= Σ_m d[z][m][n] (bias gradients).
 * Each column sums from 0 over rows in order, then is stored or added, as in
 * colsum.wgsl: every build gives the same bits. Columns go in blocks that
 * span a cache line (16 with SIMD), so rows stream through the cache once.
 */
export function colsum(M: u32, N: u32, K: u32, d: usize, dBs: u32, out: usize, outBs: u32, accumulate: i32): void {
  const rowBytes = <usize>N << 2;
  for (let z: u32 = 0; z < K; z++) {
    const dz = at(d, <usize>z * dBs), oz = at(out, <usize>z * outBs);
    let n: u32 = 0;
    if (ASC_FEATURE_SIMD) {
      for (; n + 16 <= N; n += 16) {
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        let p = at(dz, n);
        for (let m: u32 = 0; m < M; m++, p += rowBytes) {
          a0 = f32x4.add(a0, v128.load(p));
          a1 = f32x4.add(a1, v128.load(p, 16));
          a2 = f32x4.add(a2, v128.load(p, 32));
          a3 = f32x4.add(a3, v128.load(p, 48));
        }
        const o = at(oz, n);
        if (accumulate) {
          a0 = f32x4.add(v128.load(o), a0);
          a1 = f32x4.add(v128.load(o, 16), a1);
          a2 = f32x4.add(v128.load(o, 32), a2);
          a3 = f32x4.add(v128.load(o, 48), a3);
        }
        v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
      }
    } else {
      for (; n + 4 <= N; n += 4) {
        let a0: f32 = 0, a1: f32 = 0, a2: f32 = 0, a3: f32 = 0;
        let p = at(dz, n);
        for (let m: u32 = 0; m < M; m++, p += rowBytes) {
          a0 += load<f32>(p); a1 += load<f32>(p, 4); a2 += load<f32>(p, 8); a3 += load<f32>(p, 12);
        }
        const o = at(oz, n);
        if (accumulate) { a0 = load<f32>(o) + a0; a1 = load<f32>(o, 4) + a1; a2 = load<f32>(o, 8) + a2; a3 = load<f32>(o, 12) + a3; }
        store<f32>(o, a0); store<f32>(o, a1, 4); store<f32>(o, a2, 8); store<f32>(o, a3, 12);
      }
    }
    for (; n < N; n++) {
      let a: f32 = 0;
      let p = at(dz, n);
      for (let m: u32 = 0; m < M; m++, p += rowBytes) a += load<f32>(p);
      const o = at(oz, n);
      store<f32>(o, accumulate ? load<f32>(o) + a : a);
    }
  }
}

// ---------------------------------------------------------------- reduce

// Σ x[i]·y[i] (or Σ x[i]) over i < n in f64, in one fixed association on
// every build: four running sums s_k over i ≡ k (mod 4), combined as
// (s0 + s2) + (s1 + s3) (the f64x2 lanes' order), then the tail in order.
// f32 products are exact in f64, so SIMD and scalar agree bit for bit.
@inline function sum4(x: usize, y: usize, n: u32, dot: bool): f64 {
  let i: u32 = 0;
  let total: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const px = at(x, i);
      let a = f64x2.promote_low_f32x4(v128.load64_zero(px));
      let b = f64x2.promote_low_f32x4(v128.load64_zero(px, 8));
      if (dot) {
        const py = at(y, i);
        a = f64x2.mul(a, f64x2.promote_low_f32x4(v128.load64_zero(py)));
        b = f64x2.mul(b, f64x2.promote_low_f32x4(v128.load64_zero(py, 8)));
      }
      lo = f64x2.add(lo, a);
      hi = f64x2.add(hi, b);
    }
    const s = f64x2.add(lo, hi);
    total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  } else {
    let s0: f64 = 0, s1: f64 = 0, s2: f64 = 0, s3: f64 = 0;
    for (; i + 4 <= n; i += 4) {
      const px = at(x, i);
      if (dot) {
        const py = at(y, i);
        s0 += <f64>load<f32>(px) * <f64>load<f32>(py);
        s1 += <f64>load<f32>(px, 4) * <f64>load<f32>(py, 4);
        s2 += <f64>load<f32>(px, 8) * <f64>load<f32>(py, 8);
        s3 += <f64>load<f32>(px, 12) * <f64>load<f32>(py, 12);
      } else {
        s0 += <f64>load<f32>(px); s1 += <f64>load<f32>(px, 4);
        s2 += <f64>load<f32>(px, 8); s3 += <f64>load<f32>(px, 12);
      }
    }
    total = (s0 + s2) + (s1 + s3);
  }
  for (; i < n; i++) total += dot ? <f64>load<f32>(at(x, i)) * <f64>load<f32>(at(y, i)) : <f64>load<f32>(at(x, i));
  return total;
}

/**
 * Deterministic reduction over [K, n] x (and y): out[z] (+)= scale·Σ_i x[z][i]·y[z][i]
 * (plain Σ x when y = 0); out is the address of scalars[slot]. Accumulated in
 * f64 (more accurate than the WGSL's f32 tree), rounded once to f32.
 */
export function reduce(n: u32, K: u32, x: usize, xBs: u32, y: usize, yBs: u32, out: usize, accumulate: i32, scale: f32): void {
  for (let z: u32 = 0; z < K; z++) {
    const px = at(x, <usize>z * xBs);
    const s = <f64>scale * (y ? sum4(px, at(y, <usize>z * yBs), n, true) : sum4(px, 0, n, false));
    const o = at(out, z);
    store<f32>(o, <f32>(accumulate ? <f64>load<f32>(o) + s : s));
  }
}

// ---------------------------------------------------------------- vector

// y = (beta·y + gamma) + alpha·x in vector.wgsl's f32 order (f32x4 lanes round
// exactly as scalar f32 does); keepY false (beta = 0) overwrites y unread.
@inline function axpby(n: u32, y: usize, x: usize, alpha: f32, beta: f32, gamma: f32, hasX: bool, keepY: bool): void {
  let i: u32 = 0;
  if (ASC_FEATURE_SIMD) {
    const va = f32x4.splat(alpha), vb = f32x4.splat(beta), vg = f32x4.splat(gamma);
    for (; i + 4 <= n; i += 4) {
      const py = at(y, i);
      let v = keepY ? f32x4.add(f32x4.mul(vb, v128.load(py)), vg) : vg;
      if (hasX) v = f32x4.add(v, f32x4.mul(va, v128.load(at(x, i))));
      v128.store(py, v);
    }
  }
  for (; i < n; i++) {
    const py = at(y, i);
    let v = keepY ? beta * load<f32>(py) + gamma : gamma;
    if (hasX) v += alpha * load<f32>(at(x, i));
    store<f32>(py, v);
  }
}

/**
 * Flat vectors of n elements: y[i] = alpha·x[i] + beta·y[i] + gamma (x = 0: no
 * x term). beta = 0 overwrites y, so NaN/Inf garbage there does not propagate.
 */
export function vector(n: u32, y: usize, x: usize, alpha: f32, beta: f32, gamma: f32): void {
  if (x) {
    if (beta == 0) axpby(n, y, x, alpha, beta, gamma, true, false);
    else axpby(n, y, x, alpha, beta, gamma, true, true);
  } else {
    if (beta == 0) axpby(n, y, x, alpha, beta, gamma, false, false);
    else axpby(n, y, x, alpha, beta, gamma, false, true);
  }
}

// ----------------------------------------------------------------- optim

/**
 * Element-wise optimizer update on n elements (optim.wgsl); θ is written in every mode:
 * 0 Polyak   v ← βv + g;  θ ← θ − η v
 * 1 Nesterov v ← βv + g;  θ ← θ − η (g + βv)
 * 2 Adam     m ← βm + (1−β)g;  v ← β2 v + (1−β2)g²;  θ ← θ − η (m/c1) / (√(v/c2) + ε)
 * 3 RMSProp  v ← β2 v + (1−β2)g²;  θ ← θ − η g / (√v + ε)
 * 4 precond  θ ← (√(v/c2) + ε)^(-1/2)
 * 5 scale    θ ← θ ⊙ g
 */
export function optim(mode: i32, n: u32, theta: usize, grad: usize, m: usize, v: usize,
  lr: f32, beta: f32, beta2: f32, eps: f32, c1: f32, c2: f32): void {
  // Four lanes at a time with the scalar loop's operations in its order (IEEE
  // +, ×, ÷, √ are exact-rounded in both), so every build gives the same bits.
  const n4: usize = ASC_FEATURE_SIMD && mode <= 3 ? <usize>n & ~3 : 0;
  if (n4 > 0) optimSimd(mode, n4, theta, grad, m, v, lr, beta, beta2, eps, c1, c2);
  for (let i: usize = n4; i < n; i++) {
    const pt = at(theta, i);
    if (mode <= 1) {
      const g = load<f32>(at(grad, i));
      const vi = beta * load<f32>(at(v, i)) + g;
      store<f32>(at(v, i), vi);
      store<f32>(pt, load<f32>(pt) - (mode == 0 ? lr * vi : lr * (g + beta * vi)));
    } else if (mode == 2) {
      const g = load<f32>(at(grad, i));
      const mi = beta * load<f32>(at(m, i)) + (<f32>1 - beta) * g;
      const vi = beta2 * load<f32>(at(v, i)) + (<f32>1 - beta2) * g * g;
      store<f32>(at(m, i), mi);
      store<f32>(at(v, i), vi);
      store<f32>(pt, load<f32>(pt) - lr * (mi / c1) / (Mathf.sqrt(vi / c2) + eps));
    } else if (mode == 3) {
      const g = load<f32>(at(grad, i));
      const vi = beta2 * load<f32>(at(v, i)) + (<f32>1 - beta2) * g * g;
      store<f32>(at(v, i), vi);
      store<f32>(pt, load<f32>(pt) - lr * g / (Mathf.sqrt(vi) + eps));
    } else if (mode == 4) {
      store<f32>(pt, <f32>1 / Mathf.sqrt(Mathf.sqrt(load<f32>(at(v, i)) / c2) + eps));
    } else {
      store<f32>(pt, load<f32>(pt) * load<f32>(at(grad, i)));
    }
  }
}

/** Modes 0–3 of optim over elements [0, n4), n4 a multiple of 4. */
function optimSimd(mode: i32, n4: usize, theta: usize, grad: usize, m: usize, v: usize,
  lr: f32, beta: f32, beta2: f32, eps: f32, c1: f32, c2: f32): void {
  const LR = f32x4.splat(lr), B1 = f32x4.splat(beta), B2 = f32x4.splat(beta2), E = f32x4.splat(eps);
  const C1 = f32x4.splat(c1), C2 = f32x4.splat(c2);
  const OMB1 = f32x4.splat(<f32>1 - beta), OMB2 = f32x4.splat(<f32>1 - beta2);
  for (let i: usize = 0; i < n4; i += 4) {
    const pt = at(theta, i), pv = at(v, i);
    const g = v128.load(at(grad, i));
    if (mode <= 1) {
      const vi = f32x4.add(f32x4.mul(B1, v128.load(pv)), g);
      v128.store(pv, vi);
      const step = mode == 0 ? f32x4.mul(LR, vi) : f32x4.mul(LR, f32x4.add(g, f32x4.mul(B1, vi)));
      v128.store(pt, f32x4.sub(v128.load(pt), step));
    } else if (mode == 2) {
      const pm = at(m, i);
      const mi = f32x4.add(f32x4.mul(B1, v128.load(pm)), f32x4.mul(OMB1, g));
      const vi = f32x4.add(f32x4.mul(B2, v128.load(pv)), f32x4.mul(f32x4.mul(OMB2, g), g));
      v128.store(pm, mi);
      v128.store(pv, vi);
      const den = f32x4.add(f32x4.sqrt(f32x4.div(vi, C2)), E);
      v128.store(pt, f32x4.sub(v128.load(pt), f32x4.div(f32x4.mul(LR, f32x4.div(mi, C1)), den)));
    } else {
      const vi = f32x4.add(f32x4.mul(B2, v128.load(pv)), f32x4.mul(f32x4.mul(OMB2, g), g));
      v128.store(pv, vi);
      v128.store(pt, f32x4.sub(v128.load(pt), f32x4.div(f32x4.mul(LR, g), f32x4.add(f32x4.sqrt(vi), E))));
    }
  }
}

// ------------------------------------------------------------------- toy

/**
 * The theory slides' toy objectives (toy.wgsl) over K models, θ, v, out [K, P]:
 * model 0 L = ½(1 − xyzw)² (P = 4), 1 L = (1 − x²y²)², 2 L = (1 − xy)² (P = 2).
 * mode 0: out[z] = ∇L(θ[z]); mode 1: out[z] = H(θ[z])·v[z].
 * scal is the address of scalars[slot]: L into scal[z], 0 into scal[K + z].
 */
export function toy(model: i32, mode: i32, K: u32, theta: usize, v: usize, out: usize, scal: usize): void {
  const P: usize = model == 0 ? 4 : 2;
  for (let z: u32 = 0; z < K; z++) {
    const t = at(theta, <usize>z * P), o = at(out, <usize>z * P), pv = at(v, <usize>z * P);
    let l: f32 = 0;
    if (model == 0) {
      const x = load<f32>(t), y = load<f32>(t, 4), w2 = load<f32>(t, 8), w = load<f32>(t, 12);
      // ∂p/∂θ_i: the product of the other three coordinates (no division, safe at 0).
      const d0 = y * w2 * w, d1 = x * w2 * w, d2 = x * y * w, d3 = x * y * w2;
      const r: f32 = <f32>1 - x * d0;
      l = <f32>0.5 * r * r;
      if (mode == 0) {
        store<f32>(o, -r * d0); store<f32>(o, -r * d1, 4); store<f32>(o, -r * d2, 8); store<f32>(o, -r * d3, 12);
      } else {
        const v0 = load<f32>(pv), v1 = load<f32>(pv, 4), v2 = load<f32>(pv, 8), v3 = load<f32>(pv, 12);
        // H = ∇p∇pᵀ − r∇²p, ∇²p_ij = the product of the two coordinates other than i, j.
        const zw = w2 * w, yw = y * w, yz = y * w2, xw = x * w, xz = x * w2, xy = x * y;
        const gv = d0 * v0 + d1 * v1 + d2 * v2 + d3 * v3;
        store<f32>(o, d0 * gv - r * zw * v1 - r * yw * v2 - r * yz * v3);
        store<f32>(o, d1 * gv - r * zw * v0 - r * xw * v2 - r * xz * v3, 4);
        store<f32>(o, d2 * gv - r * yw * v0 - r * xw * v1 - r * xy * v3, 8);
        store<f32>(o, d3 * gv - r * yz * v0 - r * xz * v1 - r * xy * v2, 12);
      }
    } else {
      const x = load<f32>(t), y = load<f32>(t, 4);
      let gx: f32, gy: f32, hxx: f32, hxy: f32, hyy: f32;
      if (model == 1) {
        const q = x * x * y * y;
        l = (<f32>1 - q) * (<f32>1 - q);
        gx = <f32>-4 * (<f32>1 - q) * x * y * y;
        gy = <f32>-4 * (<f32>1 - q) * x * x * y;
        hxx = <f32>8 * x * x * y * y * y * y - <f32>4 * (<f32>1 - q) * y * y;
        hxy = <f32>8 * x * x * x * y * y * y - <f32>8 * (<f32>1 - q) * x * y;
        hyy = <f32>8 * x * x * x * x * y * y - <f32>4 * (<f32>1 - q) * x * x;
      } else {
        const r: f32 = <f32>1 - x * y;
        l = r * r;
        gx = <f32>-2 * r * y;
        gy = <f32>-2 * r * x;
        hxx = <f32>2 * y * y;
        hxy = <f32>4 * x * y - <f32>2;
        hyy = <f32>2 * x * x;
      }
      if (mode == 0) {
        store<f32>(o, gx); store<f32>(o, gy, 4);
      } else {
        const vx = load<f32>(pv), vy = load<f32>(pv, 4);
        store<f32>(o, hxx * vx + hxy * vy); store<f32>(o, hxy * vx + hyy * vy, 4);
      }
    }
    store<f32>(at(scal, z), l);
    store<f32>(at(scal, K + z), 0);
  }
}

// ---------------------------------------------------------------- random

/**
 * out[j] = scale · draw(index0 + j), j < n, for dist 0 raw bits (scale
 * ignored), 1 uniform [0, 1), 2 uniform [-1, 1), 3 standard normal, 4
 * Rademacher ±1 (the word's top bit); key
 * (k0, k1) = the seed's low and high words (philox.ts, rng.wgsl).
 */
export function random(dist: i32, out: usize, n: u32, index0: u32, stream: u32, k0: u32, k1: u32, scale: f32): void {
  if (dist == 0) philoxBits(out, n, index0, stream, k0, k1);
  else if (dist == 1) philoxUniform(out, n, index0, stream, k0, k1, scale);
  else if (dist == 2) philoxSigned(out, n, index0, stream, k0, k1, scale);
  else if (dist == 4) philoxRademacher(out, n, index0, stream, k0, k1, scale);
  else philoxNormal(out, n, index0, stream, k0, k1, scale);
}
