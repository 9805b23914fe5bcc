// The `deno` executable the project installs (devDependency `deno`, whose
// platform package holds the binary: install scripts may not have run).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function denoBinary(): string {
  const require = createRequire(import.meta.url);
  const exe = process.platform === 'win32' ? 'deno.exe' : 'deno';
  const platformPkg = `@deno/${process.platform}-${process.arch}${process.platform === 'linux' ? '-glibc' : ''}`;
  const tried: string[] = [];
  for (const pkg of [platformPkg, 'deno']) {
    let dir: string;
    try {
      dir = dirname(require.resolve(`${pkg}/package.json`));
    } catch {
      tried.push(`${pkg} (not installed)`);
      continue;
    }
    const bin = join(dir, exe);
    if (existsSync(bin)) return bin;
    tried.push(bin);
  }
  throw new Error(`Deno is not installed (looked for ${tried.join(', ')}): run \`npm install\` (devDependency \`deno\`)`);
}
