// The real networks' costs (issue 14): resnet32 and vgg11 on N CIFAR-shaped
// inputs (3×32×32, 10 classes, MSE; N = 1000, --quick 100), full-batch
// gradient and HVP time on the Wasm core, PyTorch CPU in the same run on the
// same θ, v and data where a Python with torch is found, and the HVP's
// scratch memory (ModelObjective.scratchBytes: activations, cotangents,
// tangents and R-cotangents of one physical batch, K = 1).
//   node --import tsx bench/real-nets.ts [--quick] [--threads T] [--batch B]
// WebGPU is not timed here: bench/cnn.ts times the WebGPU walk, and on a
// machine without a GPU (a software adapter) a resnet32 pass takes minutes.
import { modelFromArch, parseArchId } from '../core/ts/nn/arch.js';
import { initParams } from '../core/ts/nn/init.js';
import type { Model } from '../core/ts/nn/model.js';
import { uploadData } from '../core/ts/objective/data.js';
import { ModelObjective } from '../core/ts/objective/model-objective.js';
import { createNodeWasm } from '../hosts/node/wasm.js';
import { fmt, median, MiB, oneLine, signedArray, syntheticData, timeReps } from './common.js';
import { runTorch } from './torch-run.js';

const argv = process.argv.slice(2);
const flag = (k: string, d: number) => { const i = argv.indexOf(k); return i >= 0 ? Number(argv[i + 1]) : d; };
const quick = argv.includes('--quick');
const N = quick ? 100 : 1000, threads = flag('--threads', 2), B = flag('--batch', quick ? 100 : 250), reps = quick ? 2 : 3;

/**
 * torch_peer.py builds one flat nn.Sequential whose parameters are '<i>.weight':
 * vgg11's nested names (features.<i>, classifier.<i>) are renamed to those
 * indices; a model with residual blocks has no flat Sequential.
 */
function flatNames(m: Model): Model | null {
  if (m.layers.some((l) => l.kind === 'residual')) return null;
  const params = m.layers.flatMap((l) => l.params.map((p) => ({ ...p, name: `${l.index}.${p.name.split('.').pop()}` })));
  return { ...m, params } as Model;
}

async function main(): Promise<void> {
  console.log(`real-nets bench: N = ${N} inputs [3, 32, 32], 10 classes, MSE, physical batch ${B}, Wasm ${threads} threads${quick ? ' (--quick)' : ''}`);
  console.log('WebGPU: not timed here (see the header; bench/cnn.ts times the WebGPU walk)');
  for (const arch of ['resnet32', 'vgg11']) {
    // A Wasm instance per net: its memory never shrinks, and resnet32's HVP scratch (~3.5 GiB at B = 250) leaves no room for vgg11's.
    const be = await createNodeWasm({ threads });
    try {
      const m = modelFromArch(arch, [3, 32, 32], 10);
      const { X, Y } = syntheticData(N, 3 * 32 * 32, 10, 7);
      const theta = initParams(m, { seed: 1, scheme: parseArchId(arch, 10).init }), v = signedArray(m.P, 2);
      const data = uploadData(be, X, Y, N, 3 * 32 * 32, 10);
      const obj = new ModelObjective(be, m, data, { loss: 'mse', physicalBatch: B });
      const tb = be.alloc(m.P, 'θ'), vb = be.alloc(m.P, 'v'), gb = be.alloc(m.P, 'g'), hb = be.alloc(m.P, 'hv');
      be.write(tb, theta); be.write(vb, v);
      let loss = NaN;
      const g = await timeReps(async () => { loss = (await obj.grad(tb, gb)).loss[0]; }, reps, 120_000);
      const h = await timeReps(() => obj.hvp(tb, [vb], [hb]), reps, 120_000);
      console.log(`${arch} (P = ${m.P}): Wasm gradient ${fmt(median(g.times), 0)} ms, HVP ${fmt(median(h.times), 0)} ms; HVP scratch ${fmt(obj.scratchBytes() / MiB)} MiB (B = ${B}); loss ${loss.toPrecision(6)}`);
      for (const b of [tb, vb, gb, hb, data.X, data.Y]) be.release(b);
      obj.dispose();
      const flat = flatNames(m);
      if (!flat) { console.log(`${arch}: PyTorch skipped (torch_peer.py builds flat nn.Sequential models; residual blocks are nested modules)`); continue; }
      try {
        const t = (await runTorch(flat, X, Y, N, { device: 'cpu', B, threads, reps, budgetS: 240, theta, v })).json;
        console.log(`${arch}: PyTorch ${t.torch} CPU (${t.threads} threads) gradient ${fmt(t.grad_ms, 0)} ms, HVP ${fmt(t.hvp_ms, 0)} ms; loss ${t.loss?.toPrecision(6)}`);
      } catch (e) {
        console.log(`${arch}: PyTorch skipped (${oneLine(e)})`);
      }
    } finally {
      be.destroy();
    }
  }
}

main().catch((e) => { console.error(`real-nets: ${oneLine(e)}`); process.exit(1); });
