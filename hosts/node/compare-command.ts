// `eoslab compare RUN_A RUN_B [--out DIR] [--from projections|checkpoints]`:
// ‖θ_A(t) − θ_B(t)‖ at matching times t (a run of steps at Σ η, a flow at
// its own time), as in Cohen et al.'s figure of GD against gradient flow.
// The coarser run's times are the grid; the other run is interpolated
// linearly between its neighbouring records (exact where times coincide).
// From projections (both runs with the same --nproj and --seed project on
// the same Gaussian directions r_j ~ N(0, I/P), so ‖R(θ_A − θ_B)‖·√(P/nproj)
// estimates the distance) or from checkpoints (exact, at checkpointed times).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { decodeNpy, NPY_HEADER_BYTES } from '../../core/ts/io/npy.js';
import { decodeSafetensors } from '../../core/ts/io/safetensors.js';
import { compareFigure, type CompareRow } from '../../core/ts/plot/compare.js';
import { dataFreeParams } from '../../core/ts/run/problem.js';
import { RunDir, rowTime, writeAtomic } from './run-dir.js';
import type { RunMetadata } from './run-metadata.js';

export interface CompareOptions {
  out?: string;
  from?: 'projections' | 'checkpoints';
}

/** A run's iterates: time of each record and its vector (projection coordinates or θ). */
interface Track { name: string; times: number[]; vecs: Float32Array[]; scale: number }

export async function compareRuns(a: string, b: string, o: CompareOptions, log: (s: string) => void): Promise<string> {
  const runs = [a, b].map((d) => ({ dir: new RunDir(resolve(d)), name: d }));
  for (const r of runs) if (!r.dir.exists()) throw new Error(`${r.name}: no metadata.json: not an eoslab run directory (eoslab train … prints its run directory)`);
  const metas = runs.map((r) => r.dir.readMeta());
  const params = metas.map((m) => m.model?.parameters ?? dataFreeParams(m.config.dataset));
  if (params[0] !== params[1]) throw new Error(`${a} has ${params[0]} parameters, ${b} ${params[1]}: compare runs of the same model`);
  const haveProj = runs.every((r) => existsSync(r.dir.projPath) && existsSync(r.dir.projStepsPath));
  const from = o.from ?? (haveProj ? 'projections' : 'checkpoints');
  const tracks = from === 'projections' ? runs.map((r) => projectionTrack(r.dir, r.name, params[0] ?? NaN)) : runs.map((r, i) => checkpointTrack(r.dir, r.name, metas[i]));
  if (from === 'projections') {
    const [ca, cb] = metas.map((m) => m.config);
    if (ca.nproj !== cb.nproj || ca.seed !== cb.seed) {
      throw new Error(`${a} (--nproj ${ca.nproj}, --seed ${ca.seed}) and ${b} (--nproj ${cb.nproj}, --seed ${cb.seed}) project on different directions: rerun with the same --nproj and --seed, or --from checkpoints`);
    }
  }
  const rows = matchTimes(tracks[0], tracks[1]);
  if (!rows.length) throw new Error(`${a} and ${b} share no time span (${span(tracks[0])} against ${span(tracks[1])}): compare runs over the same times`);
  const dir = resolve(o.out ?? `compare-${basename(resolve(a))}-vs-${basename(resolve(b))}`);
  try {
    mkdirSync(join(dir, 'figures'), { recursive: true });
  } catch (e) {
    throw new Error(`cannot create ${dir}: ${(e as Error).message.split('\n')[0]}`);
  }
  writeAtomic(join(dir, 'compare.csv'), 'time,distance,relative_distance\n' + rows.map((r) => `${r.time},${r.distance},${r.relative}`).join('\n') + '\n');
  // vega is loaded only here: it would add its start-up time to every other command.
  const { renderSvg } = await import('./plot-command.js');
  const fig = compareFigure(rows, a, b);
  writeAtomic(join(dir, 'figures', `${fig.name}.svg`), await renderSvg(fig));
  log(`compared ${rows.length} matching times (from ${from}): ${join(dir, 'compare.csv')}, ${join(dir, 'figures', 'compare.svg')}`);
  return dir;
}

const span = (t: Track) => `[${t.times[0]}, ${t.times[t.times.length - 1]}]`;

