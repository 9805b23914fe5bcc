// Running a planned sweep on disk: every member gets its own run directory
// in exactly `train`'s format and place (defaultRunDir, so `eoslab resume
// MEMBER_DIR` works on it alone and a finished one is reused by the same
// identity rule), groups run one after another as K batched models, and the
// sweep folder holds sweep.json (the definition) and sweep.csv (one row per
// member). A rerun of the same sweep skips finished members and continues
// the others from their last good checkpoint.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { validateRun, validateRunData, type RunConfig } from '../../core/ts/run/config.js';
import { configDifferences, describeDifferences, runDirName, safeComponent, sha256Hex } from '../../core/ts/run/identity.js';
import { makeOptimizer } from '../../core/ts/optim/optimizers.js';
import { runModel, type RunData } from '../../core/ts/run/problem.js';
import { runSweepGroup, sweepUnsupported, type SweepMemberSpec } from '../../core/ts/run/sweep.js';
import { chunk, groupMembers } from '../../core/ts/run/sweep-spec.js';
import { backendLimits, groupMemory, maxMembers, mib } from '../../core/ts/run/sweep-plan.js';
import type { Checkpoint } from '../../core/ts/run/records.js';
import { torchSequential, type Model } from '../../core/ts/nn/model.js';
import { createHostBackend, defaultRunDir, type BackendFlags } from './run-command.js';
import { RunDir, writeAtomic } from './run-dir.js';
import { metadataFor, type RunMetadata } from './run-metadata.js';
import { checkDataFingerprint, checkDatasetRecord, datasetRecord, loadDatasetNode, type DatasetRecord } from './dataset-files.js';
import { acquireRunLock, checkRunLock, type RunLock } from './run-lock.js';
import { checkpointProblem, optimizerStateNames, planMetrics } from './run-check.js';
import { sweepCsv } from './sweep-csv.js';
import { loadReferences } from './measure-references.js';

const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

export interface SweepMemberPlan {
  /** Values of the sweep's parameters by CLI name (lr, seed, beta, …): sweep.csv's columns. */
  params: Record<string, number | string>;
  cfg: RunConfig;
}

export interface SweepPlan {
  /** The sweep as a config file writes it (`eoslab sweep sweep.json` reruns it). */
  definition: Record<string, unknown>;
  /** Parameter columns of sweep.csv, in order. */
  columns: string[];
  members: SweepMemberPlan[];
  maxK: number;
  standardize: boolean;
  out?: string;
  force: boolean;
  /** Run only this group (a SLURM array task, sweep-slurm.ts): no sweep folder is written, `sweep merge` gathers the members. */
  group?: number;
}

interface LoadedData { data: RunData; source: string; record: DatasetRecord; model: Model }

type MemberState = { kind: 'reuse' } | { kind: 'fresh' } | { kind: 'continue'; meta: RunMetadata };

/** The sweep folder: --out, else $EOSLAB_RESULTS/sweeps/<dataset>_<arch>_<hash of the members>. */
export function defaultSweepDir(plan: SweepPlan): string {
  const c = plan.members[0].cfg;
  const hash = sha256Hex(JSON.stringify({ members: plan.members.map((m) => runDirName(m.cfg)), standardize: plan.standardize })).slice(0, 8);
  return resolve(process.env.EOSLAB_RESULTS || 'runs', 'sweeps', safeComponent(`${c.dataset}_${c.arch}_${hash}`));
}

