// Optimizer updates at an offset (Optimizer.update's `off`, OptimOp.off):
// a sweep updates each member's slice of the group's K·P θ in place, and
// must get the bits of the same update on the member's own buffer. Before
// OptimOp had `off`, update always started at element 0, so the slice at
// j·P stayed unchanged and the first slice took member j's step.
import * as assert from 'uvu/assert';
import { makeOptimizer, type OptimizerConfig } from '../core/ts/optim/optimizers.js';
import { forEachBackend } from './helpers/backends.js';
import { randArray } from './helpers/gpu.js';
import { upload } from './helpers/problem.js';

const CONFIGS: OptimizerConfig[] = [
  { name: 'gd' }, { name: 'ngd' }, { name: 'polyak', beta: 0.8 }, { name: 'nesterov', beta: 0.7 },
  { name: 'adam', beta1: 0.9, beta2: 0.99, eps: 1e-6 }, { name: 'rmsprop', beta2: 0.9, eps: 1e-6 },
];

forEachBackend('optimizer update at an offset', (T) => {
  for (const cfg of CONFIGS) {
    T(`${cfg.name}: the slice at j·P equals the update on its own buffer bit for bit; the other slices stay`, async ({ be }) => {
      // P not a multiple of 4, so the slice starts off the SIMD lanes' alignment.
      const P = 103, K = 3, j = 1, off = j * P;
      const optA = makeOptimizer(cfg), optB = makeOptimizer(cfg);
      const thK0 = randArray(K * P, 7);
      const thetaK = upload(be, thK0, 'θ[K]'), gradK = be.alloc(K * P, 'g[K]');
      const theta = upload(be, thK0.slice(off, off + P), 'θ'), grad = be.alloc(P, 'g');
      const sa = optA.init(be, P), sb = optB.init(be, P);
      for (let t = 0; t < 5; t++) {
        const g = randArray(K * P, 50 + t);
        be.write(gradK, g);
        be.write(grad, g.slice(off, off + P));
        const norm = Math.hypot(...g.slice(off, off + P));
        optA.update(be, thetaK, gradK, sa, 0.05, norm, off);
        optB.update(be, theta, grad, sb, 0.05, norm);
      }
      const [a, b] = [await be.read(thetaK), await be.read(theta)];
      assert.equal(Array.from(a.slice(off, off + P)), Array.from(b), 'member slice');
      assert.equal(Array.from(a.slice(0, off)), Array.from(thK0.slice(0, off)), 'slice before');
      assert.equal(Array.from(a.slice(off + P)), Array.from(thK0.slice(off + P)), 'slice after');
      optA.dispose(be, sa); optB.dispose(be, sb);
      [thetaK, gradK, theta, grad].forEach((x) => be.release(x));
    });
  }
});
