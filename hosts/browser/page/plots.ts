// Live plots of a running experiment: the same Vega-Lite figures `eoslab
// plot` draws (core/ts/plot/specs.ts), rendered by vega-embed and redrawn at
// most a few times a second, since re-embedding on every row would spend
// the page's time on drawing.
import embed, { type Result } from 'vega-embed';
import { figures } from '../../../core/ts/plot/specs.js';
import type { PlotMetadata, XAxis } from '../../../core/ts/plot/runs.js';
import type { RecordRow } from './protocol.js';

const REDRAW_MS = 400;

export class LivePlots {
  private views = new Map<string, { div: HTMLElement; view: Result | null }>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pending: (() => Promise<void>) | null = null;
  private drawing = false;

  constructor(private readonly container: HTMLElement, private readonly axis: () => XAxis) {}

  /** Schedules a redraw from every row so far. */
  update(meta: PlotMetadata, columns: string[], rows: RecordRow[], name: string): void {
    if (!rows.length) return;
    this.pending = () => this.draw(meta, columns, rows.slice(), name);
    if (!this.timer) this.timer = setTimeout(() => void this.flush(), REDRAW_MS);
  }

  /** Draws now (at the end of a run: the last rows must show). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.drawing) { this.timer = setTimeout(() => void this.flush(), REDRAW_MS); return; }
    const job = this.pending;
    this.pending = null;
    if (!job) return;
    this.drawing = true;
    try { await job(); } finally { this.drawing = false; }
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
    for (const { view } of this.views.values()) view?.finalize();
    this.views.clear();
    this.container.replaceChildren();
  }

  private async draw(meta: PlotMetadata, columns: string[], rows: RecordRow[], name: string): Promise<void> {
    const figs = figures([{ name, meta, table: { columns, rows } }], this.axis());
    for (const f of figs) {
      let slot = this.views.get(f.name);
      if (!slot) {
        const div = document.createElement('div');
        div.className = `eoslab-plot eoslab-plot-${f.name}`;
        this.container.append(div);
        slot = { div, view: null };
        this.views.set(f.name, slot);
      }
      slot.view?.finalize();
      slot.view = await embed(slot.div, f.spec, { actions: false, renderer: 'svg' });
    }
  }
}
