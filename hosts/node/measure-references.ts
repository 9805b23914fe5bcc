// Vectors measures compare θ_t with, read from files by the host (core
// reads none): distance's --distance-to checkpoint, loaded through the run's
// model as `eoslab resume` loads θ, and handed to the run as
// MeasureContext.reference('distance').
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { decodeSafetensors } from '../../core/ts/io/safetensors.js';
import { thetaFromStateDict } from '../../core/ts/io/torch-state-dict.js';
import type { Model } from '../../core/ts/nn/model.js';
import type { RunConfig } from '../../core/ts/run/config.js';

/** θ from a safetensors state dict of `model` (null: a toy objective or quadratic, saved as one tensor 'theta'); `flag` names the option in errors. */
export function readThetaFile(path: string, model: Model | null, P: number, flag: string): { theta: Float32Array; metadata: Record<string, string> } {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(resolve(path)));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${flag} ${path}: cannot read it (${code ?? (e as Error).message.split('\n')[0]}): give an existing .safetensors checkpoint`);
  }
  try {
    const { tensors, metadata } = decodeSafetensors(bytes);
    if (model) return { theta: thetaFromStateDict(model, tensors), metadata };
    const t = tensors.find((x) => x.name === 'theta');
    if (!t || t.dtype !== 'F32') throw new Error("it lacks the F32 tensor 'theta' a toy-objective or quadratic checkpoint holds");
    if (t.data.length !== P) throw new Error(`its θ has ${t.data.length} values, the objective ${P}`);
    return { theta: t.data as Float32Array, metadata };
  } catch (e) {
    throw new Error(`${flag} ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** The references the configuration's measures ask for, by measure name; an unreadable or mismatched file is a one-line error. */
export function loadReferences(cfg: RunConfig, model: Model | null, P: number): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  const to = cfg.measures?.distance?.options.to;
  if (typeof to === 'string' && to !== '') out.distance = readThetaFile(to, model, P, '--distance-to').theta;
  return out;
}
