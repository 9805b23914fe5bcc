// `node --import tsx bench/cnn-profile.ts [--batches 2] [--reps 5] [--ab] [--hvp]`:
// where the Wasm gradient (and HVP) of cnn-relu spends its time, and what the
// conv fusions buy. Not a test, not the bench of record (bench/cnn.ts is).
//
// Profile: the Wasm backend runs every op synchronously on the calling thread
// (workers join inside the call), so wrapping each op method with a clock
// gives exact per-op times without flushes; ops are keyed by kind, mode and
// shape. A/B: the fused plan (planWalk's default), the ReLU-only fusion
// (convFusion: 'relu') and the unfused one (convFusion: false) run in turn in
// one process over the same θ, data and backend, so machine noise hits them
// alike; the median of the per-rep ratios to the unfused time is reported
// (and the ratio of the best times), with the projected bench time (the last
// quiet bench/cnn.ts figure × ratio).
import { parseArgs } from 'node:util';
import { createNodeWasm, enableNodeRelaxedSimd, nodeCoreFlavour } from '../hosts/node/wasm.js';
import { planWalk, type Model } from '../core/ts/nn/model.js';
import { ModelObjective } from '../core/ts/objective/model-objective.js';
import { uploadData } from '../core/ts/objective/data.js';
import { CNN_CLASSES, CNN_D, cnnData, cnnModel, cnnParams } from './cnn-problem.js';
import { median } from './common.js';

const { values: argv } = parseArgs({
  options: {
    batches: { type: 'string', default: '2' },
    'physical-batch': { type: 'string', default: '500' },
    reps: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
    ab: { type: 'boolean', default: false },
    hvp: { type: 'boolean', default: false },
    'grad-ms': { type: 'string', default: '1450' },
    'hvp-ms': { type: 'string', default: '3308' },
  },
});
const B = Number(argv['physical-batch']), N = B * Number(argv.batches), reps = Number(argv.reps);
const relaxed = enableNodeRelaxedSimd();
const be = await createNodeWasm({ threads: Number(argv.threads), flavour: nodeCoreFlavour() });
console.log(`cnn-relu, N = ${N}, physical batch ${B}, ${be.description}${relaxed ? '' : ' (relaxed SIMD unavailable)'}`);

const fused = cnnModel();
const unfused: Model = { ...fused, plan: planWalk(fused.layers, { convFusion: false }) };
const reluOnly: Model = { ...fused, plan: planWalk(fused.layers, { convFusion: 'relu' }) };
const { theta, v } = cnnParams(fused);
const { X, Y } = cnnData(N);
const data = uploadData(be, X, Y, N, CNN_D, CNN_CLASSES);
const th = be.alloc(fused.P, 'θ'), vb = be.alloc(fused.P, 'v'), g = be.alloc(fused.P, 'g'), hv = be.alloc(fused.P, 'Hv');
be.write(th, theta);
be.write(vb, v);
const PLANS = ['unfused', 'relu', 'fused'];
const objs = new Map<string, ModelObjective>([['fused', fused], ['relu', reluOnly], ['unfused', unfused]].map(([k, m]) =>
  [k as string, new ModelObjective(be, m as Model, data, { loss: 'mse', physicalBatch: B })]));

/** Per-op times of one call of `fn`, keyed by op and shape (ms summed over calls). */
function profile(fn: () => Promise<unknown>): Promise<Map<string, { ms: number; n: number }>> {
  const acc = new Map<string, { ms: number; n: number }>();
  const target = be as unknown as Record<string, (op: Record<string, unknown>) => void>;
  const orig: Record<string, (op: Record<string, unknown>) => void> = {};
  for (const name of ['matmul', 'conv', 'pool', 'activation', 'rdelta', 'loss', 'colsum', 'reduce', 'vector']) {
    orig[name] = target[name];
    target[name] = function (op) {
      const t0 = performance.now();
      orig[name].call(be, op);
      const key = opKey(name, op);
      const e = acc.get(key) ?? { ms: 0, n: 0 };
      e.ms += performance.now() - t0;
      e.n++;
      acc.set(key, e);
    };
  }
  return fn().then(() => acc).finally(() => { for (const name in orig) target[name] = orig[name]; });
}