export async function runSweep(plan: SweepPlan, flags: BackendFlags, command: string, log: (s: string) => void): Promise<string> {
  // Everything that can be refused is refused before the first write.
  for (const m of plan.members) {
    validateRun(m.cfg);
    makeOptimizer(m.cfg.opt);
    const why = sweepUnsupported(m.cfg);
    if (why) throw new Error(why);
  }
  const datas = new Map<string, LoadedData>();
  const dataFor = async (c: RunConfig) => {
    const key = JSON.stringify([c.dataset, c.datasetSeed, c.arch]);
    if (!datas.has(key)) {
      const ds = await loadDatasetNode(c.dataset, { seed: c.datasetSeed, standardize: plan.standardize });
      const data: RunData = { shape: ds.shape, d: ds.d, c: ds.c, train: ds.train, test: ds.test };
      datas.set(key, { data, source: ds.source, record: datasetRecord(ds, plan.standardize), model: runModel(c, data) });
    }
    return datas.get(key)!;
  };
  const dirs = plan.members.map((m) => new RunDir(defaultRunDir(m.cfg, plan.standardize)));
  const groups = groupMembers(plan.members.map((m) => m.cfg), plan.maxK);
  if (plan.group !== undefined && !(plan.group < groups.length)) {
    throw new Error(`--group ${plan.group}: this sweep has ${groups.length} group${groups.length > 1 ? 's' : ''} (0..${groups.length - 1}): give the array task's index`);
  }
  // An array task looks only at its own members: the others may be running in other tasks, under their locks.
  const mine = plan.group === undefined ? null : new Set(groups[plan.group]);
  const states: MemberState[] = [];
  for (const [i, m] of plan.members.entries()) {
    if (mine && !mine.has(i)) { states.push({ kind: 'reuse' }); continue; }
    const ld = await dataFor(m.cfg);
    validateRunData(m.cfg, ld.data);
    if (m.cfg.eigFreq > 0 && m.cfg.neigs > ld.model.P) throw new Error(`--neigs ${m.cfg.neigs} exceeds the model's ${ld.model.P} parameters`);
    states.push(memberState(dirs[i], m.cfg, ld.record, plan.force));
  }
  if (mine) {
    log(`sweep: group ${plan.group} of ${groups.length} (${mine.size} member${mine.size > 1 ? 's' : ''}); \`eoslab sweep merge\` writes sweep.csv when every group has run`);
    await runGroups([groups[plan.group!]], { plan, dirs, states, dataFor, flags, command, log, total: groups.length, first: plan.group!, after: () => {} });
    return '';
  }
  const sweepDir = plan.out ? resolve(plan.out) : defaultSweepDir(plan);
  if (existsSync(sweepDir) && readdirSync(sweepDir).some((f) => !/^(sweep\.(json|csv)|\.eoslab\.lock)$/.test(f))) {
    throw new Error(`${sweepDir} holds files other than a sweep's: give --out a new or empty directory`);
  }
  mkdirSync(sweepDir, { recursive: true });
  const sweepLock = acquireRunLock(sweepDir);
  const groupOf = new Map<number, number>();
  groups.forEach((g, gi) => g.forEach((i) => groupOf.set(i, gi)));
  const writeCsv = () => writeAtomic(join(sweepDir, 'sweep.csv'), sweepCsv(plan, dirs.map((d) => d.dir), groupOf));
  try {
    writeAtomic(join(sweepDir, 'sweep.json'), JSON.stringify({
      eoslab_version: VERSION, command, definition: plan.definition,
      members: plan.members.map((m, i) => ({ member: i, group: groupOf.get(i), params: m.params, dir: dirs[i].dir, config: m.cfg })),
    }, null, 2) + '\n');
    const reused = states.filter((s) => s.kind === 'reuse').length;
    log(`sweep: ${plan.members.length} members in ${groups.length} group${groups.length > 1 ? 's' : ''}${reused ? `, ${reused} already finished (reused)` : ''}: ${sweepDir}`);
    writeCsv();
    if (reused === plan.members.length) return sweepDir;
    await runGroups(groups, { plan, dirs, states, dataFor, flags, command, log, total: groups.length, first: 0, after: writeCsv });
    writeCsv();
    log(`sweep.csv: ${join(sweepDir, 'sweep.csv')}`);
    return sweepDir;
  } finally {
    sweepLock.release();
  }
}

interface GroupsContext {
  plan: SweepPlan;
  dirs: RunDir[];
  states: MemberState[];
  dataFor(c: RunConfig): Promise<LoadedData>;
  flags: BackendFlags;
  command: string;
  log: (s: string) => void;
  /** Groups in the whole sweep, and the number of the first one given (for the log). */
  total: number;
  first: number;
  /** After each batch: the local sweep rewrites sweep.csv. */
  after(): void;
}

