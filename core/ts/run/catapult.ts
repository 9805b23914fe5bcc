// The early-training phase diagram of Kalra & Barkeshli (NeurIPS 2023, the
// catapult notebook): train at η = c/λ₀ for c = 2^x, λ₀ the sharpness at
// initialisation, and read off the critical constants from each c's loss and
// sharpness trajectories. Pure: the host runs the members (a batched sweep)
// and hands their trajectories here.
//
// The constants, as the notebook computes them:
//   c_loss  the smallest c whose loss rises above L₀ within T steps;
//   c_sharp the smallest c whose sharpness rises above (1 + ε)·λ₀ within T
//           steps (the "sharpness catapult"; ε guards against fluctuations,
//           the notebook's 0.05);
//   c_max   the largest c of the grid below the first one that diverges.
// c_loss and c_sharp are taken over the c below the first divergence, as the
// notebook only keeps runs that did not diverge.

export interface CatapultTrace {
  c: number;
  eta: number;
  /** Train loss at steps 0, 1, …: ends early where the member diverged. */
  losses: number[];
  /** λ₁ at the same steps (null where not measured: a diverged row). */
  sharpness: (number | null)[];
  diverged: boolean;
}

export interface CatapultRow {
  c: number;
  eta: number;
  /** max over steps 0..T of L_t / L₀ (finite rows only). */
  max_loss_ratio: number;
  /** L_T / L₀, or the last finite row's where the member diverged before T. */
  final_loss_ratio: number;
  /** λ_T / λ₀ (the last measured λ within T where the member diverged before T). */
  sharpness_ratio: number;
  /** max over steps 1..T of λ_t / λ₀: what c_sharp reads. */
  max_sharpness_ratio: number;
  diverged: boolean;
}

export interface Phase {
  lambda0: number;
  loss0: number;
  c_loss: number | null;
  c_sharp: number | null;
  /** null where the smallest c already diverged. */
  c_max: number | null;
  /** The smallest c that diverged (null: none on the grid, so c_max is only a lower bound). */
  c_diverged: number | null;
}

export const CATAPULT_CSV_COLUMNS: (keyof CatapultRow)[] = ['c', 'eta', 'max_loss_ratio', 'final_loss_ratio', 'sharpness_ratio', 'max_sharpness_ratio', 'diverged'];

/** c = 2^x for x = start, start + step, … ≤ max, counted (not accumulated) so the grid is exact where step divides the span. */
export function cGrid(start: number, step: number, max: number): number[] {
  if (!(step > 0) || !Number.isFinite(step)) throw new Error(`--x-step must be a positive number, got ${step}`);
  if (!(max >= start)) throw new Error(`--x-max (${max}) must be at least --x-start (${start})`);
  const n = Math.floor((max - start) / step + 1e-9);
  if (n >= 1000) throw new Error(`--x-start ${start} to --x-max ${max} in steps of ${step} is ${n + 1} values of c: at most 1000 (raise --x-step)`);
  return Array.from({ length: n + 1 }, (_, i) => 2 ** (start + i * step));
}

/** The row of one c from its trajectory over steps 0..T. */
export function catapultRow(tr: CatapultTrace, lambda0: number, loss0: number, T: number): CatapultRow {
  const upTo = Math.min(T, tr.losses.length - 1);
  const losses = tr.losses.slice(0, upTo + 1).filter(Number.isFinite);
  const lams = tr.sharpness.slice(1, upTo + 1).filter((x): x is number => x !== null && Number.isFinite(x));
  const lastLam = [...tr.sharpness.slice(0, upTo + 1)].reverse().find((x): x is number => x !== null && Number.isFinite(x)) ?? NaN;
  return {
    c: tr.c, eta: tr.eta,
    max_loss_ratio: Math.max(...losses) / loss0,
    final_loss_ratio: losses[losses.length - 1] / loss0,
    sharpness_ratio: lastLam / lambda0,
    max_sharpness_ratio: lams.length ? Math.max(...lams) / lambda0 : NaN,
    diverged: tr.diverged,
  };
}

