import sharp, { type Sharp } from 'sharp';
import type { ImageBatch, MaskBatch } from './types';

export function makeImage(width: number, height: number, frames: Buffer[]): ImageBatch {
  return { kind: 'IMAGE', width, height, frames };
}

export function makeMask(width: number, height: number, frames: Float32Array[]): MaskBatch {
  return { kind: 'MASK', width, height, frames };
}

/** Converts a 0..1 float to an 8-bit level, clamped like ComfyUI's save path. */
export function toByte(v: number): number {
  if (!(v > 0)) return 0;
  if (v >= 1) return 255;
  return Math.round(v * 255);
}

export function rawSharp(frame: Buffer, width: number, height: number, channels: 1 | 3 | 4 = 3): Sharp {
  return sharp(frame, { raw: { width, height, channels } });
}

/** Maps every byte of every frame through fn (fn gets value 0..255 and returns 0..255). */
export function mapBytes(image: ImageBatch, fn: (v: number) => number): ImageBatch {
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = fn(v);
  const frames = image.frames.map((f) => {
    const out = Buffer.allocUnsafe(f.length);
    for (let i = 0; i < f.length; i++) out[i] = lut[f[i] as number] as number;
    return out;
  });
  return makeImage(image.width, image.height, frames);
}

/** Picks frame i, repeating the last one when the batch is shorter (ComfyUI's repeat_to_batch_size). */
export function frameAt<T>(frames: readonly T[], i: number): T {
  return frames[i % frames.length] as T;
}

/** Yields to the event loop so long pixel loops never stall HTTP and WebSocket traffic. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
