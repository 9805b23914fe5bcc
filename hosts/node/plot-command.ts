// `eoslab plot RUN_DIR... [--x step|time] [--out DIR]`: reads run
// directories, renders the Vega-Lite figures core/ts/plot builds to SVG
// headlessly (vega's View.toSVG: no canvas, no browser), and writes
// figures/*.svg and a self-contained report.html.
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import { parseMetricsCsv } from '../../core/ts/plot/metrics.js';
import { checkPlotMetadata, runLabels, type PlotRun, type XAxis } from '../../core/ts/plot/runs.js';
import { figures, type Figure } from '../../core/ts/plot/specs.js';
import { reportHtml, type ReportScripts } from '../shared/plot-report.js';
import { densityFigure } from '../../core/ts/plot/density.js';
import { readDensityTables } from './plot-density.js';

export interface PlotOptions {
  x?: XAxis;
  /** Where the figures and report go: one run: its own directory by default; several: the overlay's directory. */
  out?: string;
}

/** Several runs overlay into this directory (under the current one) unless --out says where. */
export const DEFAULT_OVERLAY_DIR = 'figures-overlay';

/** One run directory, checked: every failure is one line naming the file. */
export function readRun(dir: string): PlotRun {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: no such run directory (eoslab train … prints its run directory)`);
  const metaPath = join(dir, 'metadata.json'), csvPath = join(dir, 'metrics.csv');
  if (!existsSync(metaPath)) throw new Error(`${metaPath} not found: ${dir} is not an eoslab run directory`);
  let meta: unknown;
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8'));
  } catch (e) {
    throw new Error(`${metaPath} is not valid JSON (${(e as Error).message.split('\n')[0]}): restore it or rerun with --force`);
  }
  const checked = checkPlotMetadata(meta, metaPath);
  if (!existsSync(csvPath)) throw new Error(`${csvPath} not found: the run has no records yet (\`eoslab resume ${dir}\` recreates it)`);
  return { name: dir, meta: checked, table: parseMetricsCsv(readFileSync(csvPath, 'utf8'), csvPath) };
}

/**
 * A Vega-Lite spec as SVG, rendered without a browser (text widths estimated,
 * which is all SVG output needs). Compiler warnings go to `warn` rather than
 * the console: they mean a spec to fix, which the tests check for.
 */
export async function renderSvg(fig: Figure, warn: (s: string) => void = () => {}): Promise<string> {
  const logger = vega.logger(vega.Warn);
  logger.warn = (...a: unknown[]) => { warn(`${fig.name}: ${a.join(' ')}`); return logger; };
  const compiled = vegaLite.compile(fig.spec as vegaLite.TopLevelSpec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

let scripts: ReportScripts | null = null;
/** The browser builds of vega, vega-lite and vega-embed, read from node_modules to inline into the report. */
function reportScripts(): ReportScripts {
  if (scripts) return scripts;
  const require = createRequire(import.meta.url);
  const read = (pkg: string, file: string) => {
    const path = join(dirname(require.resolve(pkg)), file);
    if (!existsSync(path)) throw new Error(`${path} not found: reinstall with \`npm ci\` (the report inlines ${pkg}'s browser build)`);
    return readFileSync(path, 'utf8');
  };
  scripts = { vega: read('vega', 'vega.min.js'), vegaLite: read('vega-lite', 'vega-lite.min.js'), vegaEmbed: read('vega-embed', 'vega-embed.min.js') };
  return scripts;
}

/** Written under a temporary name, then renamed: a reader never sees half a file. */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    throw new Error(`cannot write ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Figures and report for these runs into dir; returns the report's path. */
async function writeFigures(runs: PlotRun[], dir: string, axis: XAxis, log: (s: string) => void): Promise<string> {
  const figs = figures(runs, axis);
  const density = densityFigure(runs, runs.map((r) => readDensityTables(r.name)));
  if (density) figs.push(density);
  const figDir = join(dir, 'figures');
  try {
    mkdirSync(figDir, { recursive: true });
  } catch (e) {
    throw new Error(`cannot create ${figDir}: ${(e as Error).message.split('\n')[0]}`);
  }
  for (const f of figs) writeAtomic(join(figDir, `${f.name}.svg`), await renderSvg(f));
  const overlay = runs.length > 1;
  const title = overlay ? `eoslab: ${runs.length} runs overlaid` : `eoslab run: ${basename(resolve(runs[0].name))}`;
  const report = join(dir, 'report.html');
  writeAtomic(report, reportHtml(runs, overlay ? runLabels(runs).labels : null, figs, reportScripts(), title));
  log(`figures: ${figDir} (${figs.map((f) => `${f.name}.svg`).join(', ')})`);
  return report;
}

/**
 * Each run gets its own figures and report (in --out with a single run); with
 * several, the overlay goes to --out (default ./figures-overlay). Returns the
 * reports written, the overlay's last.
 */
export async function plotRuns(dirs: string[], o: PlotOptions = {}, log: (s: string) => void = console.log): Promise<string[]> {
  if (!dirs.length) throw new Error('name at least one run directory: eoslab plot RUN_DIR...');
  const axis = o.x ?? 'step';
  if (axis !== 'step' && axis !== 'time') throw new Error(`--x must be step or time, got '${axis}'`);
  const runs = dirs.map(readRun);
  const reports: string[] = [];
  for (const run of runs) {
    const dir = runs.length === 1 && o.out ? o.out : run.name;
    reports.push(await writeFigures([run], dir, axis, log));
    log(`report: ${reports[reports.length - 1]}`);
  }
  if (runs.length > 1) {
    const dir = o.out ?? DEFAULT_OVERLAY_DIR;
    reports.push(await writeFigures(runs, dir, axis, log));
    log(`overlay report: ${reports[reports.length - 1]}${o.out ? '' : `  (--out DIR puts it elsewhere)`}`);
  }
  return reports;
}
