// Sweeps on a cluster: `eoslab sweep … --emit slurm DIR` writes the sweep's
// definition (DIR/sweep.json, as a local sweep writes it) and a SLURM job
// array (DIR/sweep.slurm) whose task i runs group i of the same plan with
// this CLI (`eoslab sweep DIR/sweep.json --group i`); `eoslab sweep merge
// DIR` then builds sweep.csv from the members' run directories. Groups are a
// pure function of the definition (sweep-spec.ts groupMembers), so the
// emitter and every task agree on which members task i runs.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunConfig } from '../../core/ts/run/config.js';
import { groupMembers } from '../../core/ts/run/sweep-spec.js';
import { sweepUnsupported } from '../../core/ts/run/sweep.js';
import { validateRun } from '../../core/ts/run/config.js';
import { makeOptimizer } from '../../core/ts/optim/optimizers.js';
import { defaultRunDir } from './run-command.js';
import { writeAtomic } from './run-dir.js';
import { sweepCsv } from './sweep-csv.js';
import type { SweepMemberPlan, SweepPlan } from './sweep-run.js';

const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

/** A word for bash, single-quoted (a ' inside becomes '\''). */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** sweep.json as a local sweep writes it: the definition, and each member's group, parameters, directory and configuration. */
export function sweepJson(plan: SweepPlan, command: string): { text: string; groups: number[][] } {
  const groups = groupMembers(plan.members.map((m) => m.cfg), plan.maxK);
  const groupOf = new Map<number, number>();
  groups.forEach((g, gi) => g.forEach((i) => groupOf.set(i, gi)));
  const text = JSON.stringify({
    eoslab_version: VERSION, command, definition: plan.definition,
    members: plan.members.map((m, i) => ({ member: i, group: groupOf.get(i), params: m.params, dir: defaultRunDir(m.cfg, plan.standardize), config: m.cfg })),
  }, null, 2) + '\n';
  return { text, groups };
}

export interface EmitOptions {
  /** --backend and --threads as given when emitting: every task runs with them. */
  backendArgs: string[];
  command: string;
  log(s: string): void;
}

/** Writes DIR/sweep.json and DIR/sweep.slurm; nothing runs. */
export function emitSlurm(plan: SweepPlan, dirArg: string, o: EmitOptions): string {
  for (const m of plan.members) {
    validateRun(m.cfg);
    makeOptimizer(m.cfg.opt);
    const why = sweepUnsupported(m.cfg);
    if (why) throw new Error(why);
  }
  const dir = resolve(dirArg);
  if (existsSync(dir) && readdirSync(dir).some((f) => !/^(sweep\.(json|csv|slurm)|slurm-.*\.out)$/.test(f))) {
    throw new Error(`${dir} holds files other than a sweep's: give --emit slurm a new or empty directory`);
  }
  mkdirSync(dir, { recursive: true });
  const { text, groups } = sweepJson(plan, o.command);
  writeAtomic(join(dir, 'sweep.json'), text);
  // The members' directories are where `train` puts them under EOSLAB_RESULTS: the tasks must see the same folder.
  const results = resolve(process.env.EOSLAB_RESULTS || 'runs');
  const bin = fileURLToPath(new URL('./bin/eoslab.mjs', import.meta.url));
  const task = [process.execPath, bin, 'sweep', join(dir, 'sweep.json')].map(shellQuote).join(' ') +
    ' --group "${SLURM_ARRAY_TASK_ID:?run this script with sbatch, or set SLURM_ARRAY_TASK_ID to a group number}"' +
    o.backendArgs.map((a) => ' ' + shellQuote(a)).join('');
  const script = [
    '#!/bin/bash',
    `#SBATCH --job-name=eoslab-sweep`,
    `#SBATCH --array=0-${groups.length - 1}`,
    `#SBATCH --output=${join(dir, 'slurm-%A_%a.out')}`,
    `# eoslab ${VERSION}: ${plan.members.length} members in ${groups.length} groups; array task i runs group i (its members batched).`,
    '# Add resources above (#SBATCH --gres=gpu:1, --time, --mem) as your cluster needs. When every task has ended:',
    `#   ${[process.execPath, bin].map(shellQuote).join(' ')} sweep merge ${shellQuote(dir)}`,
    '# A task that is cut off is resumed by submitting the array again: finished members are reused.',
    'set -euo pipefail',
    `export EOSLAB_RESULTS="\${EOSLAB_RESULTS:-${results.replace(/["$`\\]/g, '\\$&')}}"`,
    task,
    '',
  ].join('\n');
  const path = join(dir, 'sweep.slurm');
  writeAtomic(path, script);
  o.log(`sweep: ${plan.members.length} members in ${groups.length} group${groups.length > 1 ? 's' : ''}: ${path} (submit with sbatch; then eoslab sweep merge ${dir})`);
  return path;
}

interface RecordedMember { member: number; group: number; params: Record<string, number | string>; dir: string; config: RunConfig }

/** DIR/sweep.json → sweep.csv from the members' directories, whatever ran them (array tasks, a local sweep, both). */
export function mergeSweep(dirArg: string, log: (s: string) => void): string {
  const dir = resolve(dirArg), path = join(dir, 'sweep.json');
  let v: { members?: unknown };
  try { v = JSON.parse(readFileSync(path, 'utf8')); } catch (e) {
    throw new Error(`cannot read ${path} (${(e as Error).message.split('\n')[0]}): give the folder of --emit slurm DIR or of a sweep's sweep.json`);
  }
  const members = v?.members;
  const ok = (m: unknown): m is RecordedMember => !!m && typeof m === 'object' && typeof (m as RecordedMember).dir === 'string'
    && !!(m as RecordedMember).params && typeof (m as RecordedMember).params === 'object' && !!(m as RecordedMember).config && Number.isSafeInteger((m as RecordedMember).group);
  if (!Array.isArray(members) || members.length === 0 || !members.every(ok)) {
    throw new Error(`${path} lists no members with group, params, dir and config: it is not a sweep's sweep.json (emit it again with --emit slurm)`);
  }
  const plan = {
    members: members.map((m): SweepMemberPlan => ({ params: m.params, cfg: m.config })),
    // The parameter columns in the axes' order: every member's params are built in it.
    columns: Object.keys(members[0].params),
  } as Pick<SweepPlan, 'members' | 'columns'> as SweepPlan;
  const csv = sweepCsv(plan, members.map((m) => m.dir), new Map(members.map((m, i) => [i, m.group])));
  writeAtomic(join(dir, 'sweep.csv'), csv);
  const status = csv.trim().split('\n').slice(1).map((l) => l.split(',')[plan.columns.length + 4]);
  const counts = [...new Set(status)].map((s) => `${status.filter((x) => x === s).length} ${s}`).join(', ');
  log(`sweep merge: ${members.length} members (${counts}): ${join(dir, 'sweep.csv')}`);
  return join(dir, 'sweep.csv');
}
