// WebGPU and Wasm agree with each other, not only each with float64:
//  - the same initial θ bit for bit (host-side init, uploaded and read back,
//    and as the run loop's step-0 checkpoint), and the same Philox draws
//    (bits, uniform, signed bit for bit; normal to f32 transcendental
//    accuracy);
//  - the same loss, gradient and HVP on an MLP problem, K = 1 and K = 2;
//  - the same 200-step GD run (loss curve and λ₁ every 20 steps).
//
// Errors are relative, ‖a−b‖∞/‖b‖∞ against WebGPU. Both backends compute in
// f32 with different summation orders (WGSL tiles and reduction trees vs the
// Wasm core's packed blocks and its own trees) and their own exp/tanh/log,
// so they differ by rounding only: each is within a few 1e-7 of float64
// (tests/passes.test.ts), hence of each other. Measured on lavapipe vs the
// Wasm core on 2 threads (printed by each test; asserted bounds ≥ 10× above):
//   random 'normal'           max |Δ| 0 (bit-identical; asserted 1e-6 abs)
//   MLP loss                  8.5e-8 (asserted 1e-6)
//   MLP gradient / HVP        2.1e-7 / 1.6e-7 (asserted 1e-5)
//   accuracy                  6e-8 (a mean of 0/1 summed in f32 in different
//                             orders: 0.25 vs 0.24999999; asserted 1e-6)
//   GD run, 200 steps         loss 1.7e-7, λ₁ 1.3e-7, θ₂₀₀ 3.0e-7 (asserted 1e-5)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend, Distribution } from '../core/ts/backend/types.js';
import { initParams } from '../core/ts/nn/init.js';
import { normals } from '../core/ts/rng/philox.js';
import { DEFAULT_RUN, type RunConfig } from '../core/ts/run/config.js';
import { runExperiment } from '../core/ts/run/experiment.js';
import type { Checkpoint, MetricsRow } from '../core/ts/run/records.js';
import { loadDataset } from '../datasets/registry.js';
import { BACKENDS, testBackend } from './helpers/backends.js';
import { randArray, relErr } from './helpers/gpu.js';
import { makeProblem, upload } from './helpers/problem.js';

const T = suite<{ gpu: Backend; wasm: Backend }>('cross-backend: WebGPU vs Wasm');
T.before(async (ctx) => {
  ctx.gpu = await testBackend('webgpu');
  ctx.wasm = await testBackend('wasm');
});
T.after((ctx) => { ctx.gpu?.destroy(); ctx.wasm?.destroy(); });

const both = <R>(ctx: { gpu: Backend; wasm: Backend }, f: (be: Backend) => Promise<R>) => Promise.all([f(ctx.gpu), f(ctx.wasm)]);
const bitsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

T('initial θ: host-side init uploaded to either backend reads back bit for bit', async (ctx) => {
  const p = makeProblem(ctx.gpu, { sizes: [16, 32, 32, 4], act: 'tanh', bias: true, loss: 'mse', N: 1, seed: 1 });
  const th = initParams(p.layout, { seed: 7 });
  p.dispose();
  const [a, b] = await both(ctx, async (be) => {
    const t = upload(be, th, 'θ');
    const r = await be.read(t);
    be.release(t);
    return r;
  });
  assert.equal(Array.from(bitsOf(a)), Array.from(bitsOf(th)));
  assert.equal(Array.from(bitsOf(b)), Array.from(bitsOf(th)));
});