/** Runs the groups' unfinished members, group after group, each split to fit the backend's memory. */
async function runGroups(groups: number[][], x: GroupsContext): Promise<void> {
  const { plan, dirs, states, command, log } = x;
  const dev = await createHostBackend(x.flags, { backend: x.flags.backend, threads: x.flags.threads });
  log(dev.why);
  try {
    for (const [k, g] of groups.entries()) {
      const gi = x.first + k;
      const todo = g.filter((i) => states[i].kind !== 'reuse');
      if (!todo.length) { log(`group ${gi + 1}/${x.total}: every member already finished (reused)`); continue; }
      const c0 = plan.members[todo[0]].cfg, ld = await x.dataFor(c0);
      // Solvers and eigenvectors only for members that measure (--eig-freq > 0).
      const neigs = Math.max(0, ...todo.map((i) => (plan.members[i].cfg.eigFreq > 0 ? plan.members[i].cfg.neigs : 0)));
      const mem = groupMemory(dev.backend, c0, ld.data, neigs), lim = backendLimits(dev.backend);
      const fit = maxMembers(mem, lim);
      log(`group ${gi + 1}/${x.total}: ${todo.length} member${todo.length > 1 ? 's' : ''} of ${c0.dataset} ${c0.arch} ${c0.loss} ${c0.opt.name}` +
        `${c0.batchSize ? ` batch ${c0.batchSize}` : ''}: memory ${mib(mem.fixed)} + ${todo.length} × ${mib(mem.perMember)} = ${mib(mem.fixed + todo.length * mem.perMember)}` +
        (fit < todo.length ? `; ${lim.what} fits ${fit} at a time: split into ${Math.ceil(todo.length / fit)} batches` : ''));
      for (const part of chunk(todo, fit)) {
        // A minibatch group moves in lockstep: members continuing from different steps run apart.
        const byStart = new Map<number, { i: number; ckpt: Checkpoint | null }[]>();
        for (const i of part) {
          const ckpt = states[i].kind === 'continue' ? lastGoodCheckpoint(dirs[i], ld.model, plan.members[i].cfg) : null;
          const key = c0.batchSize > 0 ? ckpt?.step ?? 0 : 0;
          if (!byStart.has(key)) byStart.set(key, []);
          byStart.get(key)!.push({ i, ckpt });
        }
        for (const members of byStart.values()) {
          await runPart(members, { plan, dirs, states, ld, dev, command, log });
          x.after();
        }
      }
    }
  } finally {
    dev.backend.destroy();
  }
}

/** What to do with member i's directory: reuse a finished run, continue an unfinished one, or start fresh. */
function memberState(dir: RunDir, cfg: RunConfig, record: DatasetRecord, force: boolean): MemberState {
  checkRunLock(dir.dir);
  if (!dir.exists()) {
    if (existsSync(dir.dir) && readdirSync(dir.dir).some((f) => f !== '.eoslab.lock' && f !== 'checkpoints')) {
      throw new Error(`${dir.dir} is not empty and holds no eoslab run (no metadata.json): move it away`);
    }
    return { kind: 'fresh' };
  }
  if (force) return { kind: 'fresh' };
  const meta = dir.readMeta();
  const diffs = configDifferences(meta.config, cfg);
  if (diffs.length) throw new Error(`${dir.dir} holds a run with other settings (${describeDifferences(diffs)}): move it away, or rerun with --force`);
  checkDatasetRecord(meta, record, dir.dir);
  checkDataFingerprint(meta, record, dir.dir);
  return meta.status === 'finished' ? { kind: 'reuse' } : { kind: 'continue', meta };
}

/** The latest checkpoint that decodes, is finite and lies within the recorded rows (null: start over). */
function lastGoodCheckpoint(dir: RunDir, model: Model, cfg: RunConfig): Checkpoint | null {
  const meta = dir.readMeta();
  let steps: number[];
  try { steps = planMetrics(dir.readMetricsText(), meta.columns, dir.metricsPath).steps; } catch { return null; }
  const reach = steps.length ? steps[steps.length - 1] + 1 : 0;
  const names = optimizerStateNames(cfg);
  for (const s of dir.checkpointSteps().reverse()) {
    if (s > reach) continue;
    try {
      const c = dir.readCheckpoint(model, s);
      if (checkpointProblem(c, model.P, 'train', names) === null) return c;
    } catch { /* a damaged checkpoint: try the one before */ }
  }
  return null;
}

