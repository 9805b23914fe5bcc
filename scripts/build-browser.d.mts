// Types for scripts/build-browser.mjs (imported by tests/hosts.test.ts).
/** Builds build/browser/{smoke.js,smoke.html}; returns the html path. */
export function buildBrowser(outDir?: string): Promise<string>;
/** Builds build/browser/{datasets.js,datasets.html}; returns the html path. */
export function buildDatasetsPage(outDir?: string): Promise<string>;