T('random(): bits, uniform and signed bit for bit; normal within 1e-6 absolute', async (ctx) => {
  // n not a multiple of 4 and index0 odd: Philox blocks straddle the ends.
  const n = 50_003, off = 3;
  const cases = [
    { seed: 0, stream: 0, index0: 0 },
    { seed: 2 ** 40 + 12345, stream: 7, index0: 333 },
    { seed: 123456789, stream: 0x7fffffff, index0: 2 ** 20 + 1 },
  ];
  let worstNormal = 0;
  for (const c of cases) {
    for (const dist of ['bits', 'uniform', 'signed', 'normal'] as Distribution[]) {
      const scale = dist === 'bits' ? undefined : 0.75;
      const [a, b] = await both(ctx, async (be) => {
        const buf = be.alloc(n + off, 'draws');
        be.random({ out: buf, off, n, ...c, dist, scale });
        const r = await be.read(buf);
        be.release(buf);
        return r;
      });
      assert.equal(Array.from(bitsOf(a.subarray(0, off))), [0, 0, 0], 'untouched before off');
      if (dist === 'normal') {
        let e = 0;
        for (let i = off; i < n + off; i++) e = Math.max(e, Math.abs(a[i] - b[i]));
        worstNormal = Math.max(worstNormal, e);
        // Both are ≈ 1e-7-accurate f32 Box–Muller of the same uniforms (|z| ≤ 6·0.75).
        assert.ok(e < 1e-6, `normal ${JSON.stringify(c)}: max |Δ| ${e}`);
        const ref = normals(c.seed, c.stream, c.index0, 8);
        for (let i = 0; i < 8; i++) assert.ok(Math.abs(b[off + i] - 0.75 * ref[i]) < 2e-6, 'Wasm normal vs the float64 definition');
      } else {
        const ba = bitsOf(a), bb = bitsOf(b);
        for (let i = 0; i < n + off; i++) {
          if (ba[i] !== bb[i]) assert.unreachable(`${dist} ${JSON.stringify(c)}: draw ${i - off} differs: ${a[i]} vs ${b[i]}`);
        }
      }
    }
  }
  console.log(`  random: normal max |Δ| ${worstNormal.toExponential(1)}`);
});

T('MLP loss, gradient and HVP agree (K = 1 and 2, MSE and CE)', async (ctx) => {
  const worst = { loss: 0, grad: 0, hvp: 0 };
  for (const loss of ['mse', 'ce'] as const) {
    for (const K of [1, 2]) {
      const opts = { sizes: [16, 32, 32, 4], act: 'tanh' as const, bias: true, loss, N: 200, seed: 31, physicalBatch: 64, K };
      const [a, b] = await both(ctx, async (be) => {
        const p = makeProblem(be, opts);
        const P = p.layout.P;
        const th = new Float32Array(K * P), v = randArray(K * P, 5);
        for (let k = 0; k < K; k++) th.set(initParams(p.layout, { seed: 3, model: k }), k * P);
        const tb = upload(be, th, 'θ'), vb = upload(be, v, 'v'), g = be.alloc(K * P, 'g'), hv = be.alloc(K * P, 'hv');
        const la = await p.obj.grad(tb, g);
        await p.obj.hvp(tb, [vb], [hv]);
        const out = { loss: la.loss, acc: la.acc, g: await be.read(g), hv: await be.read(hv) };
        for (const x of [tb, vb, g, hv]) be.release(x);
        p.dispose();
        return out;
      });
      const el = relErr(b.loss, a.loss), eg = relErr(b.g, a.g), eh = relErr(b.hv, a.hv);
      worst.loss = Math.max(worst.loss, el); worst.grad = Math.max(worst.grad, eg); worst.hvp = Math.max(worst.hvp, eh);
      const what = `${loss} K=${K}`;
      assert.ok(el < 1e-6, `${what}: loss ${Array.from(b.loss)} vs ${Array.from(a.loss)} (rel ${el})`);
      assert.ok(relErr(b.acc, a.acc) < 1e-6, `${what}: accuracy ${Array.from(b.acc)} vs ${Array.from(a.acc)}`);
      assert.ok(eg < 1e-5, `${what}: gradient rel err ${eg}`);
      assert.ok(eh < 1e-5, `${what}: hvp rel err ${eh}`);
    }
  }
  console.log(`  MLP: max rel Δ loss ${worst.loss.toExponential(1)}, gradient ${worst.grad.toExponential(1)}, hvp ${worst.hvp.toExponential(1)}`);
});

