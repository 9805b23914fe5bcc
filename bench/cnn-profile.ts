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
// quiet bench/cnn.ts figure × ratio). On a shared machine wall times swing
// 2× with other processes' load, so each time is also taken as CPU time
// (process.cpuUsage: user + system of every thread; a sleeping worker uses
// none), which time slicing does not inflate: its ratios are the steadier. The fusions' kernel work also changes
// the unfused ops, so `--baseline FILE` adds a fourth contender: the unfused
// walk on another build of the core (e.g. the relaxed build of the commit the
// 1450 ms were measured at), on its own backend in this process:
//   git archive <commit> core/wasm asconfig.json | tar -x -C /tmp/base &&
//   (cd /tmp/base && <repo>/node_modules/.bin/asc --config asconfig.json --target relaxed)
//   → --baseline /tmp/base/build/eoslab-relaxed.wasm
// `--core FILE` times another relaxed build in place of build/'s (a chain of
// commits A/B'd pairwise). `--baseline-plan fused` runs that build's fused walk instead (a kernel
// change A/B'd on the walk the bench times), and `--plans fused` limits this
// build's contenders (comma-separated; default unfused,relu,fused). The
// first check line then says whether the two builds agree bit for bit.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { createNodeWasm, enableNodeRelaxedSimd, nodeCoreFlavour, spawnNodeWorker } from '../hosts/node/wasm.js';
import { WasmBackend } from '../core/ts/backend/wasm/backend.js';
import type { Backend, Buf } from '../core/ts/backend/types.js';
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
    baseline: { type: 'string' },
    core: { type: 'string' },
    'baseline-plan': { type: 'string', default: 'unfused' },
    plans: { type: 'string', default: 'unfused,relu,fused' },
  },
});
const B = Number(argv['physical-batch']), N = B * Number(argv.batches), reps = Number(argv.reps);
const relaxed = enableNodeRelaxedSimd();
/** A relaxed-SIMD core build from a file (--core, --baseline), on its own backend. */
const fromFile = (file: string) => WasmBackend.create({ module: new WebAssembly.Module(readFileSync(file)), flavour: 'relaxed',
  threads: Number(argv.threads), spawn: spawnNodeWorker, description: cpus()[0]?.model.trim() });
const be = argv.core ? await fromFile(argv.core) : await createNodeWasm({ threads: Number(argv.threads), flavour: nodeCoreFlavour() });
if (argv.core) console.log(`this build: ${argv.core}`);
console.log(`cnn-relu, N = ${N}, physical batch ${B}, ${be.description}${relaxed ? '' : ' (relaxed SIMD unavailable)'}`);

const fused = cnnModel();
const unfused: Model = { ...fused, plan: planWalk(fused.layers, { convFusion: false }) };
const reluOnly: Model = { ...fused, plan: planWalk(fused.layers, { convFusion: 'relu' }) };
const { theta, v } = cnnParams(fused);
const { X, Y } = cnnData(N);

/** A plan on a backend with its own copies of the problem. */
interface Runner { be: Backend; obj: ModelObjective; th: Buf; vb: Buf; g: Buf; hv: Buf }
function runner(backend: Backend, m: Model): Runner {
  const data = uploadData(backend, X, Y, N, CNN_D, CNN_CLASSES);
  const r = { be: backend, obj: new ModelObjective(backend, m, data, { loss: 'mse', physicalBatch: B }),
    th: backend.alloc(m.P, 'θ'), vb: backend.alloc(m.P, 'v'), g: backend.alloc(m.P, 'g'), hv: backend.alloc(m.P, 'Hv') };
  backend.write(r.th, theta);
  backend.write(r.vb, v);
  return r;
}
const models = new Map<string, Model>([['fused', fused], ['relu', reluOnly], ['unfused', unfused]]);
const PLANS = argv.plans.split(',');
for (const p of [...PLANS, argv['baseline-plan']]) if (!models.has(p)) throw new Error(`cnn-profile: unknown plan '${p}': use unfused, relu or fused`);
const runners = new Map<string, Runner>(PLANS.map((k) => [k, runner(be, models.get(k)!)]));
let baseBe: WasmBackend | null = null;
if (argv.baseline) {
  baseBe = await fromFile(argv.baseline);
  runners.set('baseline', runner(baseBe, models.get(argv['baseline-plan'])!));
  PLANS.unshift('baseline');
  console.log(`baseline: the ${argv['baseline-plan']} walk on ${argv.baseline}`);
}