interface PartContext {
  plan: SweepPlan;
  dirs: RunDir[];
  states: MemberState[];
  ld: LoadedData;
  dev: Awaited<ReturnType<typeof createHostBackend>>;
  command: string;
  log: (s: string) => void;
}

/** Runs members as one batched group: locks and prepares their directories, trains, records each as it stops. */
async function runPart(members: { i: number; ckpt: Checkpoint | null }[], x: PartContext): Promise<void> {
  const { plan, dirs, ld, dev, log } = x;
  const locks: RunLock[] = [];
  // One exit listener per lock (run-lock.ts releases on exit): a large group is no leak.
  process.setMaxListeners(Math.max(process.getMaxListeners(), members.length + 20));
  try {
    const specs: SweepMemberSpec[] = [];
    const metas: RunMetadata[] = [];
    for (const { i, ckpt } of members) {
      const cfg = plan.members[i].cfg, dir = dirs[i];
      mkdirSync(dir.dir, { recursive: true });
      locks.push(acquireRunLock(dir.dir));
      const st = x.states[i];
      let meta: RunMetadata;
      if (st.kind === 'continue' && ckpt) {
        meta = st.meta;
        const rows = planMetrics(dir.readMetricsText(), meta.columns, dir.metricsPath);
        dir.writeMetrics(meta.columns, rows.rows.filter((_, k) => rows.steps[k] < ckpt.step));
        if (cfg.nproj > 0) dir.truncateProjections(Math.ceil(ckpt.step / cfg.iterateFreq), cfg.nproj);
        meta.status = 'running';
        meta.device = x.dev.device;
        meta.resumes.push({ at: new Date().toISOString(), from_step: ckpt.step, changes: {} });
        dir.writeMeta(meta);
      } else {
        meta = metadataFor(cfg, {
          eoslab_version: VERSION, command: x.command, device: dev.device, matmul_variants: {}, dataset_source: ld.source,
          ...ld.record, model: { parameters: ld.model.P, input_shape: ld.model.inShape, torch_sequential: torchSequential(ld.model) },
        } as Parameters<typeof metadataFor>[1]);
        dir.create(meta);
      }
      metas.push(meta);
      const lock = locks[locks.length - 1], label = describeParams(plan.members[i].params);
      specs.push({
        cfg, resume: ckpt ?? undefined, references: loadReferences(cfg, ld.model, ld.model.P),
        sink: {
          row: (r) => dir.appendRow(cfg, r), checkpoint: (c) => dir.writeCheckpoint(ld.model, c),
          projection: (_t, coords) => dir.appendProjection(coords), table: (t) => dir.writeTable(t),
        },
        done: (r) => {
          Object.assign(meta, { status: 'finished', stop_reason: r.reason, last_step: r.step, finished_at: new Date().toISOString() });
          dir.writeMeta(meta);
          lock.release();
          log(`member ${i} (${label}): ${r.reason} at step ${r.step}` + (r.lastRow ? `, train loss ${r.lastRow.train_loss.toPrecision(4)}` : ''));
        },
      });
    }
    await runSweepGroup(dev.backend, specs, ld.data, {
      prepare: async (objs) => {
        for (const o of objs) await o.tune();
        dev.saveTuning();
        for (const [k, m] of metas.entries()) { m.matmul_variants = dev.kernelChoices(); dirs[members[k].i].writeMeta(m); }
      },
    });
  } catch (e) {
    throw new Error(`${(e as Error).message} (finished members are kept; rerun the same sweep to finish the others)`);
  } finally {
    locks.forEach((l) => l.release());
  }
}

export function describeParams(p: Record<string, number | string>): string {
  return Object.entries(p).map(([k, v]) => `${k}=${v}`).join(' ');
}
