import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeExampleImage } from './example-image';

export type FolderType = 'input' | 'output' | 'temp';

export interface DataDirs {
  root: string;
  input: string;
  output: string;
  temp: string;
  /** Model folders (checkpoints/, loras/, ...), as ComfyUI's models/ directory. */
  models: string;
}

export const folderTypes: readonly FolderType[] = ['input', 'output', 'temp'];

export function isFolderType(value: unknown): value is FolderType {
  return typeof value === 'string' && (folderTypes as readonly string[]).includes(value);
}

export function resolveDataDirs(root: string, modelsDir?: string): DataDirs {
  const abs = path.resolve(root);
  return {
    root: abs,
    input: path.join(abs, 'input'),
    output: path.join(abs, 'output'),
    temp: path.join(abs, 'temp'),
    models: modelsDir ? path.resolve(modelsDir) : path.join(abs, 'models'),
  };
}

/** Creates the layout, wipes temp/ (as ComfyUI does on start) and ships input/example.png. */
export async function prepareDataDirs(dirs: DataDirs): Promise<void> {
  await rm(dirs.temp, { recursive: true, force: true });
  await Promise.all([dirs.input, dirs.output, dirs.temp].map((d) => mkdir(d, { recursive: true })));
  const example = path.join(dirs.input, 'example.png');
  const exists = await stat(example).then(
    () => true,
    () => false,
  );
  if (!exists) await writeExampleImage(example);
}
