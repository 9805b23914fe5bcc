// metrics.csv read back for figures: the run records' format (README "Run
// records"), parsed without a file system so Node, Deno and the page share
// it. Hosts hand in the text and the name to put in messages.

/** Parsed rows: null where a measure did not fire (an empty cell); NaN/±Infinity as written. */
export interface MetricsTable {
  columns: string[];
  rows: Record<string, number | null>[];
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const SPECIAL: Record<string, number> = { nan: NaN, inf: Infinity, '+inf': Infinity, '-inf': -Infinity };

/** Every run writes these; without them there is nothing to draw against. */
const REQUIRED = ['step', 'train_loss'];

/**
 * Throws one line naming `name` (the file) and the line at fault. A last line
 * without its newline is a row being written right now (a live run) and is
 * left out, as resume leaves it out.
 */
export function parseMetricsCsv(text: string, name: string): MetricsTable {
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] !== '') lines.pop();
  else if (lines[lines.length - 1] === '') lines.pop();
  const header = (lines[0] ?? '').replace(/\r$/, '');
  if (!header.trim()) throw new Error(`${name} is empty: no header row (is the run still starting? plot it after its first step)`);
  const columns = header.split(',').map((c) => c.trim());
  const missing = REQUIRED.filter((c) => !columns.includes(c));
  if (missing.length) throw new Error(`${name}: the header lacks ${missing.join(', ')}: not an eoslab metrics.csv (header: ${header.slice(0, 80)})`);
  const rows: Record<string, number | null>[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line === '') continue;
    const cells = line.split(',');
    if (cells.length !== columns.length) {
      throw new Error(`${name} line ${i + 1}: ${cells.length} cells where the header has ${columns.length}: repair or remove that line`);
    }
    const row: Record<string, number | null> = {};
    cells.forEach((raw, j) => {
      const s = raw.trim();
      if (s === '') { row[columns[j]] = null; return; }
      const special = SPECIAL[s.toLowerCase()];
      if (special !== undefined) { row[columns[j]] = special; return; }
      if (!NUMBER.test(s)) throw new Error(`${name} line ${i + 1}, column ${columns[j]}: '${s.slice(0, 20)}' is not a number: repair or remove that line`);
      row[columns[j]] = Number(s);
    });
    if (row.step === null || !Number.isFinite(row.step)) throw new Error(`${name} line ${i + 1}: no step: repair or remove that line`);
    rows.push(row);
  }
  if (!rows.length) throw new Error(`${name} has a header but no rows yet: plot the run after its first step`);
  return { columns, rows };
}

/** lambda_1 … lambda_k, in order. */
export function lambdaColumns(t: MetricsTable): string[] {
  return t.columns.filter((c) => /^lambda_\d+$/.test(c)).sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)));
}
