// Long mode of the loader fuzzer: `npm run fuzz -- --iterations N [--seed S] [--format F]`.
// Feeds N seeded mutations per format (tests/helpers/fuzz-targets.ts) and
// prints ok/error counts per format and every failure with the kind, seed and
// index that reproduce it (`--seed S --format F` reruns the same inputs).
// Exits 1 when any input crashed a loader or ran past the time bound.
import { fuzzTarget, fuzzTargets } from '../tests/helpers/fuzz-targets.js';

function usage(why: string): never {
  console.error(`eoslab fuzz: ${why}: usage: npm run fuzz -- --iterations N [--seed S] [--format F] [--ms M]`);
  process.exit(1);
}

function args(argv: string[]): { iterations: number; seed: number; format: string | null; ms: number } {
  const o = { iterations: 2000, seed: 1, format: null as string | null, ms: 5000 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i], value = argv[i + 1];
    if (!['--iterations', '--seed', '--format', '--ms'].includes(flag)) usage(`unknown argument ${JSON.stringify(flag)}`);
    if (value === undefined) usage(`${flag} needs a value`);
    i++;
    if (flag === '--format') { o.format = value; continue; }
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) usage(`${flag} takes a whole number, not ${JSON.stringify(value)}`);
    const n = Number(value);
    if (flag === '--iterations') o.iterations = n;
    else if (flag === '--seed') o.seed = n >>> 0 === n ? n : usage('--seed is at most 4294967295');
    else o.ms = n;
  }
  if (o.iterations < 1) usage('--iterations must be at least 1');
  return o;
}

const o = args(process.argv.slice(2));
const all = fuzzTargets();
const targets = o.format === null ? all : all.filter((t) => t.format === o.format);
if (targets.length === 0) usage(`no format ${JSON.stringify(o.format)}; formats: ${all.map((t) => t.format).join(', ')}`);

console.log(`fuzz: ${o.iterations} mutations per format, seed ${o.seed}, ${o.ms} ms bound per input`);
let failed = 0;
for (const t of targets) {
  const r = await fuzzTarget(t, o.seed, o.iterations, o.ms, 50);
  failed += r.failures.length;
  const tag = r.failures.length ? `FAILED ${r.failures.length}${r.failures.length >= 50 ? '+ (stopped)' : ''}` : 'clean';
  console.log(`${t.format.padEnd(22)} ok ${String(r.ok).padStart(7)}  error ${String(r.error).padStart(7)}  ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${tag}`);
  for (const f of r.failures) console.log(`  ${f}`);
}
console.log(failed ? `fuzz: ${failed} failures; rerun one format with --seed ${o.seed} --format F` : 'fuzz: no failures');
process.exit(failed ? 1 : 0);
