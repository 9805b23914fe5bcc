// Progress while a run goes: a live bar on a terminal (step, loss, λ₁,
// threshold), plain log lines otherwise (CI logs, files).
import cliProgress from 'cli-progress';
import type { MetricsRow } from '../../core/ts/run/records.js';

export interface Progress {
  update(r: MetricsRow): void;
  stop(): void;
}

const fmt = (x: number | null | undefined, d = 4) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toPrecision(d));

export function makeProgress(total: number, unit: 'step' | 'tick', stream: NodeJS.WriteStream = process.stderr): Progress {
  let lambda: number | null = null;
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar({
      stream, hideCursor: true, clearOnComplete: false, etaBuffer: 20,
      format: `${unit} {value}/{total} [{bar}] loss {loss} | acc {acc} | λ1 {lam} | threshold {thr} | eta {eta_formatted}`,
    }, cliProgress.Presets.shades_classic);
    bar.start(total, 0, { loss: '—', acc: '—', lam: '—', thr: '—' });
    return {
      update(r) {
        if (r.lambdas[0] !== null && r.lambdas[0] !== undefined) lambda = r.lambdas[0];
        bar.update(r.step, { loss: fmt(r.train_loss), acc: fmt(r.train_acc, 3), lam: fmt(lambda), thr: fmt(r.threshold) });
      },
      stop: () => bar.stop(),
    };
  }
  const every = Math.max(1, Math.floor(total / 20));
  return {
    update(r) {
      const measured = r.lambdas[0] !== null && r.lambdas[0] !== undefined;
      if (measured) lambda = r.lambdas[0];
      if (r.step % every === 0 || r.step === total) {
        stream.write(`${unit} ${r.step}/${total}  loss ${fmt(r.train_loss)}  acc ${fmt(r.train_acc, 3)}  λ1 ${fmt(lambda)}  threshold ${fmt(r.threshold)}  ${r.wall_s.toFixed(1)}s\n`);
      }
    },
    stop() {},
  };
}
