import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { DataDirs } from './data-dir';

/** ComfyUI 0.3.64's model folders, in the order its GET /models lists them. */
export const MODEL_FOLDERS: readonly string[] = [
  'checkpoints',
  'configs',
  'loras',
  'vae',
  'text_encoders',
  'diffusion_models',
  'clip_vision',
  'style_models',
  'embeddings',
  'diffusers',
  'vae_approx',
  'controlnet',
  'gligen',
  'upscale_models',
  'custom_nodes',
  'hypernetworks',
  'photomaker',
  'classifiers',
  'model_patches',
  'audio_encoders',
];

/** folder_paths.supported_pt_extensions. */
const PT_EXTENSIONS = new Set(['.ckpt', '.pt', '.pt2', '.bin', '.pth', '.safetensors', '.pkl', '.sft']);

function extensionsOf(folder: string): ReadonlySet<string> | null {
  if (folder === 'configs') return new Set(['.yaml']);
  if (folder === 'custom_nodes' || folder === 'diffusers') return null; // any file, as in ComfyUI
  return PT_EXTENSIONS;
}

export function isModelFolder(folder: string): boolean {
  return MODEL_FOLDERS.includes(folder);
}

async function walk(root: string, rel: string, out: string[]): Promise<void> {
  const entries = await readdir(path.join(root, rel), { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const name = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) await walk(root, name, out);
    else if (e.isFile()) out.push(name);
  }
}

/**
 * folder_paths.get_filename_list: the files under models/<folder> (subfolders included, `/`-separated),
 * filtered by the folder's extensions and sorted. A missing folder lists nothing.
 */
export async function listModels(dirs: DataDirs, folder: string): Promise<string[]> {
  const files: string[] = [];
  await walk(path.join(dirs.models, folder), '', files);
  const exts = extensionsOf(folder);
  return files.filter((f) => exts === null || exts.has(path.extname(f).toLowerCase())).sort();
}
