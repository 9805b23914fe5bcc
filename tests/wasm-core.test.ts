// The AssemblyScript core (issue 5, first brick): it builds from
// asconfig.json, and its Philox draws equal the TS and WGSL definition bit
// for bit — the basis of "same θ on every backend".
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { instantiateCore } from '../core/ts/backend/wasm/module.js';
import { philox4x32, seedKey, signedUniforms } from '../core/ts/rng/philox.js';

for (const [file, shared] of [['build/eoslab.wasm', true], ['build/eoslab-simd.wasm', false], ['build/eoslab-scalar.wasm', false]] as const) {
  test(`${file}: Philox bits and signed uniforms equal the TS definition exactly`, async () => {
    const core = await instantiateCore(readFileSync(file), shared);
    const n = 1001, seed = 2 ** 37 + 99, stream = 5, index0 = 17;
    const [k0, k1] = seedKey(seed);
    const p = core.alloc(4 * n);
    core.philoxBits(p, n, index0, stream, k0, k1);
    const bits = Array.from(core.u32(p, n));
    const want = Array.from({ length: n }, (_, j) => philox4x32(Math.floor((index0 + j) / 4), stream, 0, 0, k0, k1)[(index0 + j) & 3]);
    assert.equal(bits, want);
    core.philoxSigned(p, n, index0, stream, k0, k1, 0.125);
    assert.equal(Array.from(core.f32(p, n)), Array.from(Float32Array.from(signedUniforms(seed, stream, index0, n), (x) => 0.125 * x)));
    // Growth past the initial memory keeps working (views re-created).
    const big = core.alloc(8 << 20);
    core.philoxBits(big, 4, 0, 0, 0, 0);
    assert.equal(Array.from(core.u32(big, 4)), Array.from(philox4x32(0, 0, 0, 0, 0, 0)));
  });
}

test.run();