function projectionTrack(dir: RunDir, name: string, P: number): Track {
  const read = (path: string) => {
    try { return new Uint8Array(readFileSync(path)); } catch (e) { throw new Error(`cannot read ${path} (${(e as Error).message.split('\n')[0]}): compare --from checkpoints instead`); }
  };
  const proj = decodeNpy(read(dir.projPath), dir.projPath);
  const steps = read(dir.projStepsPath);
  const header = new TextDecoder().decode(steps.subarray(10, NPY_HEADER_BYTES));
  const m = /'descr': '<f8'.*'shape': \((\d+), 2\)/.exec(header);
  if (!m) throw new Error(`${dir.projStepsPath}: not the (rows, 2) float64 array eoslab writes: compare --from checkpoints instead`);
  const rows = Math.min(Number(m[1]), proj.shape[0]);
  const st = new Float64Array(steps.buffer.slice(steps.byteOffset + NPY_HEADER_BYTES, steps.byteOffset + NPY_HEADER_BYTES + rows * 16));
  const nproj = proj.shape[1];
  return {
    name, times: Array.from({ length: rows }, (_, i) => st[2 * i + 1]),
    vecs: Array.from({ length: rows }, (_, i) => proj.data.subarray(i * nproj, (i + 1) * nproj)),
    // E‖Rx‖² = (nproj/P)‖x‖² for rows r_j ~ N(0, I/P).
    scale: Math.sqrt(P / nproj),
  };
}

function checkpointTrack(dir: RunDir, name: string, meta: RunMetadata): Track {
  const steps = dir.checkpointSteps();
  if (!steps.length) throw new Error(`${name} has no checkpoints and no projections: rerun it with --checkpoint-every F or --nproj N`);
  const times: number[] = [], vecs: Float32Array[] = [];
  for (const s of steps) {
    const file = join(dir.ckptDir, `step_${s}.safetensors`);
    let st;
    try { st = decodeSafetensors(new Uint8Array(readFileSync(file))); } catch (e) { throw new Error(`${file}: ${(e as Error).message.split('\n')[0]}`); }
    const n = st.tensors.reduce((k, t) => k + t.data.length, 0);
    const v = new Float32Array(n);
    let off = 0;
    // Both runs write the same architecture's keys in the same order: θ is their concatenation.
    for (const t of st.tensors) { v.set(t.data as Float32Array, off); off += t.data.length; }
    const time = meta.config.kind === 'flow' ? Number(st.metadata.time) : rowTime(meta.config, { step: s });
    times.push(time);
    vecs.push(v);
  }
  return { name, times, vecs, scale: 1 };
}

/** The coarser track's times within both spans; the other track interpolated linearly there. */
function matchTimes(a: Track, b: Track): CompareRow[] {
  const [grid, other] = a.times.length <= b.times.length ? [a, b] : [b, a];
  const lo = Math.max(a.times[0], b.times[0]), hi = Math.min(a.times[a.times.length - 1], b.times[b.times.length - 1]);
  const tol = 1e-9 * Math.max(1, Math.abs(hi));
  const out: CompareRow[] = [];
  let j = 0;
  grid.times.forEach((t, i) => {
    if (t < lo - tol || t > hi + tol) return;
    while (j + 1 < other.times.length && other.times[j + 1] <= t + tol) j++;
    const t0 = other.times[j], t1 = other.times[Math.min(j + 1, other.times.length - 1)];
    const w = Math.abs(t - t0) <= tol || t1 === t0 ? 0 : (t - t0) / (t1 - t0);
    const v0 = other.vecs[j], v1 = other.vecs[Math.min(j + 1, other.vecs.length - 1)], g = grid.vecs[i];
    let d2 = 0, b2 = 0;
    for (let k = 0; k < g.length; k++) {
      const x = (1 - w) * v0[k] + w * v1[k];
      const bk = grid === b ? g[k] : x, ak = grid === b ? x : g[k];
      d2 += (ak - bk) ** 2;
      b2 += bk * bk;
    }
    out.push({ time: t, distance: Math.sqrt(d2) * grid.scale, relative: b2 > 0 ? Math.sqrt(d2 / b2) : NaN });
  });
  return out;
}
