// Starting a run over again (--force) removes what eoslab wrote there and
// nothing else: a run directory may also hold a user's notes, plots or
// models, and those are not ours to delete.
import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The files of a run directory eoslab writes (names at its top level). */
const TOP = /^(metrics\.csv|projections\.npy|metadata\.json)(\.tmp-\d+)?$/;
/** checkpoints/: θ_t and the optimizer state beside it. */
const CKPT = /^step_\d+(\.optim)?\.safetensors(\.tmp-\d+)?$/;

/** Removes eoslab's own files from `dir` (and checkpoints/ once empty); leaves everything else. */
export function removeRunFiles(dir: string): void {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) if (TOP.test(f)) rmSync(join(dir, f), { force: true });
  const ckpt = join(dir, 'checkpoints');
  if (!existsSync(ckpt)) return;
  for (const f of readdirSync(ckpt)) if (CKPT.test(f)) rmSync(join(ckpt, f), { force: true });
  if (readdirSync(ckpt).length === 0) rmdirSync(ckpt);
}

/** Whether `dir` holds anything at all (a missing directory holds nothing). */
export function hasEntries(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).length > 0;
}
