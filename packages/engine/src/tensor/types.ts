/**
 * IMAGE is a batch of same-sized RGB frames, 8 bits per channel (what sharp reads and writes raw).
 * ComfyUI keeps float32 in 0..1; 8-bit storage is 4x smaller and differs by at most one level.
 * MASK is a batch of single-channel float frames in 0..1, like ComfyUI's.
 * Frames are never mutated after creation, so they can be shared between values and cache entries.
 */
export interface ImageBatch {
  readonly kind: 'IMAGE';
  readonly width: number;
  readonly height: number;
  readonly frames: readonly Buffer[];
}

export interface MaskBatch {
  readonly kind: 'MASK';
  readonly width: number;
  readonly height: number;
  readonly frames: readonly Float32Array[];
}

export function isImage(value: unknown): value is ImageBatch {
  return typeof value === 'object' && value !== null && (value as ImageBatch).kind === 'IMAGE';
}

export function isMask(value: unknown): value is MaskBatch {
  return typeof value === 'object' && value !== null && (value as MaskBatch).kind === 'MASK';
}

/** Bytes held by a value, for the cache's memory bound. Shared frames are counted each time (upper bound). */
export function valueBytes(value: unknown): number {
  if (isImage(value)) return value.frames.reduce((n, f) => n + f.byteLength, 0);
  if (isMask(value)) return value.frames.reduce((n, f) => n + f.byteLength, 0);
  if (typeof value === 'string') return value.length * 2;
  return 16;
}

/** Short text form used in error reports instead of dumping pixels. */
export function describeValue(value: unknown): string {
  if (isImage(value)) return `IMAGE(batch=${value.frames.length}, ${value.width}x${value.height}x3)`;
  if (isMask(value)) return `MASK(batch=${value.frames.length}, ${value.width}x${value.height})`;
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? String(value);
}
