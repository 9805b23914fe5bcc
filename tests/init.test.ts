// Initialisation: PyTorch's U(±1/√fan_in), the normal scheme with its own
// readout variance, the scale multiplier, and determinism per seed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { initParams } from '../core/ts/nn/init.js';
import { modelFromArch } from '../core/ts/nn/arch.js';
import { Dense } from '../core/ts/nn/layers/dense.js';

const model = modelFromArch('mlp:300x200:tanh', [100], 50);
/** The dense layers with their θ offsets, as the checks below read them. */
const layout = {
  layers: model.layers.filter((l): l is Dense => l instanceof Dense)
    .map((l, index) => ({ index, inDim: l.inDim, outDim: l.outDim, wOff: l.w.off, bOff: l.bias!.off })),
};

test('pytorch default: bounds and uniform moments per layer', () => {
  const th = initParams(model, { seed: 4 });
  for (const l of layout.layers) {
    const bound = 1 / Math.sqrt(l.inDim);
    const w = th.subarray(l.wOff, l.wOff + l.inDim * l.outDim);
    let sq = 0, max = 0;
    for (const x of w) { sq += x * x; max = Math.max(max, Math.abs(x)); }
    assert.ok(max <= bound, 'inside the bound');
    assert.ok(max > 0.99 * bound, 'fills the interval');
    // U(−b, b) has variance b²/3; n ≥ 10⁴ draws → 5% is > 5 standard errors.
    assert.ok(Math.abs(sq / w.length / (bound * bound / 3) - 1) < 0.05, `layer ${l.index} variance`);
    const b = th.subarray(l.bOff, l.bOff + l.outDim);
    assert.ok(Array.from(b).every((x) => Math.abs(x) <= bound));
  }
});

test('normal scheme: σ_w²/fan_in, separate readout σ, zero bias by default, scale multiplier', () => {
  const th = initParams(model, { seed: 5, scheme: { kind: 'normal', sigmaW: 2, sigmaOut: 0.5 }, scale: 3 });
  layout.layers.forEach((l, i) => {
    const sigma = (i === layout.layers.length - 1 ? 0.5 : 2) * 3 / Math.sqrt(l.inDim);
    const w = th.subarray(l.wOff, l.wOff + l.inDim * l.outDim);
    let sq = 0;
    for (const x of w) sq += x * x;
    assert.ok(Math.abs(Math.sqrt(sq / w.length) / sigma - 1) < 0.05, `layer ${i} std`);
    assert.ok(th.subarray(l.bOff, l.bOff + l.outDim).every((x) => x === 0));
  });
});

test('same seed → identical bits; another seed or model index → different θ', () => {
  const a = initParams(model, { seed: 9 }), b = initParams(model, { seed: 9 });
  assert.equal(new Uint8Array(a.buffer), new Uint8Array(b.buffer));
  assert.not.equal(Array.from(a.subarray(0, 10)), Array.from(initParams(model, { seed: 10 }).subarray(0, 10)));
  assert.not.equal(Array.from(a.subarray(0, 10)), Array.from(initParams(model, { seed: 9, model: 1 }).subarray(0, 10)));
});

test('conv layers: PyTorch default bounds with fan_in = Cin·kh·kw; the normal scheme with a readout σ', () => {
  const cnn = modelFromArch('cnn-relu', [3, 32, 32], 10);
  const th = initParams(cnn, { seed: 2 });
  // Conv2d(3, 32, 3): fan_in 27; Conv2d(32, 32, 3): 288; Linear(2048, 10): 2048.
  for (const [name, fanIn] of [['0', 27], ['3', 288], ['7', 2048]] as const) {
    const bound = 1 / Math.sqrt(fanIn);
    for (const kind of ['weight', 'bias']) {
      const p = cnn.params.find((q) => q.name === `${name}.${kind}`)!;
      const v = th.subarray(p.off, p.off + p.size);
      const max = Math.max(...Array.from(v, Math.abs));
      assert.ok(max <= bound && max > (kind === 'weight' ? 0.99 : 0.5) * bound, `${p.name}: max |θ| ${max} vs bound ${bound}`);
    }
  }
  const my = modelFromArch('myrtle5', [3, 16, 16], 10);
  const tn = initParams(my, { seed: 3, scheme: { kind: 'normal', sigmaW: Math.SQRT2, sigmaOut: 1 } });
  const std = (name: string) => {
    const p = my.params.find((q) => q.name === name)!;
    let sq = 0;
    for (const x of tn.subarray(p.off, p.off + p.size)) sq += x * x;
    return Math.sqrt(sq / p.size);
  };
  // 9216 draws per 32×32×3×3 conv: 5% is > 6 standard errors of the std.
  assert.ok(Math.abs(std('2.weight') / Math.sqrt(2 / 288) - 1) < 0.05, 'hidden conv: N(0, 2/fan_in)');
  assert.ok(Math.abs(std('12.weight') / Math.sqrt(1 / 32) - 1) < 0.25, 'readout: N(0, 1/fan_in) (320 draws)');
});

test.run();