// Edge of Stability amplifies rounding, so the run stays just below it: η =
// 0.25 sharpens λ₁ from 5.23 to 7.89 = 0.99·(2/η) by step 200. Every
// perturbation then decays or grows at most linearly, and the two runs stay
// ~1e-7 apart throughout (1e-5 asserted: 60× the measurement).
// At η = 0.3 (the phenomena test's run) λ₁ crosses 2/η = 6.67 near step 110,
// and after ~50 steps of growth along the unstable top eigenvector the runs
// separate: ≤ 2e-7 apart through step 165, then the loss difference doubles
// every step (2e-3 at step 180) and the first catapult spike (loss ×4 over
// steps 185–197) comes a step or two earlier on Wasm, so the loss curves
// differ by up to 110% there and λ₁ at step 200 by 0.6% (6.009 vs 6.044).
// Both are equally valid f32 trajectories: past the edge, only statistics
// (λ₁ ≈ 2/η, tests/phenomena.test.ts) can be compared.
T('200 steps of GD with λ₁ every 20 steps: the same trajectory', async (ctx) => {
  const ds = loadDataset('gmm-256-16-4');
  const cfg: RunConfig = {
    ...DEFAULT_RUN, kind: 'train', dataset: 'gmm-256-16-4', arch: 'mlp:64x64:tanh', loss: 'mse', lr: 0.25, maxSteps: 200,
    neigs: 1, eigFreq: 20, checkpointEvery: 1000,
  };
  const [a, b] = await both(ctx, async (be) => {
    const rows: MetricsRow[] = [], cks: Checkpoint[] = [];
    const r = await runExperiment(be, cfg, { d: ds.d, c: ds.c, train: ds.train, test: ds.test }, {
      row: (x) => { rows.push(x); }, checkpoint: (c) => { cks.push(c); },
    });
    assert.is(r.reason, 'max_steps');
    return { rows, cks };
  });
  assert.is(a.rows.length, 201);
  assert.is(b.rows.length, 201);
  // Steps 0 and 200 checkpointed: θ₀ is the same bits on both.
  assert.equal(a.cks.map((c) => c.step), [0, 200]);
  assert.equal(Array.from(bitsOf(b.cks[0].theta)), Array.from(bitsOf(a.cks[0].theta)), 'θ₀');
  const rel = (x: number, y: number) => Math.abs(x - y) / Math.abs(y);
  let dLoss = 0, dLam = 0;
  const lines: string[] = [];
  for (let t = 0; t <= 200; t++) {
    const ra = a.rows[t], rb = b.rows[t];
    dLoss = Math.max(dLoss, rel(rb.train_loss, ra.train_loss));
    if (t % 20 === 0) {
      const e = rel(rb.lambdas[0]!, ra.lambdas[0]!);
      dLam = Math.max(dLam, e);
      lines.push(`    step ${String(t).padStart(3)}: loss ${ra.train_loss.toFixed(6)} / ${rb.train_loss.toFixed(6)}  λ₁ ${ra.lambdas[0]!.toFixed(5)} / ${rb.lambdas[0]!.toFixed(5)}  Δloss ${rel(rb.train_loss, ra.train_loss).toExponential(1)}  Δλ ${e.toExponential(1)}`);
    } else {
      assert.is(ra.lambdas[0], null);
    }
  }
  const dTheta = relErr(b.cks[1].theta, a.cks[1].theta);
  console.log(`  GD run (WebGPU / Wasm):\n${lines.join('\n')}\n  max rel Δ: loss ${dLoss.toExponential(1)}, λ₁ ${dLam.toExponential(1)}, θ₂₀₀ ${dTheta.toExponential(1)}`);
  assert.ok(dLoss < 1e-5, `loss curves differ by ${dLoss}`);
  assert.ok(dLam < 1e-5, `λ₁ differ by ${dLam}`);
  assert.ok(dTheta < 1e-5, `θ₂₀₀ differs by ${dTheta}`);
  assert.ok(a.rows[200].lambdas[0]! < 2 / cfg.lr, 'the run stays below the edge of stability');
});

if (BACKENDS.length === 2) T.run();
else console.log(`cross-backend: skipped (EOSLAB_TEST_BACKENDS=${process.env.EOSLAB_TEST_BACKENDS} selects one backend)`);
