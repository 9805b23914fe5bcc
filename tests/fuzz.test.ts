// Quick mode of the loader fuzzer (the long one is `npm run fuzz`): every
// format eoslab reads gets FUZZ_COUNT seeded mutations of a small valid file,
// and each must load or fail with a plain one-line Error within the time
// bound. A failure message names the kind, seed and index that reproduce it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { crashReason, expectCleanOutcome, mutations } from './helpers/fuzz.js';
import { fuzzTarget, fuzzTargets } from './helpers/fuzz-targets.js';

const FUZZ_COUNT = 1500;
const SEED = 20260;
// Generous for a shared 2-core machine; a loader that allocates from a forged
// 2^31-item header, or scans quadratically, takes far longer.
const MS = 2000;

test('mutations are deterministic in (seed, index) and never modify the input', () => {
  const input = Uint8Array.from({ length: 96 }, (_, i) => i);
  const copy = input.slice();
  const a = [...mutations(5, input, 300, { fields: [8], boundaries: [16] })];
  const b = [...mutations(5, input, 300, { fields: [8], boundaries: [16] })];
  assert.equal(input, copy);
  assert.ok(a.every((m, i) => m.kind === b[i].kind && m.index === i && Buffer.compare(m.bytes, b[i].bytes) === 0));
  // The 200th alone, regenerated without the others before it... is the same as in the run.
  assert.equal([...mutations(5, input, 200, { fields: [8], boundaries: [16] })][199].bytes, a[199].bytes);
  const kinds = new Set(a.map((m) => m.kind.split('+')[0].replace(/[@[+(].*$/, '')));
  for (const k of ['truncate', 'bitflip', 'overwrite', 'forge-u32le', 'forge-u32be', 'forge-u64le', 'forge-u64be', 'forge-text', 'append', 'duplicate']) {
    assert.ok(kinds.has(k), `no ${k} among ${[...kinds].join(', ')}`);
  }
  assert.ok(a.some((m) => m.kind.includes('@8=')), 'the field hint is used');
  assert.ok(new Set(a.map((m) => Buffer.from(m.bytes).toString('hex'))).size > 200, 'mutations differ from each other');
  assert.not.equal([...mutations(6, input, 5)].map((m) => m.kind), a.slice(0, 5).map((m) => m.kind));
});

test('expectCleanOutcome: plain one-line Errors pass; crashes, multi-line or empty messages and slowness fail', async () => {
  assert.is(await expectCleanOutcome(() => 1, { ms: 100 }), 'ok');
  assert.is(await expectCleanOutcome(() => { throw new Error('x.bin: truncated: download it again'); }, { ms: 100 }), 'error');
  assert.is(await expectCleanOutcome(async () => { throw new Error('async refusal'); }, { ms: 100 }), 'error');
  const [m] = [...mutations(9, Uint8Array.from([1, 2, 3, 4]), 1)];
  const crashes: [string, () => unknown, RegExp][] = [
    ['TypeError', () => (undefined as unknown as { a: number }).a, /crash: TypeError/],
    ['allocation', () => new Uint8Array(-1), /crash: RangeError: Invalid typed array length/],
    ['multi-line', () => { throw new Error('a\nb'); }, /multi-line message/],
    ['stack only', () => { throw new Error(''); }, /empty message/],
    ['non-Error', () => { throw 'text'; }, /non-Error/],
    ['hang', () => new Promise(() => {}), /did not finish within 50 ms/],
    ['slow', () => { const t = Date.now(); while (Date.now() - t < 80); }, /over the 50 ms bound/],
  ];
  const failure = async (fn: () => unknown, o: Parameters<typeof expectCleanOutcome>[1]): Promise<string> => {
    try { await expectCleanOutcome(fn, o); } catch (e) { return (e as Error).message; }
    return 'passed';
  };
  for (const [what, fn, re] of crashes) {
    const msg = await failure(fn, { ms: 50, mutation: m, label: 'self-test' });
    assert.match(msg, re, `${what}: ${msg}`);
    assert.match(msg, /self-test; kind .+, seed 9 #0, \d+ bytes: [0-9a-f]{2}/, what);
  }
  assert.match(crashReason(new RangeError('Offset is outside the bounds of the DataView'))!, /RangeError/);
  assert.match(await failure(() => { throw new Error('truncated'); }, { ms: 50, mustMention: 'train.bin' }), /does not name train\.bin/);
});

for (const t of fuzzTargets()) {
  test(`fuzz ${t.format}: ${FUZZ_COUNT} mutations load or give a one-line Error${t.mustMention ? ` naming ${t.mustMention}` : ''}`, async () => {
    await t.load(t.seed); // the seed file itself is valid: the mutations start from a file that loads
    const r = await fuzzTarget(t, SEED, FUZZ_COUNT, MS, 5);
    assert.equal(r.failures, [], `${t.format}: ${r.failures.length} failures`);
    assert.is(r.ok + r.error, FUZZ_COUNT);
    assert.ok(r.error > 0, 'some mutations must be refused, or the loader is not reading the bytes');
  });
}

test.run();
