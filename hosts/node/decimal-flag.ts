// Numeric CLI flags in plain decimal notation only: Number() would also read
// '0x10' as 16, '' as 0 and '1e309' as Infinity. One definition for every
// command (train and friends, catapult, the measurement flags).
import { InvalidArgumentError } from 'commander';

export const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A commander parser: a finite plain decimal passing `check`, else one line naming the flag and what it takes. */
export function num(name: string, check: (x: number) => boolean, what: string): (s: string) => number {
  return (s: string) => {
    const x = Number(s);
    if (!DECIMAL.test(s.trim()) || !Number.isFinite(x) || !check(x)) throw new InvalidArgumentError(`${name} must be ${what}, got '${s}'`);
    return x;
  };
}
