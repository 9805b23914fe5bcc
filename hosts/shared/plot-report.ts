// report.html (a host piece: its page script touches the DOM, so it lives outside core/): one self-contained page per run (or overlay) holding the
// interactive figures (vega-embed) and what the run was: configuration,
// adapter and backend, stop reason. The host hands in the vega, vega-lite and
// vega-embed scripts, so the file opens offline and nothing here reads files.
import type { Figure } from '../../core/ts/plot/specs.js';
import { describeRun, type PlotRun } from '../../core/ts/plot/runs.js';

export interface ReportScripts { vega: string; vegaLite: string; vegaEmbed: string }

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** Inside <script>, `</script` (any case) would end the element early, and `<!--` would change how it is parsed. */
const inlineScript = (js: string) => js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
const json = (x: unknown) => JSON.stringify(x).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/** {name: 'adam', beta1: 0.9} → adam beta1=0.9: records read as settings, not as JSON. */
function show(v: unknown): string {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return typeof v === 'string' ? v : JSON.stringify(v);
  return Object.entries(v).map(([k, x]) => (k === 'name' ? String(x) : `${k}=${typeof x === 'string' ? x : JSON.stringify(x)}`)).join(' ');
}

function table(rows: [string, unknown][]): string {
  const body = rows.filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(show(v))}</td></tr>`).join('');
  return `<table>${body}</table>`;
}

/** One line per run above the figures: what ran, how it ended, on what. */
function runLine(run: PlotRun, label: string | null): string {
  const m = run.meta, d = m.device ?? {};
  const end = [m.status, m.stop_reason ? `stop: ${m.stop_reason}` : '', m.last_step !== undefined && m.last_step !== null ? `at ${m.last_step}` : ''].filter(Boolean).join(' ');
  const on = d.backend ? `${d.backend}${d.adapter ? ` (${d.adapter})` : ''}` : '';
  return `<li>${label ? `<b>${esc(label)}</b>: ` : ''}${esc(describeRun(run))}${end ? ` · ${esc(end)}` : ''}${on ? ` · ${esc(on)}` : ''}</li>`;
}

/** The run's record in full, below the figures. */
function runSection(run: PlotRun, label: string | null): string {
  const m = run.meta, d = m.device ?? {};
  const summary = table([
    ['run directory', run.name], ['command', m.command ? `eoslab ${m.command}` : undefined],
    ['status', m.status], ['stop reason', m.stop_reason], ['last step', m.last_step],
    ['backend', d.backend], ['adapter', d.adapter], ['why', d.why], ['driver', d.driver], ['threads', d.threads],
    ['optimizer', m.optimizer], ['dataset source', m.dataset_source], ['eoslab', m.eoslab_version],
    ['started', m.started_at], ['finished', m.finished_at], ['resumes', Array.isArray(m.resumes) && m.resumes.length ? m.resumes.length : undefined],
  ]);
  const config = table(Object.entries(m.config).map(([k, v]) => [k, v]));
  return `<section class="run"><h3>${esc(label ?? describeRun(run))}</h3>` +
    `${summary}<details><summary>configuration (metadata.json "config")</summary>${config}</details></section>`;
}

/**
 * The page: a heading, one section per run, then the figures, each drawn by
 * vega-embed from the same spec the SVGs were rendered from. A figure that
 * fails to draw says so in its place and on the console.
 */
export function reportHtml(runs: PlotRun[], labels: string[] | null, figs: Figure[], scripts: ReportScripts, title: string): string {
  const label = (i: number) => (labels ? labels[i] : null);
  const lines = runs.map((r, i) => runLine(r, label(i))).join('\n');
  const sections = runs.map((r, i) => runSection(r, label(i))).join('\n');
  const divs = figs.map((f, i) => `<figure><div id="fig-${i}" class="vega"></div><figcaption>${esc(f.title)} · <a href="figures/${esc(f.name)}.svg">${esc(f.name)}.svg</a></figcaption></figure>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin: 1.2em 0 0.2em; } h3 { font-size: 1em; margin: 1em 0 0.2em; }
ul.runs { padding-left: 1.2em; margin: 0.3em 0 1em; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.3em 0; }
th { text-align: left; font-weight: 600; padding: 1px 12px 1px 0; vertical-align: top; white-space: nowrap; }
td { padding: 1px 0; word-break: break-word; }
details { margin: 0.3em 0 0.8em; } summary { cursor: pointer; color: #444; }
.figures { display: flex; flex-wrap: wrap; gap: 1em 2em; }
figure { margin: 0.5em 0; } figcaption { color: #666; font-size: 0.85em; }
</style>
<script>${inlineScript(scripts.vega)}</script>
<script>${inlineScript(scripts.vegaLite)}</script>
<script>${inlineScript(scripts.vegaEmbed)}</script>
</head><body>
<h1>${esc(title)}</h1>
<ul class="runs">
${lines}
</ul>
<div class="figures">
${divs}
</div>
<h2>${runs.length > 1 ? 'The runs' : 'The run'}</h2>
${sections}
<script>
const specs = ${json(figs.map((f) => f.spec))};
specs.forEach((spec, i) => {
  const el = document.getElementById('fig-' + i);
  vegaEmbed(el, spec, { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } })
    .catch((e) => { el.textContent = 'this figure failed to draw: ' + e.message; console.error(e); });
});
</script>
</body></html>
`;
}
