// Types for scripts/build-web.mjs (imported by tests/web-page.test.ts).
/** Builds the static site into outDir (default build/web); returns outDir. */
export function buildWeb(outDir?: string): Promise<string>;
