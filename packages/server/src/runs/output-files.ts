import path from 'node:path';
import type { ComfyFileRef, ComfyHistoryEntry } from '../backends/comfy-types';

/**
 * One thing an output node produced: a file on the backend, or inline text (PreviewAny-style). A file of
 * type `temp` is a preview (PreviewImage, PreviewAudio): a run output only when the run has nothing else.
 */
export type ProducedItem =
  | { kind: 'file'; ref: ComfyFileRef; extension: string; preview: boolean }
  | { kind: 'text'; text: string; preview: false };

const TEXT_KEYS = new Set(['text', 'texts', 'string', 'strings', 'integer', 'value', 'values']);

const isFileRef = (item: unknown): item is ComfyFileRef =>
  typeof item === 'object' && item !== null && typeof (item as ComfyFileRef).filename === 'string';

/**
 * Everything a node left in its history entry: every file reference under any key (`images`, `gifs`,
 * `video`, `audio`, `3d`, a custom node's own), then every text, each list in its batch order.
 */
export function producedItems(entry: ComfyHistoryEntry, nodeId: string): ProducedItem[] {
  const nodeOutput = entry.outputs?.[nodeId];
  if (!nodeOutput) return [];
  const files: ProducedItem[] = [];
  const texts: ProducedItem[] = [];
  for (const [key, value] of Object.entries(nodeOutput)) {
    if (!Array.isArray(value)) continue;
    for (const item of value) {
      if (isFileRef(item)) {
        const extension = path.extname(item.filename).toLowerCase() || '.bin';
        files.push({ kind: 'file', ref: item, extension, preview: item.type === 'temp' });
      } else if (TEXT_KEYS.has(key) && (typeof item === 'string' || typeof item === 'number')) {
        texts.push({ kind: 'text', text: String(item), preview: false });
      }
    }
  }
  // FSSaveText writes a .txt and echoes the same text inline: take the inline copies and skip a /view
  // round trip each.
  const echoes = files.length > 0 && files.every((item) => item.kind === 'file' && item.extension === '.txt');
  return texts.length > 0 && echoes ? texts : [...files, ...texts];
}

/** `<outputName>.png`, then `<outputName>_2.png`, … for further files of the same output. */
export const storedFilename = (outputName: string, index: number, extension: string): string =>
  `${outputName}${index === 0 ? '' : `_${index + 1}`}${extension}`;
