// The Wasm backend's memory contract: buffers stay resident and readable
// across linear-memory growth, recycled buffers come back zeroed (as fresh
// WebGPU buffers do), and misuse is a one-line error naming the fix.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createNodeWasm } from '../hosts/node/wasm.js';
import type { CoreFlavour } from '../core/ts/backend/wasm/module.js';
import * as ref from './reference/mlp64.js';
import { randArray, relErr } from './helpers/gpu.js';
import { f64, makeProblem, upload } from './helpers/problem.js';

test('buffers survive memory growth; recycled buffers are zeroed', async () => {
  const be = await createNodeWasm({ threads: 2 });
  try {
    const x = randArray(1000, 3);
    const a = be.alloc(1000, 'a');
    be.write(a, x);
    const big = be.alloc(64 << 20, 'big'); // 256 MiB: grows the shared memory several times
    be.write(big, Float32Array.of(1, 2, 3), (64 << 20) - 3);
    assert.equal(Array.from(await be.read(a)), Array.from(x));
    assert.equal(Array.from(await be.read(big, (64 << 20) - 3)), [1, 2, 3]);
    // The grown memory is the one the workers compute in: a threaded matmul on fresh buffers.
    const M = 200, N = 64, L = 300;
    const A = be.alloc(M * L, 'A'), B = be.alloc(N * L, 'B'), C = be.alloc(M * N, 'C');
    be.write(A, new Float32Array(M * L).fill(1));
    be.write(B, new Float32Array(N * L).fill(2));
    be.matmul({ layout: 'abt', M, N, L, K: 1, a: { buf: A, off: 0, bs: 0 }, b: { buf: B, off: 0, bs: 0 }, c: { buf: C, off: 0, bs: 0 } });
    assert.ok((await be.read(C)).every((v) => v === 2 * L));
    be.release(a);
    const again = be.alloc(1000, 'again');
    assert.ok((await be.read(again)).every((v) => v === 0), 'a recycled buffer reads as zeros');
  } finally {
    be.destroy();
  }
});

test('misuse: one-line errors', async () => {
  const be = await createNodeWasm({ threads: 1 });
  const a = be.alloc(10, 'a');
  assert.throws(() => be.alloc(2 ** 31, 'huge'), /needs 8192\.0 MiB, past the 4 GiB Wasm memory: use fewer models or less data/);
  assert.throws(() => be.write(a, new Float32Array(11)), /write to 'a': 11 values at 0 exceed its length 10/);
  assert.throws(() => be.vector({ n: 11, y: a }), /range exceeds its length/);
  assert.throws(() => be.matmul({ layout: 'ab', M: 2, N: 2, L: 3, K: 1, a: { buf: a, off: 5, bs: 0 }, b: { buf: a, off: 0, bs: 0 }, c: { buf: a, off: 0, bs: 0 } }),
    /matmul A: view of 'a' \(offset 5, stride 0, 1×6\) exceeds its length 10/);
  be.destroy();
  assert.throws(() => be.alloc(1, 'late'), /backend used after destroy\(\)/);
  await createNodeWasm({ flavour: 'simd', threads: 2 }).then(
    () => assert.unreachable('threads need the threads build'),
    (e: Error) => assert.match(e.message, /--threads 2 needs the threads build of the Wasm core; the simd build runs one thread/));
});

// The parameterised suites run the default (threads) build; the unshared SIMD
// build (pages without cross-origin isolation) and the scalar build (no Wasm
// SIMD) run the engine's passes too. Tolerance 2e-5 as tests/passes.test.ts.
for (const flavour of ['simd', 'scalar'] as CoreFlavour[]) {
  test(`${flavour} build: loss, gradient and HVP of an MLP against float64 (tanh and gelu, MSE and CE)`, async () => {
    const be = await createNodeWasm({ flavour, threads: 1 });
    try {
      for (const [act, loss] of [['tanh', 'mse'], ['gelu', 'ce']] as const) {
        const p = makeProblem(be, { sizes: [5, 12, 9, 3], act, bias: true, loss, N: 11, seed: 4, physicalBatch: 4 });
        const th = randArray(p.layout.P, 9, 0.8), v = randArray(p.layout.P, 10);
        const tb = upload(be, th, 'θ'), vb = upload(be, v, 'v'), g = be.alloc(p.layout.P, 'g'), hv = be.alloc(p.layout.P, 'hv');
        const args = [p.m64, f64(th), f64(p.X), f64(p.Y), p.N, loss] as const;
        const { loss: l } = await p.obj.grad(tb, g);
        const want = ref.lossAcc64(...args).loss;
        assert.ok(Math.abs(l[0] - want) <= 1e-5 * Math.abs(want), `${act} ${loss}: loss ${l[0]} vs ${want}`);
        const eg = relErr(await be.read(g), ref.grad64(...args));
        assert.ok(eg < 2e-5, `${act} ${loss}: grad rel err ${eg}`);
        await p.obj.hvp(tb, [vb], [hv]);
        const eh = relErr(await be.read(hv), ref.hvp64(...args, f64(v)));
        assert.ok(eh < 2e-5, `${act} ${loss}: hvp rel err ${eh}`);
        for (const b of [tb, vb, g, hv]) be.release(b);
        p.dispose();
      }
    } finally {
      be.destroy();
    }
  });
}

test.run();
