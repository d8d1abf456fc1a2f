import type { EngineLimits } from '../config/limits';

export class ImageTooLargeError extends Error {
  override name = 'ImageTooLargeError';
}

/** Throws before allocating when an image or batch would exceed the configured pixel limits. */
export function assertPixels(
  limits: Pick<EngineLimits, 'maxImagePixels' | 'maxBatchPixels'>,
  width: number,
  height: number,
  batch = 1,
): void {
  const pixels = width * height;
  if (pixels > limits.maxImagePixels) {
    throw new ImageTooLargeError(
      `Image too large: ${width}x${height} = ${pixels} pixels exceeds the limit of ${limits.maxImagePixels} pixels per image`,
    );
  }
  if (pixels * batch > limits.maxBatchPixels) {
    throw new ImageTooLargeError(
      `Batch too large: ${batch} x ${width}x${height} = ${pixels * batch} pixels exceeds the limit of ${limits.maxBatchPixels} pixels per batch`,
    );
  }
}
