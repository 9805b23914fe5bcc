// eoslab's checkpoints in PyTorch, when a Python with torch is on the
// machine (EOSLAB_PYTHON, else /usr/bin/python3 or python3; Debian's
// python3-torch is enough): for each reference CNN id (and an MLP), the
// nn.Sequential that torchSequential() prints is built by PyTorch (resnet20:
// the CIFAR ResNet module in torch_interop.py), the safetensors checkpoint,
// BatchNorm buffers included, loads into it with strict=True, and PyTorch's
// loss and autograd gradient in train() mode on the same physical batches
// equal eoslab's (Wasm core).
// Without torch the suite says so and checks nothing: npm test never needs it.
// Tolerance: loss 1e-5, gradient 1e-4 relative (two f32 engines with
// different summation orders over ≤ 2048-term sums).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelFromArch, parseArchId } from '../core/ts/nn/arch.js';
import { torchSequential } from '../core/ts/nn/model.js';
import { initParams } from '../core/ts/nn/init.js';
import { encodeSafetensors } from '../core/ts/io/safetensors.js';
import { stateDictFromTheta } from '../core/ts/io/torch-state-dict.js';
import { ModelObjective } from '../core/ts/objective/model-objective.js';
import { uploadData } from '../core/ts/objective/data.js';
import { createNodeWasm } from '../hosts/node/wasm.js';
import { rand, randArray, relErr } from './helpers/gpu.js';

function findTorchPython(): string | null {
  for (const py of [process.env.EOSLAB_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean) as string[]) {
    const r = spawnSync(py, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

const PY = findTorchPython();

const CASES = [
  { arch: 'cnn-relu', inShape: [3, 12, 12], classes: 10, loss: 'ce' as const },
  { arch: 'cnn-avgpool-tanh', inShape: [1, 8, 8], classes: 4, loss: 'mse' as const },
  { arch: 'cnn-elu', inShape: [3, 8, 8], classes: 5, loss: 'mse' as const },
  { arch: 'myrtle5:8', inShape: [3, 16, 16], classes: 10, loss: 'ce' as const },
  { arch: 'cnn:c6k5s2p2,p2,c4,ag,f7:gelu', inShape: [2, 9, 9], classes: 3, loss: 'mse' as const },
  { arch: 'fc-tanh', inShape: [20], classes: 3, loss: 'mse' as const },
  // BatchNorm in train() mode over the same physical batches (4 then 2), running-statistics buffers loaded strictly.
  { arch: 'cnn-bn-relu', inShape: [3, 8, 8], classes: 4, loss: 'ce' as const },
  // resnet20 against the CIFAR ResNet module (torch_interop.py's ResNet), not an nn.Sequential.
  { arch: 'resnet20', inShape: [3, 8, 8], classes: 10, loss: 'mse' as const, module: 'resnet20' },
];

if (!PY) {
  test('PyTorch interop (skipped: no Python with torch here; install python3-torch to run it)', () => {});
} else {
  for (const c of CASES) {
    test(`${c.arch} on [${c.inShape}]: PyTorch loads the checkpoint strictly and gives eoslab's loss and gradient`, async () => {
      const model = modelFromArch(c.arch, c.inShape, c.classes);
      const N = 6, d = c.inShape.reduce((a, b) => a * b, 1);
      const theta = initParams(model, { seed: 4, scheme: parseArchId(c.arch, c.classes).init });
      const X = randArray(N * d, 8, 1.5);
      const Y = new Float32Array(N * c.classes);
      const r = rand(9);
      for (let i = 0; i < N; i++) {
        if (c.loss === 'ce') Y[i * c.classes + Math.floor(r() * c.classes)] = 1;
        else for (let j = 0; j < c.classes; j++) Y[i * c.classes + j] = r() - 0.5;
      }
      const dir = mkdtempSync(join(tmpdir(), 'eoslab-torch-'));
      const be = await createNodeWasm({ threads: 1 });
      try {
        const data = uploadData(be, X, Y, N, d, c.classes);
        const obj = new ModelObjective(be, model, data, { loss: c.loss, physicalBatch: 4 });
        const tb = be.alloc(model.P, 'θ'), gb = be.alloc(model.P, 'g');
        be.write(tb, theta);
        const { loss } = await obj.grad(tb, gb);
        const grad = await be.read(gb);
        writeFileSync(join(dir, 'ckpt.safetensors'), encodeSafetensors(stateDictFromTheta(model, theta), { format: 'pt' }));
        writeFileSync(join(dir, 'x.bin'), X);
        writeFileSync(join(dir, 'y.bin'), Y);
        writeFileSync(join(dir, 'spec.json'), JSON.stringify({
          sequential: torchSequential(model), checkpoint: join(dir, 'ckpt.safetensors'), x: join(dir, 'x.bin'), y: join(dir, 'y.bin'),
          N, in_shape: c.inShape, loss: c.loss, classes: c.classes, physical_batch: 4, ...('module' in c ? { module: c.module } : {}),
        }));
        const p = spawnSync(PY, ['tests/helpers/torch_interop.py', join(dir, 'spec.json')], { encoding: 'utf8', maxBuffer: 1 << 28 });
        assert.is(p.status, 0, p.stderr);
        const out = JSON.parse(p.stdout) as { loss: number; grad: Record<string, number[]> };
        assert.ok(Math.abs(out.loss - loss[0]) <= 1e-5 * Math.abs(out.loss), `loss: torch ${out.loss} vs eoslab ${loss[0]}`);
        assert.equal(Object.keys(out.grad).sort(), model.params.map((q) => q.name).sort(), 'parameter names');
        for (const q of model.params) {
          const e = relErr(grad.subarray(q.off, q.off + q.size), out.grad[q.name]);
          assert.ok(e < 1e-4, `${q.name}: gradient rel err ${e}`);
        }
      } finally {
        be.destroy();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}

test.run();
