// Progress while a run goes: a live bar on a terminal, plain log lines
// otherwise (CI logs, files). Eigenvalues are measured every --eig-freq
// steps; between measurements the last value is shown with the step it was
// measured at, so a stale λ₁ never passes for a current one. Adaptive
// optimizers' threshold bounds λ_A, not λ₁: the two are shown side by side.
import cliProgress from 'cli-progress';
import type { MetricsRow } from '../../core/ts/run/records.js';
import type { RunConfig } from '../../core/ts/run/config.js';
import { thresholdFormula } from '../../core/ts/optim/optimizers.js';

export interface Progress {
  update(r: MetricsRow): void;
  stop(): void;
}

export interface ProgressOptions {
  /** The threshold bounds λ_A (adam, rmsprop), not λ₁. */
  preconditioned?: boolean;
  /** λ_A is measured (--lambda-a). */
  lambdaA?: boolean;
  /** How the threshold is written, e.g. '2/η', '38/η'. */
  thresholdName?: string;
  /** A resumed run's first row: the bar starts there, so its rate and ETA count only this session's steps. */
  startStep?: number;
}

export function progressOptions(cfg: RunConfig): ProgressOptions {
  if (cfg.kind === 'flow') return { thresholdName: 'threshold' };
  return { preconditioned: cfg.opt.name === 'adam' || cfg.opt.name === 'rmsprop', lambdaA: cfg.lambdaA, thresholdName: thresholdFormula(cfg.opt) };
}

const fmt = (x: number | null | undefined, d = 4) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toPrecision(d));

/** A measured value that persists between measurements, labelled with its step when it is not the current one. */
class Held {
  value: number | null = null;
  at = -1;
  take(x: number | null | undefined, step: number): void {
    if (x !== null && x !== undefined) { this.value = x; this.at = step; }
  }
  show(step: number): string {
    if (this.value === null) return '—';
    return this.at === step ? fmt(this.value) : `${fmt(this.value)} (step ${this.at})`;
  }
}

/** The eigenvalue part of a progress line. */
export function curvatureText(step: number, lam: Held, lamA: Held, threshold: number | null, o: ProgressOptions): string {
  if (threshold === null) return `λ1 ${lam.show(step)}`;
  const thr = `${o.thresholdName ?? 'threshold'} ${fmt(threshold)}`;
  if (!o.preconditioned) return `λ1 ${lam.show(step)} vs ${thr}`;
  // Adam/RMSProp: the threshold is for λ_A = λ_max(P^-1/2 H P^-1/2); comparing λ₁ with it would mislead.
  if (o.lambdaA) return `λ1 ${lam.show(step)}  λ_A ${lamA.show(step)} vs ${thr}`;
  return `λ1 ${lam.show(step)}  (${thr} bounds λ_A: track it with --lambda-a)`;
}

export function makeProgress(total: number, unit: 'step' | 'tick', o: ProgressOptions = {}, stream: NodeJS.WriteStream = process.stderr): Progress {
  const lam = new Held(), lamA = new Held();
  const text = (r: MetricsRow) => {
    lam.take(r.lambdas[0], r.step);
    lamA.take(r.lambda_A, r.step);
    return curvatureText(r.step, lam, lamA, r.threshold, o);
  };
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar({
      stream, hideCursor: true, clearOnComplete: false, etaBuffer: 20,
      format: `${unit} {value}/{total} [{bar}] loss {loss} | acc {acc} | {curv} | eta {eta_formatted}`,
    }, cliProgress.Presets.shades_classic);
    bar.start(total, o.startStep ?? 0, { loss: '—', acc: '—', curv: '' });
    return {
      update(r) {
        bar.update(r.step, { loss: fmt(r.train_loss), acc: fmt(r.train_acc, 3), curv: text(r) });
      },
      stop: () => bar.stop(),
    };
  }
  const every = Math.max(1, Math.floor(total / 20));
  return {
    update(r) {
      const curv = text(r);
      if (r.step % every === 0 || r.step === total) {
        stream.write(`${unit} ${r.step}/${total}  loss ${fmt(r.train_loss)}  acc ${fmt(r.train_acc, 3)}  ${curv}  ${r.wall_s.toFixed(1)}s\n`);
      }
    },
    stop() {},
  };
}

export { Held };