/** The critical constants of one architecture from its rows (any order). */
export function phaseOf(rows: CatapultRow[], lambda0: number, loss0: number, sharpEps: number): Phase {
  const sorted = [...rows].sort((a, b) => a.c - b.c);
  const firstDiv = sorted.findIndex((r) => r.diverged);
  const stable = firstDiv < 0 ? sorted : sorted.slice(0, firstDiv);
  const first = (ok: (r: CatapultRow) => boolean) => stable.find(ok)?.c ?? null;
  return {
    lambda0, loss0,
    c_loss: first((r) => r.max_loss_ratio > 1),
    c_sharp: first((r) => r.max_sharpness_ratio > 1 + sharpEps),
    c_max: stable.length ? stable[stable.length - 1].c : null,
    c_diverged: firstDiv < 0 ? null : sorted[firstDiv].c,
  };
}

export interface ArchPoint {
  arch: string;
  /** Hidden width and hidden-layer count of an mlp id (null for other architectures). */
  width: number | null;
  depth: number | null;
}

const MLP = /^mlp:([0-9x]*):([a-z]+)(:nobias)?$/;

/** Width and depth of an architecture id (mlp:WxW…: the first width, the number of hidden layers). */
export function archPoint(arch: string): ArchPoint {
  const m = MLP.exec(arch);
  if (!m || m[1] === '') return { arch, width: null, depth: null };
  const ws = m[1].split('x').map(Number);
  return { arch, width: ws[0], depth: ws.length };
}

/**
 * The architectures of a phase diagram: ARCH alone, or over --widths and
 * --depths an mlp id rebuilt as W×…×W (depth hidden layers) with ARCH's
 * activation and bias; a missing list keeps ARCH's own width or depth.
 */
export function archGrid(arch: string, widths: number[] | null, depths: number[] | null): ArchPoint[] {
  if (!widths && !depths) return [archPoint(arch)];
  const m = MLP.exec(arch);
  if (!m || m[1] === '') throw new Error(`--widths and --depths rebuild an mlp architecture, and '${arch}' is not one: give ARCH as mlp:<W>:<act> (e.g. mlp:512:relu:nobias)`);
  const own = archPoint(arch);
  const out: ArchPoint[] = [];
  for (const d of depths ?? [own.depth!]) {
    for (const w of widths ?? [own.width!]) out.push({ arch: `mlp:${Array(d).fill(w).join('x')}:${m[2]}${m[3] ?? ''}`, width: w, depth: d });
  }
  return out;
}

const cell = (x: number | boolean | null) => x === null ? '' : typeof x === 'boolean' ? String(x) : Number.isFinite(x) ? String(x) : x > 0 ? 'inf' : x < 0 ? '-inf' : 'nan';

export function catapultCsv(rows: CatapultRow[]): string {
  return [CATAPULT_CSV_COLUMNS.join(','), ...rows.map((r) => CATAPULT_CSV_COLUMNS.map((k) => cell(r[k])).join(','))].join('\n') + '\n';
}

export const PHASE_CSV_COLUMNS = ['arch', 'width', 'depth', 'lambda0', 'c_loss', 'c_sharp', 'c_max', 'c_diverged'];

export function phaseCsv(entries: { point: ArchPoint; phase: Phase }[]): string {
  const q = (s: string) => /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  return [PHASE_CSV_COLUMNS.join(','), ...entries.map(({ point: a, phase: p }) =>
    [q(a.arch), cell(a.width), cell(a.depth), cell(p.lambda0), cell(p.c_loss), cell(p.c_sharp), cell(p.c_max), cell(p.c_diverged)].join(','))].join('\n') + '\n';
}

/** Every step's loss and sharpness, absolute and relative to step 0, one row per (c, step). */
export function trajectoriesCsv(traces: CatapultTrace[], lambda0: number, loss0: number): string {
  const lines = ['c,step,train_loss,loss_ratio,sharpness,sharpness_ratio'];
  for (const t of traces) {
    t.losses.forEach((l, s) => {
      const lam = t.sharpness[s] ?? null;
      lines.push([t.c, s, cell(l), cell(l / loss0), cell(lam), lam === null ? '' : cell(lam / lambda0)].join(','));
    });
  }
  return lines.join('\n') + '\n';
}
