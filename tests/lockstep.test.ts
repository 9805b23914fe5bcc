// Lockstep eigen-solves (measure/lockstep.ts, issue 13): a sweep's members
// measuring at one step run their solvers at once, and the products they
// wait on go out as one K-model HVP. It rests on the K-model product of each
// model being its K = 1 product bit for bit (checked here on MLPs and CNNs,
// several physical batches); the coordinator issues one product per round of
// waiting lanes, lets finished and failed lanes go, and sends stragglers
// through their own K = 1 operator; and a sweep with --eig-freq 1 (a member
// diverging mid-run, one resumed at another step, an abridged measurement
// set) records every member as its run alone does, with fewer HVP dispatches
// than one member at a time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend, Buf } from '../core/ts/backend/types.js';
import { DEFAULT_RUN, type RunConfig } from '../core/ts/run/config.js';
import { runExperiment } from '../core/ts/run/experiment.js';
import { runSweepGroup } from '../core/ts/run/sweep.js';
import { lockstepSolverBytes } from '../core/ts/run/sweep-plan.js';
import { runModel, type RunData } from '../core/ts/run/problem.js';
import type { Checkpoint, MetricsRow } from '../core/ts/run/records.js';
import { alignedStride, ModelObjective } from '../core/ts/objective/model-objective.js';
import { uploadData } from '../core/ts/objective/data.js';
import { initParams } from '../core/ts/nn/init.js';
import { hessianOperator } from '../core/ts/measure/operator.js';
import { LANE_SLOT, laneSlots, LockstepHvp } from '../core/ts/measure/lockstep.js';
import { loadDataset } from '../datasets/registry.js';
import { BACKENDS, testBackend } from './helpers/backends.js';
import { randArray, testGpu } from './helpers/gpu.js';
import { recorder, spyBackend } from './helpers/spy.js';

/**
 * WebGPU with the vec4 matmul kernels wherever they can run (the kernels
 * whose eligibility depends on views' offsets, hence on a member's place in
 * the batched θ and a solver's scalar slots), and no autotuning: a tune in
 * mid-process (a sweep's repack tunes its rebuilt objectives) would change
 * the kernels the later runs alone use. The Wasm core on one or two threads.
 */
async function backendFor(kind: string, threads = 2): Promise<Backend> {
  return kind === 'webgpu' ? (await testGpu({ forceMatmul: 'vec4-8x8-wg4x8' })).backend : testBackend('wasm', { threads });
}

const gmm = loadDataset('gmm-64-4-2');
/** 24 random 2×8×8 images, 3 one-hot classes. */
const images: RunData = (() => {
  const N = 24, split = { X: randArray(N * 128, 7), Y: Float32Array.from({ length: N * 3 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0)), N };
  return { shape: [2, 8, 8], d: 128, c: 3, train: split, test: split };
})();

/** A K-model objective (models at alignedStride) and the K = 1 one, over the same device data; θ_z from seed z. */
function pair(be: Backend, arch: string, data: RunData, K: number, physicalBatch: number) {
  const model = runModel({ arch }, data), P = model.P, S = alignedStride(P);
  const d = uploadData(be, data.train.X, data.train.Y, data.train.N, data.d, data.c);
  const one = new ModelObjective(be, model, d, { loss: 'mse', physicalBatch });
  const many = new ModelObjective(be, model, d, { loss: 'mse', K, stride: S, physicalBatch });
  const thetaK = be.alloc(K * S, 'θ[K]'), thetas: Buf[] = [];
  for (let z = 0; z < K; z++) {
    const th = initParams(model, { seed: z });
    be.write(thetaK, th, z * S);
    const b = be.alloc(P, `θ ${z}`);
    be.write(b, th);
    thetas.push(b);
  }
  const vec = (seed: number) => { const b = be.alloc(P, 'v'); be.write(b, randArray(P, seed)); return b; };
  const dispose = () => { one.dispose(); many.dispose(); [thetaK, ...thetas, d.X, d.Y].forEach((b) => be.release(b)); };
  return { P, S, one, many, thetaK, thetas, vec, dispose };
}