/** Per-op times of one call of `fn`, keyed by op and shape (ms summed over calls). */
interface OpTime { ms: number; cpu: number; n: number }
function profile(be: Backend, fn: () => Promise<unknown>): Promise<Map<string, OpTime>> {
  const acc = new Map<string, OpTime>();
  const target = be as unknown as Record<string, (op: Record<string, unknown>) => void>;
  const orig: Record<string, (op: Record<string, unknown>) => void> = {};
  for (const name of ['matmul', 'conv', 'pool', 'activation', 'rdelta', 'loss', 'colsum', 'reduce', 'vector']) {
    orig[name] = target[name];
    target[name] = function (op) {
      const t0 = performance.now(), c0 = process.cpuUsage();
      orig[name].call(be, op);
      const c = process.cpuUsage(c0), key = opKey(name, op);
      const e = acc.get(key) ?? { ms: 0, cpu: 0, n: 0 };
      e.ms += performance.now() - t0;
      e.cpu += (c.user + c.system) / 1000;
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

function printProfile(title: string, p: Map<string, OpTime>, wall: number): void {
  const total = [...p.values()].reduce((s, e) => s + e.ms, 0), cpu = [...p.values()].reduce((s, e) => s + e.cpu, 0);
  console.log(`\n${title}: wall ${wall.toFixed(0)} ms, ops ${total.toFixed(0)} ms, ops CPU ${cpu.toFixed(0)} ms (both threads)`);
  for (const [k, e] of [...p].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`  ${e.ms.toFixed(1).padStart(8)} ms ${(100 * e.ms / total).toFixed(1).padStart(5)}%  CPU ${e.cpu.toFixed(1).padStart(6)} ms  ×${e.n}  ${k}`);
  }
}

const run = (which: string, hvp: boolean) => {
  const r = runners.get(which)!;
  return hvp ? r.obj.hvp(r.th, [r.vb], [r.hv]) : r.obj.grad(r.th, r.g);
};

for (const r of runners.values()) await r.obj.tune();
// The fusions reorder nothing: fused and unfused must agree bit for bit.
for (const hvp of [false, true]) {
  const got: Float32Array[] = [];
  for (const which of PLANS) { const r = runners.get(which)!; await run(which, hvp); got.push(await r.be.read(hvp ? r.hv : r.g)); }
  // Against the unfused walk where it runs, else the first plan.
  const u = Math.max(0, PLANS.indexOf('unfused'));
  PLANS.forEach((p, k) => {
    if (k === u) return;
    const diff = got[u].reduce((n, x, i) => n + (Object.is(x, got[k][i]) ? 0 : 1), 0);
    const rel = got[u].reduce((m, x, i) => Math.max(m, Math.abs(x - got[k][i])), 0) / got[u].reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    console.log(`${hvp ? 'HVP' : 'gradient'}: ${p} vs ${PLANS[u]} ${diff === 0 ? 'bit-identical' : `differ in ${diff} of ${got[0].length} entries, ‖Δ‖∞/‖g‖∞ = ${rel.toExponential(1)}`}`);
  });
}
for (const which of PLANS) {
  for (const hvp of argv.hvp ? [false, true] : [false]) {
    await run(which, hvp); // warm-up
    const t0 = performance.now();
    const p = await profile(runners.get(which)!.be, () => run(which, hvp));
    printProfile(`${which} ${hvp ? 'HVP' : 'gradient'}`, p, performance.now() - t0);
  }
}

if (argv.ab) {
  for (const hvp of argv.hvp ? [false, true] : [false]) {
    // Ratios to the baseline build's walk when there is one, else to this build's unfused one (else the first plan).
    const ref = argv.baseline ? 'baseline' : PLANS.includes('unfused') ? 'unfused' : PLANS[0];
    const times = new Map<string, number[]>(PLANS.map((p) => [p, []]));
    const cpus = new Map<string, number[]>(PLANS.map((p) => [p, []])), cpuRatios = new Map<string, number[]>(PLANS.map((p) => [p, []]));
    const ratios = new Map<string, number[]>(PLANS.map((p) => [p, []]));
    for (let r = 0; r < reps; r++) {
      const t: Record<string, number> = {}, cpu: Record<string, number> = {};
      // Rotate which goes first, so a drift in load does not favour one.
      for (let k = 0; k < PLANS.length; k++) {
        const which = PLANS[(k + r) % PLANS.length];
        const t0 = performance.now(), c0 = process.cpuUsage();
        await run(which, hvp);
        t[which] = performance.now() - t0;
        const c = process.cpuUsage(c0);
        cpu[which] = (c.user + c.system) / 1000;
      }
      for (const p of PLANS) {
        times.get(p)!.push(t[p]); ratios.get(p)!.push(t[p] / t[ref]);
        cpus.get(p)!.push(cpu[p]); cpuRatios.get(p)!.push(cpu[p] / cpu[ref]);
      }
    }
    const base = Number(hvp ? argv['hvp-ms'] : argv['grad-ms']);
    console.log(`\nA/B ${hvp ? 'HVP' : 'gradient'}, ${reps} reps, ms per physical batch (median, best): ` +
      PLANS.map((p) => `${p} ${(median(times.get(p)!) / (N / B)).toFixed(0)}, ${(Math.min(...times.get(p)!) / (N / B)).toFixed(0)}`).join('; ') +
      `; CPU ms per physical batch (median): ${PLANS.map((p) => `${p} ${(median(cpus.get(p)!) / (N / B)).toFixed(0)}`).join(', ')}`);
    for (const p of PLANS.filter((q) => q !== ref)) {
      const ratio = median(ratios.get(p)!), best = Math.min(...times.get(p)!) / Math.min(...times.get(ref)!);
      console.log(`  ${p}/${ref}: median ratio ${ratio.toFixed(3)} [${ratios.get(p)!.map((x) => x.toFixed(2)).join(' ')}], ` +
        `best/best ${best.toFixed(3)}; CPU time: median ratio ${median(cpuRatios.get(p)!).toFixed(3)} ` +
        `[${cpuRatios.get(p)!.map((x) => x.toFixed(2)).join(' ')}]; projected N = 5000 bench (wall median): ${base} ms × ${ratio.toFixed(3)} = ${(base * ratio).toFixed(0)} ms, ` +
        `(CPU median) × ${median(cpuRatios.get(p)!).toFixed(3)} = ${(base * median(cpuRatios.get(p)!)).toFixed(0)} ms`);
    }
  }
}
for (const r of runners.values()) r.obj.dispose();
be.destroy();
baseBe?.destroy();

