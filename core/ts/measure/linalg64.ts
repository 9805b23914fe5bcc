// Small dense symmetric linear algebra in float64 on the host, for the
// eigen-solvers: Lanczos' tridiagonal problem and LOBPCG's Rayleigh-Ritz.
// Sizes are tens to a few hundred, so cyclic Jacobi — simple, and accurate
// to high relative precision — is the right tool.

export interface SymEig {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** Eigenvectors as columns of an n×n row-major matrix: vectors[i*n + j] is component i of vector j. */
  vectors: Float64Array;
}

/** Eigen-decomposition of the symmetric n×n row-major matrix A (A is not modified). */
export function symEig(A: Float64Array, n: number, maxSweeps = 60): SymEig {
  if (A.length < n * n) throw new Error(`symEig: matrix holds ${A.length} values, need ${n}×${n}`);
  const a = Float64Array.from(A.subarray(0, n * n));
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0, diag = 0;
    for (let p = 0; p < n; p++) {
      diag += a[p * n + p] * a[p * n + p];
      for (let q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const app = a[p * n + p], aqq = a[q * n + q];
        // Rotation angle zeroing a_pq (Rutishauser's stable form).
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i]);
  const values = Float64Array.from(order, (i) => a[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => { for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src]; });
  return { values, vectors };
}

/** Eigenpairs of the symmetric tridiagonal matrix with diagonal alpha (m) and off-diagonal beta (m−1). */
export function tridiagEig(alpha: ArrayLike<number>, beta: ArrayLike<number>): SymEig {
  const m = alpha.length;
  const T = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    T[i * m + i] = alpha[i];
    if (i + 1 < m) T[i * m + i + 1] = T[(i + 1) * m + i] = beta[i];
  }
  return symEig(T, m);
}

/** Lower Cholesky factor of a symmetric positive definite n×n matrix; throws if B is not SPD. */
export function cholesky(B: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = B[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new Error(`cholesky: matrix is not positive definite (pivot ${i} = ${s})`);
        L[i * n + i] = Math.sqrt(s);
      } else {
        L[i * n + j] = s / L[j * n + j];
      }
    }
  }
  return L;
}

/**
 * Generalised symmetric-definite problem A c = λ B c: C = L⁻¹ A L⁻ᵀ with
 * B = LLᵀ, then c = L⁻ᵀ y. Vectors come out B-orthonormal.
 */
export function generalizedSymEig(A: Float64Array, B: Float64Array, n: number): SymEig {
  const L = cholesky(B, n);
  // Y = L⁻¹ A (forward substitution per column), then C = Y L⁻ᵀ = (L⁻¹ Yᵀ)ᵀ.
  const solveLower = (M: Float64Array) => {
    const X = new Float64Array(n * n);
    for (let col = 0; col < n; col++) {
      for (let i = 0; i < n; i++) {
        let s = M[i * n + col];
        for (let k = 0; k < i; k++) s -= L[i * n + k] * X[k * n + col];
        X[i * n + col] = s / L[i * n + i];
      }
    }
    return X;
  };
  const Y = solveLower(A);
  const Yt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) Yt[i * n + j] = Y[j * n + i];
  const C = solveLower(Yt);
  // Symmetrise away rounding before Jacobi.
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) C[i * n + j] = C[j * n + i] = 0.5 * (C[i * n + j] + C[j * n + i]);
  const { values, vectors } = symEig(C, n);
  // c = L⁻ᵀ y: back substitution per column.
  const out = new Float64Array(n * n);
  for (let col = 0; col < n; col++) {
    for (let i = n - 1; i >= 0; i--) {
      let s = vectors[i * n + col];
      for (let k = i + 1; k < n; k++) s -= L[k * n + i] * out[k * n + col];
      out[i * n + col] = s / L[i * n + i];
    }
  }
  return { values, vectors: out };
}
