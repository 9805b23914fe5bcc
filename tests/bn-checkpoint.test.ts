// BatchNorm running statistics are not tracked (issue 14 left them at
// PyTorch's initial values): a checkpoint of a BatchNorm model must say so in
// its safetensors metadata, so nobody takes the 0/1/0 buffers for trained
// statistics; a model without BatchNorm carries no such line. Before this,
// the metadata held only format and step, so the first check fails there.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors } from '../core/ts/io/safetensors.js';
import { modelFromArch } from '../core/ts/nn/arch.js';
import { RunDir } from '../hosts/node/run-dir.js';

function checkpointMeta(arch: string, inShape: number[]): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'eoslab-bnck-'));
  try {
    const model = modelFromArch(arch, inShape, 3);
    new RunDir(dir).writeCheckpoint(model, { step: 0, theta: new Float32Array(model.P), optTensors: {}, optStep: 0, eigvecs: [], sharpness: null });
    return decodeSafetensors(readFileSync(join(dir, 'checkpoints', 'step_0.safetensors'))).metadata;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a BatchNorm checkpoint\'s metadata says its running statistics are the untracked initial values', () => {
  const md = checkpointMeta('cnn-bn-relu', [2, 8, 8]);
  assert.match(md.bn_running_stats, /^not tracked: .*initial 0\/1\/0/);
  assert.is(md.format, 'pt');
});
test('a checkpoint without BatchNorm has no running-statistics line', () => {
  assert.is(checkpointMeta('cnn-relu', [2, 8, 8]).bn_running_stats, undefined);
});
test.run();
