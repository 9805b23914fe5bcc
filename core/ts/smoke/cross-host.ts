// A fixed small problem every host (Node, Deno, headless Chromium) runs on its
// own WebGPU backend, so tests/hosts.test.ts can check that they agree. Host
// agnostic: only core/ imports, no host globals. Inputs are built from exact
// integer arithmetic and θ, v from the host-side Philox init, so every host
// starts from the same bits; what differs is only the device and its driver.
import type { Backend, Buf } from '../backend/types.js';
import { initParams } from '../nn/init.js';
import { mlpModel, type MlpSpec } from '../nn/mlp.js';
import { modelFromArch } from '../nn/arch.js';
import { ModelObjective } from '../objective/model-objective.js';
import { uploadData } from '../objective/data.js';

export const CROSS_HOST_SPEC: MlpSpec = { sizes: [4, 8, 6, 3], act: 'tanh', bias: true };
export const CROSS_HOST_N = 10;
const PHYSICAL_BATCH = 4; // 10 = 4 + 4 + 2: exercises accumulation and a ragged last pass
const THETA_SEED = 1234;
const V_SEED = 99;
const RNG = { n: 16, seed: 5, stream: 0 } as const;

export interface CrossHostResult {
  /** The backend's adapter description. */
  description: string;
  /** θ as the exact f32 values (host-side init, identical on every host). */
  theta: number[];
  /** Full-batch gradient at θ. */
  grad: number[];
  /** Full-batch Hessian-vector product H v. */
  hvp: number[];
  /** Full-batch mean loss at θ. */
  loss: number;
  /** 16 device-side standard normal draws (seed 5, stream 0). */
  rng: number[];
  /**
   * Every 97th entry of C = A·Bᵀ (M 256, N 64, L 128, exact small-integer
   * inputs, so C is exact in f32): big enough that the Wasm backend splits
   * it over its worker threads.
   */
  matmul: number[];
  /** The same for a small CNN (CROSS_HOST_CNN on CROSS_HOST_CNN_SHAPE inputs, MSE): loss, gradient, Hv. */
  cnn: { loss: number; grad: number[]; hvp: number[] };
}

/** Conv (stride 1 and 2), max pooling, a hidden dense layer: every layer kind of the engine. */
export const CROSS_HOST_CNN = 'cnn:c3,p2,c4s2p1,f5:tanh';
export const CROSS_HOST_CNN_SHAPE = [2, 7, 7];
const CNN_CLASSES = 3;

/** CNN inputs x_ij = ((5i + 3j) mod 13)/6 − 1, targets y_ik = ((i + 2k) mod 5)/4 − ½: exact on every host. */
export function crossHostCnnData(): { X: Float32Array; Y: Float32Array; N: number; d: number; c: number } {
  const N = 5, d = CROSS_HOST_CNN_SHAPE.reduce((a, b) => a * b, 1), c = CNN_CLASSES;
  const X = new Float32Array(N * d), Y = new Float32Array(N * c);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < d; j++) X[i * d + j] = ((i * 5 + j * 3) % 13) / 6 - 1;
    for (let k = 0; k < c; k++) Y[i * c + k] = ((i + 2 * k) % 5) / 4 - 0.5;
  }
  return { X, Y, N, d, c };
}

export function crossHostCnnModel() {
  return modelFromArch(CROSS_HOST_CNN, CROSS_HOST_CNN_SHAPE, CNN_CLASSES);
}

const MM = { M: 256, N: 64, L: 128 } as const;

/** A[m][k] = ((m + 2k) mod 7) − 3, B[n][k] = ((3n + k) mod 5) − 2: products and sums stay exact. */
export function crossHostMatmulInputs(): { A: Float32Array; B: Float32Array } {
  const A = new Float32Array(MM.M * MM.L), B = new Float32Array(MM.N * MM.L);
  for (let m = 0; m < MM.M; m++) for (let k = 0; k < MM.L; k++) A[m * MM.L + k] = ((m + 2 * k) % 7) - 3;
  for (let n = 0; n < MM.N; n++) for (let k = 0; k < MM.L; k++) B[n * MM.L + k] = ((3 * n + k) % 5) - 2;
  return { A, B };
}

/** The exact product's sampled entries (what every backend must return bit for bit). */
export function crossHostMatmulExpected(): number[] {
  const { A, B } = crossHostMatmulInputs();
  const out: number[] = [];
  for (let e = 0; e < MM.M * MM.N; e += 97) {
    const m = Math.floor(e / MM.N), n = e % MM.N;
    let s = 0;
    for (let k = 0; k < MM.L; k++) s += A[m * MM.L + k] * B[n * MM.L + k];
    out.push(s);
  }
  return out;
}

