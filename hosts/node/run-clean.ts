// Starting a run over again (--force) removes what eoslab wrote there and
// nothing else: a run directory may also hold a user's notes, plots or
// models, and those are not ours to delete.
import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The files of a run directory eoslab writes (names at its top level). */
const TOP = /^(metrics\.csv|projections\.npy|projections_steps\.npy|metadata\.json)(\.tmp-\d+)?$/;
/** checkpoints/: θ_t and the optimizer state beside it. */
const CKPT = /^step_\d+(\.optim)?\.safetensors(\.tmp-\d+)?$/;
/** Measures' tables: <table>/step_<t>.csv, the folder a plain name (RunDir.writeTable refuses any other). */
const TABLE_DIR = /^[a-z][a-z0-9_-]*$/;
const TABLE = /^step_\d+\.csv(\.tmp-\d+)?$/;

/** Removes eoslab's own files from `dir` (and checkpoints/ and table folders once empty); leaves everything else. */
export function removeRunFiles(dir: string): void {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) if (TOP.test(f)) rmSync(join(dir, f), { force: true });
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    if (e.name === 'checkpoints') removeMatching(join(dir, e.name), CKPT, true);
    else if (TABLE_DIR.test(e.name)) removeMatching(join(dir, e.name), TABLE);
  }
}

/** Removes the files of `sub` whose names match, then `sub` itself if nothing else is in it (`ours`: even if it held none). */
function removeMatching(sub: string, names: RegExp, ours = false): void {
  const files = readdirSync(sub).filter((f) => names.test(f));
  // A plain-named folder that held no table is someone else's, even when empty.
  if (!ours && !files.length) return;
  for (const f of files) rmSync(join(sub, f), { force: true });
  if (readdirSync(sub).length === 0) rmdirSync(sub);
}

/** Whether `dir` holds anything at all (a missing directory holds nothing). */
export function hasEntries(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).length > 0;
}