function opKey(name: string, op: Record<string, unknown>): string {
  const s = op.shape as Record<string, number> | undefined;
  switch (name) {
    case 'conv': return `conv ${op.mode}${op.act ? `+${op.act}` : ''}${op.pool ? '+pool' : ''} ${s!.Cin}→${s!.Cout} ${s!.H}×${s!.W}${op.accumulate ? ' acc' : ''}`;
    case 'pool': return `pool ${op.kind} ${op.mode} ${s!.C}×${s!.H}×${s!.W}`;
    case 'activation': return `act ${op.act} ${op.mode} ${op.perModel}`;
    case 'rdelta': return `rdelta ${op.act} ${op.perModel}`;
    case 'matmul': return `matmul ${op.layout} ${op.M}×${op.N}×${op.L}${op.act ? ` +${op.act}` : ''}`;
    default: return name;
  }
}

function printProfile(title: string, p: Map<string, { ms: number; n: number }>, wall: number): void {
  const total = [...p.values()].reduce((s, e) => s + e.ms, 0);
  console.log(`\n${title}: wall ${wall.toFixed(0)} ms, ops ${total.toFixed(0)} ms`);
  for (const [k, e] of [...p].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`  ${e.ms.toFixed(1).padStart(8)} ms ${(100 * e.ms / total).toFixed(1).padStart(5)}%  ×${e.n}  ${k}`);
  }
}

const run = (which: string, hvp: boolean) => {
  const o = objs.get(which)!;
  return hvp ? o.hvp(th, [vb], [hv]) : o.grad(th, g);
};

for (const o of objs.values()) await o.tune();
// The fusions reorder nothing: fused and unfused must agree bit for bit.
for (const hvp of [false, true]) {
  const got: Float32Array[] = [];
  for (const which of PLANS) { await run(which, hvp); got.push(await be.read(hvp ? hv : g)); }
  for (const k of [1, 2]) {
    const diff = got[0].reduce((n, x, i) => n + (Object.is(x, got[k][i]) ? 0 : 1), 0);
    console.log(`${hvp ? 'HVP' : 'gradient'}: ${PLANS[k]} vs unfused ${diff === 0 ? 'bit-identical' : `differ in ${diff} of ${got[0].length} entries`}`);
  }
}
for (const which of PLANS) {
  for (const hvp of argv.hvp ? [false, true] : [false]) {
    await run(which, hvp); // warm-up
    const t0 = performance.now();
    const p = await profile(() => run(which, hvp));
    printProfile(`${which} ${hvp ? 'HVP' : 'gradient'}`, p, performance.now() - t0);
  }
}

if (argv.ab) {
  for (const hvp of argv.hvp ? [false, true] : [false]) {
    const times = new Map<string, number[]>(PLANS.map((p) => [p, []]));
    const ratios = new Map<string, number[]>(PLANS.map((p) => [p, []]));
    for (let r = 0; r < reps; r++) {
      const t: Record<string, number> = {};
      // Rotate which goes first, so a drift in load does not favour one.
      for (let k = 0; k < PLANS.length; k++) {
        const which = PLANS[(k + r) % PLANS.length];
        const t0 = performance.now();
        await run(which, hvp);
        t[which] = performance.now() - t0;
      }
      for (const p of PLANS) { times.get(p)!.push(t[p]); ratios.get(p)!.push(t[p] / t.unfused); }
    }
    const base = Number(hvp ? argv['hvp-ms'] : argv['grad-ms']);
    console.log(`\nA/B ${hvp ? 'HVP' : 'gradient'}, ${reps} reps, ms per physical batch (median, best): ` +
      PLANS.map((p) => `${p} ${(median(times.get(p)!) / (N / B)).toFixed(0)}, ${(Math.min(...times.get(p)!) / (N / B)).toFixed(0)}`).join('; '));
    for (const p of PLANS.slice(1)) {
      const ratio = median(ratios.get(p)!), best = Math.min(...times.get(p)!) / Math.min(...times.get('unfused')!);
      console.log(`  ${p}/unfused: median ratio ${ratio.toFixed(3)} [${ratios.get(p)!.map((x) => x.toFixed(2)).join(' ')}], ` +
        `best/best ${best.toFixed(3)}; projected N = 5000 bench: ${base} ms × ${ratio.toFixed(3)} = ${(base * ratio).toFixed(0)} ms`);
    }
  }
}
for (const o of objs.values()) o.dispose();
be.destroy();

