import path from 'node:path';
import type { ComfyFileRef, ComfyHistoryEntry } from '../backends/comfy-types';

const CONTENT_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.heif': 'image/heif',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
  '.flac': 'audio/flac',
  '.ogg': 'audio/ogg',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.glb': 'model/gltf-binary',
};

export const contentTypeFor = (filename: string): string =>
  CONTENT_TYPES[path.extname(filename).toLowerCase()] ?? 'application/octet-stream';

export const isTextContentType = (contentType: string | null): boolean =>
  contentType !== null && (contentType.startsWith('text/') || contentType === 'application/json');

/** One thing an output node produced: a file on the backend, or inline text (PreviewAny-style). */
export type ProducedItem =
  | { kind: 'file'; ref: ComfyFileRef; extension: string }
  | { kind: 'text'; text: string };

const TEXT_KEYS = new Set(['text', 'texts', 'string', 'strings', 'integer', 'value', 'values']);

const isFileRef = (item: unknown): item is ComfyFileRef =>
  typeof item === 'object' && item !== null && typeof (item as ComfyFileRef).filename === 'string';

/** Everything a node left in its history entry, in a stable order. */
export function producedItems(entry: ComfyHistoryEntry, nodeId: string): ProducedItem[] {
  const nodeOutput = entry.outputs?.[nodeId];
  if (!nodeOutput) return [];
  const items: ProducedItem[] = [];
  const texts: string[] = [];
  for (const [key, value] of Object.entries(nodeOutput)) {
    if (!Array.isArray(value)) continue;
    for (const item of value) {
      if (isFileRef(item)) {
        items.push({
          kind: 'file',
          ref: item,
          extension: path.extname(item.filename).toLowerCase() || '.bin',
        });
      } else if (TEXT_KEYS.has(key) && (typeof item === 'string' || typeof item === 'number')) {
        texts.push(String(item));
      }
    }
  }
  if (texts.length === 0) return items;
  // FSSaveText writes a .txt and echoes the same text inline: take the inline copy and skip a /view round
  // trip. Any other file (an image beside a caption, say) keeps the files as the outputs.
  const onlyTextFiles = items.every((item) => item.kind === 'file' && item.extension === '.txt');
  return onlyTextFiles ? [{ kind: 'text', text: texts.join('\n') }] : items;
}

/** `<outputName>.png`, then `<outputName>_2.png`, … for further files of the same output. */
export const storedFilename = (outputName: string, index: number, extension: string): string =>
  `${outputName}${index === 0 ? '' : `_${index + 1}`}${extension}`;
