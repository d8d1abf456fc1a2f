import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isInside } from '../../data/safe-path';
import { NodeError } from '../types';

export interface SaveTarget {
  folder: string;
  filename: string;
  subfolder: string;
  counter: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

function expandVars(prefix: string, width: number, height: number): string {
  const now = new Date();
  return prefix
    .replaceAll('%width%', String(width))
    .replaceAll('%height%', String(height))
    .replaceAll('%year%', String(now.getFullYear()))
    .replaceAll('%month%', pad(now.getMonth() + 1))
    .replaceAll('%day%', pad(now.getDate()))
    .replaceAll('%hour%', pad(now.getHours()))
    .replaceAll('%minute%', pad(now.getMinutes()))
    .replaceAll('%second%', pad(now.getSeconds()));
}

/** The counter after the highest existing `<name>_<digits>_...` file, like folder_paths.get_save_image_path. */
async function scanCounter(folder: string, filename: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    await mkdir(folder, { recursive: true });
    return 1;
  }
  let max = 0;
  const head = `${filename}_`;
  for (const name of names) {
    if (!name.startsWith(head)) continue;
    const match = /^(\d+)_/.exec(name.slice(head.length));
    if (match) max = Math.max(max, Number(match[1]));
  }
  return max + 1;
}

/**
 * ComfyUI's naming: `<prefix>_<5-digit counter>_.<ext>`, where a "/" in the prefix selects a subfolder.
 * Prefixes that resolve outside the folder are refused with ComfyUI's message.
 */
export async function saveTarget(root: string, prefix: string, width = 0, height = 0): Promise<SaveTarget> {
  const expanded = prefix.includes('%') ? expandVars(prefix, width, height) : prefix;
  const normalized = path.posix.normalize(expanded.replaceAll('\\', '/'));
  const subfolder = path.posix.dirname(normalized) === '.' ? '' : path.posix.dirname(normalized);
  const filename = path.posix.basename(normalized);
  const folder = path.resolve(root, subfolder);
  if (!isInside(root, folder) || filename === '' || filename === '..' || expanded.includes('\0')) {
    throw new NodeError('**** ERROR: Saving image outside the output folder is not allowed.');
  }
  return { folder, filename, subfolder, counter: await nextCounter(folder, filename) };
}

export function counterName(filename: string, counter: number, ext: string): string {
  return `${filename}_${String(counter).padStart(5, '0')}_.${ext}`;
}

/**
 * Last counter used per folder and name, so a save does not list a folder of thousands of outputs
 * every time. Files are created exclusively, so a stale entry can never overwrite anything.
 */
const lastCounters = new Map<string, number>();
const MAX_TRACKED_NAMES = 10_000;

const counterKey = (folder: string, filename: string) => `${folder}\0${filename}`;

async function nextCounter(folder: string, filename: string): Promise<number> {
  const known = lastCounters.get(counterKey(folder, filename));
  return known === undefined ? scanCounter(folder, filename) : known + 1;
}

/** Writes `data` as the target's next counted file and advances the target; returns the file name. */
export async function writeCounted(target: SaveTarget, ext: string, data: Buffer | string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const filename = counterName(target.filename, target.counter, ext);
    try {
      await writeFile(path.join(target.folder, filename), data, { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw err;
      // Someone else wrote this name: fall back to ComfyUI's full scan.
      target.counter = Math.max(target.counter + 1, await scanCounter(target.folder, target.filename));
      continue;
    }
    if (lastCounters.size >= MAX_TRACKED_NAMES) lastCounters.clear();
    lastCounters.set(counterKey(target.folder, target.filename), target.counter);
    target.counter++;
    return filename;
  }
}
