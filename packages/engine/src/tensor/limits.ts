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

/** A validate() hook that rejects literal sizes over the pixel limits before the prompt is queued. */
export function pixelLimitCheck(widthKey: string, heightKey: string, batchKey?: string) {
  return (
    inputs: Record<string, unknown>,
    env: { limits: Pick<EngineLimits, 'maxImagePixels' | 'maxBatchPixels'> },
  ) => {
    const width = inputs[widthKey];
    const height = inputs[heightKey];
    const batch = batchKey ? inputs[batchKey] : 1;
    if (typeof width !== 'number' || typeof height !== 'number') return true;
    try {
      assertPixels(env.limits, width, height, typeof batch === 'number' ? batch : 1);
      return true;
    } catch (err) {
      if (err instanceof ImageTooLargeError) return err.message;
      throw err;
    }
  };
}