/** The inputs and one-hot targets: x_ij = ((7i + 3j) mod 11)/5 − 1, class i mod 3. */
export function crossHostData(): { X: Float32Array; Y: Float32Array; N: number; d: number; c: number } {
  const N = CROSS_HOST_N, d = CROSS_HOST_SPEC.sizes[0], c = CROSS_HOST_SPEC.sizes[CROSS_HOST_SPEC.sizes.length - 1];
  const X = new Float32Array(N * d), Y = new Float32Array(N * c);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < d; j++) X[i * d + j] = ((i * 7 + j * 3) % 11) / 5 - 1;
    Y[i * c + (i % c)] = 1;
  }
  return { X, Y, N, d, c };
}

export async function crossHostProblem(backend: Backend): Promise<CrossHostResult> {
  const model = mlpModel(CROSS_HOST_SPEC);
  const theta = initParams(model, { seed: THETA_SEED });
  const v = initParams(model, { seed: V_SEED });
  const { X, Y, N, d, c } = crossHostData();

  const bufs: Buf[] = [];
  const alloc = (n: number, label: string) => { const b = backend.alloc(n, label); bufs.push(b); return b; };
  const data = uploadData(backend, X, Y, N, d, c);
  bufs.push(data.X, data.Y);
  const thetaBuf = alloc(model.P, 'cross-host theta');
  const vBuf = alloc(model.P, 'cross-host v');
  const gradBuf = alloc(model.P, 'cross-host grad');
  const hvpBuf = alloc(model.P, 'cross-host hvp');
  const rngBuf = alloc(RNG.n, 'cross-host rng');
  backend.write(thetaBuf, theta);
  backend.write(vBuf, v);

  const objective = new ModelObjective(backend, model, data, { loss: 'ce', physicalBatch: PHYSICAL_BATCH });
  try {
    const { loss } = await objective.grad(thetaBuf, gradBuf);
    await objective.hvp(thetaBuf, [vBuf], [hvpBuf]);
    backend.random({ out: rngBuf, n: RNG.n, seed: RNG.seed, stream: RNG.stream, dist: 'normal' });
    const [grad, hvp, rng] = [await backend.read(gradBuf), await backend.read(hvpBuf), await backend.read(rngBuf)];
    const { A, B } = crossHostMatmulInputs();
    const a = alloc(A.length, 'cross-host A'), b = alloc(B.length, 'cross-host B'), cm = alloc(MM.M * MM.N, 'cross-host C');
    backend.write(a, A);
    backend.write(b, B);
    backend.matmul({ layout: 'abt', ...MM, K: 1, a: { buf: a, off: 0, bs: 0 }, b: { buf: b, off: 0, bs: 0 }, c: { buf: cm, off: 0, bs: 0 } });
    const C = await backend.read(cm);
    const cnn = await crossHostCnn(backend, alloc);
    return {
      description: backend.description,
      theta: Array.from(theta),
      grad: Array.from(grad),
      hvp: Array.from(hvp),
      loss: loss[0],
      rng: Array.from(rng),
      matmul: Array.from(C.filter((_, i) => i % 97 === 0)),
      cnn,
    };
  } finally {
    objective.dispose();
    for (const b of bufs) backend.release(b);
  }
}

async function crossHostCnn(backend: Backend, alloc: (n: number, label: string) => Buf): Promise<CrossHostResult['cnn']> {
  const model = crossHostCnnModel();
  const { X, Y, N, d, c } = crossHostCnnData();
  const data = uploadData(backend, X, Y, N, d, c);
  const obj = new ModelObjective(backend, model, data, { loss: 'mse', physicalBatch: 2 });
  try {
    const th = alloc(model.P, 'cross-host cnn θ'), v = alloc(model.P, 'cross-host cnn v');
    const g = alloc(model.P, 'cross-host cnn grad'), hv = alloc(model.P, 'cross-host cnn hvp');
    backend.write(th, initParams(model, { seed: THETA_SEED }));
    backend.write(v, initParams(model, { seed: V_SEED }));
    const { loss } = await obj.grad(th, g);
    await obj.hvp(th, [v], [hv]);
    return { loss: loss[0], grad: Array.from(await backend.read(g)), hvp: Array.from(await backend.read(hv)) };
  } finally {
    obj.dispose();
    backend.release(data.X);
    backend.release(data.Y);
  }
}
