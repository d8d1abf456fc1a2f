import { mkdir, readdir } from 'node:fs/promises';
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
async function nextCounter(folder: string, filename: string): Promise<number> {
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
