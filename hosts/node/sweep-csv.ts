// sweep.csv: one row per member, read back from the members' own run
// directories (metadata.json and metrics.csv), so it is right after any
// interruption and can be rebuilt from the directories alone.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SweepPlan } from './sweep-run.js';

/** The columns after the parameters: where the member is, how it ended, and its last row. */
export const RESULT_COLUMNS = ['opt', 'dir', 'status', 'stop_reason', 'last_step', 'train_loss', 'train_acc', 'test_loss', 'test_acc', 'grad_norm'];

export function sweepCsv(plan: SweepPlan, dirs: string[], groupOf: Map<number, number>): string {
  const neigs = Math.max(0, ...plan.members.map((m) => m.cfg.eigFreq > 0 ? m.cfg.neigs : 0));
  const lambdaCols = Array.from({ length: neigs }, (_, i) => `lambda_${i + 1}`);
  const header = ['member', 'group', ...plan.columns, ...RESULT_COLUMNS, ...lambdaCols, 'lambda_step'];
  const lines = [header.join(',')];
  plan.members.forEach((m, i) => {
    const r = memberResult(dirs[i]);
    const cells: (string | number)[] = [i, groupOf.get(i) ?? '', ...plan.columns.map((c) => m.params[c] ?? ''),
      m.cfg.batchSize > 0 && m.cfg.opt.name === 'gd' ? 'sgd' : m.cfg.opt.name, dirs[i], r.status, r.stopReason, r.lastStep,
      ...['train_loss', 'train_acc', 'test_loss', 'test_acc', 'grad_norm'].map((c) => r.last[c] ?? ''),
      ...lambdaCols.map((c) => r.lambdas[c] ?? ''), r.lambdaStep];
    lines.push(cells.map((x) => csvCell(String(x))).join(','));
  });
  return lines.join('\n') + '\n';
}

interface MemberResult {
  status: string;
  stopReason: string;
  lastStep: string;
  /** The last row's cells by column. */
  last: Record<string, string>;
  /** Each λ's last measured value (rows between measurements leave it empty). */
  lambdas: Record<string, string>;
  lambdaStep: string;
}

function memberResult(dir: string): MemberResult {
  const out: MemberResult = { status: 'pending', stopReason: '', lastStep: '', last: {}, lambdas: {}, lambdaStep: '' };
  let meta: { status?: string; stop_reason?: string | null; last_step?: number | null };
  try { meta = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')); } catch { return out; }
  out.status = meta.status === 'finished' ? (meta.stop_reason === 'diverged' ? 'diverged' : 'finished') : 'unfinished';
  out.stopReason = meta.stop_reason ?? '';
  out.lastStep = meta.last_step === null || meta.last_step === undefined ? '' : String(meta.last_step);
  const path = join(dir, 'metrics.csv');
  if (!existsSync(path)) return out;
  // Complete lines only: a member still running may have a half-written last one.
  const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1);
  if (lines.length < 2) return out;
  const cols = lines[0].split(',');
  const rows = lines.slice(1).map((l) => l.split(',')).filter((r) => r.length === cols.length);
  const last = rows[rows.length - 1];
  if (!last) return out;
  cols.forEach((c, k) => { out.last[c] = last[k]; });
  for (const row of rows) {
    let measured = false;
    cols.forEach((c, k) => { if (/^lambda_\d+$/.test(c) && row[k] !== '') { out.lambdas[c] = row[k]; measured = true; } });
    if (measured) out.lambdaStep = row[0];
  }
  if (!out.lastStep) out.lastStep = last[0];
  return out;
}

/** RFC 4180: a cell with a comma, quote or newline is quoted (pandas reads it back). */
function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
