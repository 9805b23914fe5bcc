// Where file-backed datasets get their bytes. Injected, so core/ and datasets/
// never touch fs: Node reads under $EOSLAB_DATASETS (hosts/node/dataset-files.ts),
// a browser can hand over the files a user picked (memoryFiles).
export interface FileSource {
  /** The whole file at relPath ('/'-separated, relative to the source's root), or null when absent. */
  read(relPath: string): Uint8Array | null;
  /** How to name relPath to a person (an absolute path, or a hint). */
  where(relPath: string): string;
  /** Optional cheap presence test (default: read(relPath) !== null). */
  has?(relPath: string): boolean;
}

export function hasFile(files: FileSource, relPath: string): boolean {
  return files.has ? files.has(relPath) : files.read(relPath) !== null;
}

/** A FileSource over bytes already in memory (a browser's picked files, tests). */
export function memoryFiles(entries: Record<string, Uint8Array>, root = '(selected files)'): FileSource {
  return {
    read: (p) => entries[p] ?? null,
    where: (p) => `${root}/${p}`,
    has: (p) => p in entries,
  };
}
