// The CNN bench's conv flop counts (bench/cnn-problem.ts) must be what the
// engine's walk issues: its "conv flops alone" ratio is how the HVP ≤ 2×
// gradient target is judged, and a hand formula had drifted from the walk
// (it still counted the second conv's input gradient the HVP skips behind
// ReLU and max pooling: 2.43× where the walk issues 2.17×). Counted here
// from the conv ops a gradient and an HVP send to the backend.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend, ConvOp } from '../core/ts/backend/types.js';
import { modelFromArch } from '../core/ts/nn/arch.js';
import { initParams } from '../core/ts/nn/init.js';
import { uploadData } from '../core/ts/objective/data.js';
import { ModelObjective } from '../core/ts/objective/model-objective.js';
import { createNodeWasm } from '../hosts/node/wasm.js';
import { gradConvFlops, hvpConvFlops } from '../bench/cnn-problem.js';

function counting(be: Backend): { backend: Backend; flops: { n: number } } {
  const flops = { n: 0 };
  const backend = new Proxy(be, {
    get(t, key) {
      const v = Reflect.get(t, key, t);
      if (typeof v !== 'function') return v;
      return (...a: unknown[]) => {
        if (key === 'conv') {
          const op = a[0] as ConvOp, s = op.shape;
          flops.n += 2 * op.K * op.B * s.Cout * s.Ho * s.Wo * s.Cin * s.kh * s.kw;
        }
        return v.apply(t, a);
      };
    },
  });
  return { backend, flops };
}

for (const arch of ['cnn-relu', 'cnn-tanh', 'cnn-avgpool-relu', 'myrtle5:4']) {
  test(`${arch}: the bench's conv flop counts equal the conv ops the gradient and HVP issue`, async () => {
    const be = await createNodeWasm({ threads: 1 });
    try {
      const shape: [number, number, number] = [3, 8, 8], N = 6;
      const m = modelFromArch(arch, shape, 10);
      const { backend, flops } = counting(be);
      const X = new Float32Array(N * 192).map((_, i) => Math.sin(i)), Y = new Float32Array(N * 10).map((_, i) => Math.cos(i));
      const data = uploadData(backend, X, Y, N, 192, 10);
      const obj = new ModelObjective(backend, m, data, { loss: 'mse', physicalBatch: 4 });
      const th = backend.alloc(m.P, 'θ'), v = backend.alloc(m.P, 'v'), out = backend.alloc(m.P, 'out');
      backend.write(th, initParams(m, { seed: 1 }));
      backend.write(v, initParams(m, { seed: 2 }));
      flops.n = 0;
      await obj.grad(th, out);
      assert.is(flops.n, gradConvFlops(m, N), 'gradient');
      flops.n = 0;
      await obj.hvp(th, [v], [out]);
      assert.is(flops.n, hvpConvFlops(m, N), 'HVP');
      obj.dispose();
    } finally {
      be.destroy();
    }
  });
}

test.run();