const sameBits = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

for (const kind of BACKENDS) {
  test(`[${kind}] each model's K-model HVP equals its K = 1 HVP bit for bit: MLP (P = 58, stride 60), CNN with max pool, with BatchNorm, with average pool; several physical batches`, async () => {
    const be = await backendFor(kind);
    try {
      const cases: [string, RunData, number][] = [['mlp:8:tanh', gmm, 64], ['mlp:8:tanh', gmm, 24], ['cnn:c4,p2,f8:relu', images, 10],
        ['cnn:c4,bn,p2,f8:relu', images, 24], ['cnn:c3,a2,c5,f6:tanh', images, 24]];
      for (const [arch, data, pb] of cases) {
        const K = 3, p = pair(be, arch, data, K, pb);
        try {
          // Two vectors per model, at its offset of the K-strided directions.
          const vs = Array.from({ length: K }, (_, z) => [p.vec(10 * z + 1), p.vec(10 * z + 2)]);
          const ins = [0, 1].map(() => be.alloc(K * p.S, 'in')), outs = [0, 1].map(() => be.alloc(K * p.S, 'out'));
          for (let z = 0; z < K; z++) for (let r = 0; r < 2; r++) be.write(ins[r], await be.read(vs[z][r]), z * p.S);
          p.many.encodeHvp(p.thetaK, ins, outs);
          const got = await Promise.all(outs.map((o) => be.read(o)));
          const o1 = be.alloc(p.P, 'out 1');
          for (let z = 0; z < K; z++) for (let r = 0; r < 2; r++) {
            p.one.encodeHvp(p.thetas[z], [vs[z][r]], [o1]);
            const want = await be.read(o1);
            assert.ok(want.some((x) => x !== 0), `${arch}: a non-trivial product`);
            assert.ok(sameBits(got[r].subarray(z * p.S, z * p.S + p.P), want), `${arch} (physical batch ${pb}): model ${z}, vector ${r}`);
          }
          [...ins, ...outs, o1, ...vs.flat()].forEach((b) => be.release(b));
        } finally {
          p.dispose();
        }
      }
    } finally {
      be.destroy();
    }
  });

  test(`[${kind}] the coordinator: one K-model product per round of waiting lanes (blocks of several vectors in one call), finished and failing lanes hold nobody up, a lone straggler goes alone; every product is the K = 1 one`, async () => {
    const be = await backendFor(kind, 1);
    const p = pair(be, 'mlp:8:tanh', gmm, 3, 64);
    try {
      /** A lane applying blocks of these sizes, with a read-back between applications (as the solvers have); returns its products and the K = 1 ones. */
      const lane = (lock: LockstepHvp, z: number, blocks: number[], failAfter = Infinity) => async () => {
        const op = lock.operator(z, hessianOperator(p.one, p.thetas[z]));
        const pairs: [Float32Array, Float32Array][] = [];
        for (const [i, size] of blocks.entries()) {
          if (i >= failAfter) throw new Error(`lane ${z} fails`);
          const vs = Array.from({ length: size }, (_, r) => p.vec(100 * z + 10 * i + r)), outs = vs.map(() => be.alloc(p.P, 'out'));
          await op.apply(vs, outs);
          await be.readScalars(0, 1);
          const ref = be.alloc(p.P, 'ref');
          for (const [r, v] of vs.entries()) {
            p.one.encodeHvp(p.thetas[z], [v], [ref]);
            pairs.push([await be.read(outs[r]), await be.read(ref)]);
          }
          [...vs, ...outs, ref].forEach((b) => be.release(b));
        }
        assert.is(op.applications, blocks.reduce((a, b) => a + b, 0));
        return pairs;
      };
      let lock = new LockstepHvp(be, p.many, p.thetaK, p.S);
      // Round 1: all three (blocks 1, 3, 1 → three rounds of one call); round 2: lanes 1 and 2 (2 of 3 models: still batched); then lane 2 alone.
      const res = await lock.run([lane(lock, 0, [1]), lane(lock, 1, [3, 1]), lane(lock, 2, [1, 2, 1])]);
      lock.dispose();
      assert.equal([lock.batched, lock.solo], [2, 1]);
      res.flat().forEach(([got, want], i) => assert.ok(sameBits(got, want), `product ${i}`));
      // A lane that throws leaves the others to finish; run() then reports its error.
      lock = new LockstepHvp(be, p.many, p.thetaK, p.S);
      let finished = 0;
      const counted = (f: () => Promise<unknown>) => async () => { const r = await f(); finished++; return r; };
      try {
        await lock.run([counted(lane(lock, 0, [1, 1, 1])), lane(lock, 1, [1, 1, 1], 1), counted(lane(lock, 2, [2, 2, 2]))]);
        assert.unreachable('the failing lane rejects run()');
      } catch (e) {
        assert.match((e as Error).message, /lane 1 fails/);
      } finally {
        lock.dispose();
      }
      assert.is(finished, 2, 'the other lanes ran to the end');
      assert.throws(() => lock.operator(3, hessianOperator(p.one, p.thetas[0])), /model 3 is not one of the objective's 3/);
    } finally {
      p.dispose();
      be.destroy();
    }
  });
}

test('lane slots: 64-aligned ranges from LANE_SLOT side by side, waves when the slots or the lane cap run out, a solve too large for them left to run alone', () => {
  assert.equal(laneSlots([81, 23, 81], 65536), [[{ lane: 0, slot: LANE_SLOT }, { lane: 1, slot: LANE_SLOT + 128 }, { lane: 2, slot: LANE_SLOT + 192 }]]);
  assert.equal(laneSlots([81, 81, 81], LANE_SLOT + 300).map((w) => w.map((l) => l.lane)), [[0, 1], [2]]);
  assert.equal(laneSlots([5, 5, 5], 65536, 2).map((w) => w.map((l) => l.slot)), [[LANE_SLOT, LANE_SLOT + 64], [LANE_SLOT]]);
  assert.equal(laneSlots([5000, 81, 81], LANE_SLOT + 4096), [[{ lane: 1, slot: LANE_SLOT }, { lane: 2, slot: LANE_SLOT + 128 }]]);
});

/** The backend, with each HVP's loss-head call (one per vector and physical batch) counted by its number of models. */
function hvpCalls(be: Backend): { backend: Backend; byK: Map<number, number> } {
  const byK = new Map<number, number>();
  const backend = spyBackend(be, (method, a) => {
    const op = a[0] as { mode?: string; K: number };
    if (method === 'loss' && op.mode === 'hess') byK.set(op.K, (byK.get(op.K) ?? 0) + 1);
  });
  return { backend, byK };
}

const cfg = (o: Partial<RunConfig>): RunConfig => ({
  ...DEFAULT_RUN, kind: 'train', dataset: 'gmm-64-4-2', arch: 'mlp:8:tanh', loss: 'mse', lr: 0.1, maxSteps: 8,
  eigFreq: 1, checkpointEvery: 4, divergeLoss: 5, ...o,
});

for (const kind of BACKENDS) for (const eigSolver of ['lobpcg', 'lanczos'] as const) {
  test(`[${kind}] ${eigSolver}, --eig-freq 1: members (one diverging at step 4, one resumed at step 3, abridged measurement set) equal their runs alone bit for bit, with fewer HVP dispatches than one member at a time`, async () => {
    const be = await backendFor(kind, 1);
    try {
      const common = { eigSolver, abridgedSize: 32 };
      // lr 1 diverges at step 4 (train loss above 5); member 3 continues from its own step-3 checkpoint.
      const cfgs = [cfg({ ...common, lr: 0.05, seed: 1 }), cfg({ ...common, lr: 0.2, seed: 2 }), cfg({ ...common, lr: 1 }), cfg({ ...common, lr: 0.1, seed: 3, checkpointEvery: 3 })];
      const first: Checkpoint[] = [];
      await runExperiment(be, { ...cfgs[3], maxSteps: 3 }, gmm, { row: () => {}, checkpoint: (c) => { first.push(c); } });
      const resume = first.find((c) => c.step === 3)!;
      const recs = cfgs.map(() => recorder());
      const { backend, byK } = hvpCalls(be);
      const results = await runSweepGroup(backend, cfgs.map((c, j) => ({ cfg: c, sink: recs[j].sink, resume: j === 3 ? resume : undefined })), gmm);
      assert.equal(results.map((r) => `${r.reason}@${r.step}`), ['max_steps@8', 'max_steps@8', 'diverged@4', 'max_steps@8']);
      let alone = 0;
      for (const [j, c] of cfgs.entries()) {
        const r = recorder();
        await runExperiment(be, c, gmm, r.sink, { resume: j === 3 ? resume : undefined });
        assert.equal(recs[j].rows, r.rows, `member ${j} rows`);
        assert.equal(recs[j].ckpts, r.ckpts, `member ${j} checkpoints`);
        alone += (r.rows as MetricsRow[]).reduce((s, x) => s + (x.eig_hvps ?? 0), 0);
      }
      // One member at a time issues one K = 1 product per HVP (what the code before lockstep did, and eigLanes: 1 still does).
      const issued = [...byK.values()].reduce((a, b) => a + b, 0);
      assert.ok((byK.get(4) ?? 0) > 0, `K-model products issued (${[...byK].join(' ')})`);
      assert.ok(issued < alone, `${issued} HVP dispatches in lockstep, ${alone} one member at a time`);
      const seq = hvpCalls(be);
      await runSweepGroup(seq.backend, cfgs.map((c, j) => ({ cfg: c, sink: recorder().sink, resume: j === 3 ? resume : undefined })), gmm, { eigLanes: 1 });
      assert.equal([...seq.byK], [[1, alone]], 'eigLanes 1: one K = 1 product per HVP');
    } finally {
      be.destroy();
    }
  });
}

/** The backend, with the bytes of live buffers tracked and their peak kept. */
function liveBytes(be: Backend): { backend: Backend; peak: () => number } {
  let live = 0, peak = 0;
  const sizes = new Map<number, number>();
  const backend = spyBackend(be, (method, a, r) => {
    if (method === 'alloc') { sizes.set((r as Buf).id, 4 * (a[0] as number)); live += 4 * (a[0] as number); peak = Math.max(peak, live); }
    if (method === 'release') live -= sizes.get((a[0] as Buf).id) ?? 0;
  });
  return { backend, peak: () => peak };
}

for (const eigSolver of ['lobpcg', 'lanczos'] as const) {
  test(`memory plan [wasm] ${eigSolver}: what solving in lockstep adds to the peak (K solvers and the batched vectors at once) is within K × lockstepSolverBytes`, async () => {
    const be = await testBackend('wasm', { threads: 1 });
    try {
      const K = 4, cfgs = Array.from({ length: K }, (_, j) => cfg({ eigSolver, neigs: 2, lr: 0.05 * (j + 1), seed: j, maxSteps: 3 }));
      const peak = async (eigLanes: number) => {
        const m = liveBytes(be);
        await runSweepGroup(m.backend, cfgs.map((c) => ({ cfg: c, sink: recorder().sink })), gmm, { eigLanes });
        return m.peak();
      };
      const extra = (await peak(Infinity)) - (await peak(1));
      const P = runModel({ arch: 'mlp:8:tanh' }, gmm).P;
      assert.ok(extra > 0 && extra <= K * lockstepSolverBytes(P, alignedStride(P), 2), `lockstep adds ${extra} bytes at the peak, planned ${K} × ${lockstepSolverBytes(P, alignedStride(P), 2)}`);
    } finally {
      be.destroy();
    }
  });
}

test.run();
