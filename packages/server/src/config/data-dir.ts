import fs from 'node:fs';
import path from 'node:path';
import { invalidSetting, type Setting } from './settings';

const SETTING: Setting = { env: 'FLOWSCALE_DATA_DIR', flag: '--data-dir' };

/**
 * The data dir exists (created if missing) and is a writable directory. Checked before anything opens
 * a file there, so the operator reads the path and the reason instead of SQLite's "unable to open".
 */
export function ensureDataDir(dir: string): void {
  const existing = statOrUndefined(dir);
  if (existing && !existing.isDirectory()) throw invalidSetting(SETTING, dir, 'is a file, not a directory');
  if (!existing) {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw invalidSetting(SETTING, dir, `does not exist and cannot be created: ${reasonOf(error, dir)}`);
    }
  }
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
    // access() trusts mode bits; a read-only mount or a root-owned dir under sudo only shows on a write.
    const probe = path.join(dir, `.write-test-${process.pid}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (error) {
    throw invalidSetting(SETTING, dir, `is not writable: ${reasonOf(error, dir)}`);
  }
}

function statOrUndefined(dir: string): fs.Stats | undefined {
  try {
    return fs.statSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw invalidSetting(SETTING, dir, 'a parent of it is a file, not a directory');
    throw invalidSetting(SETTING, dir, reasonOf(error, dir));
  }
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a parent of it is a file, not a directory',
  ENOSPC: 'no space left on the device',
};

const reasonOf = (error: unknown, _dir: string): string => {
  const code = (error as NodeJS.ErrnoException).code;
  return code && REASONS[code] ? `${REASONS[code]} (${code})` : ((error as Error).message ?? String(error));
};
