import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { DataDirs } from '../../data/data-dir';
import { joinInside, splitAnnotation } from '../../data/safe-path';

/**
 * Resolves a LoadImage-style name: "x.png", "sub/dir/x.png" or "x.png [output]" (default folder: input).
 * Returns null for names that escape their folder.
 */
export function resolveInputFile(dirs: DataDirs, name: string): string | null {
  if (typeof name !== 'string' || name === '') return null;
  const { name: bare, type } = splitAnnotation(name);
  return joinInside(dirs[type ?? 'input'], bare);
}

export async function inputFileExists(dirs: DataDirs, name: string): Promise<boolean> {
  const file = resolveInputFile(dirs, name);
  if (!file) return false;
  return stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** LoadImage's IS_CHANGED: the file's content hash, so an overwritten upload is not served from cache. */
export async function inputFileHash(dirs: DataDirs, name: string): Promise<string> {
  const file = resolveInputFile(dirs, name);
  if (!file) return 'missing';
  try {
    return createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
  } catch {
    return 'missing';
  }
}
