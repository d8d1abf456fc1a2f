import { yieldToLoop } from './image';

/**
 * ComfyUI's gaussian_kernel samples exp(-d²/2σ²) on linspace(-1, 1, 2r+1), so sigma is relative to the
 * radius, not in pixels. The 2-D kernel is separable; this is its normalised 1-D factor.
 */
export function comfyGaussian1d(radius: number, sigma: number): Float64Array {
  const size = radius * 2 + 1;
  const k = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const t = size === 1 ? 0 : -1 + (2 * i) / (size - 1);
    k[i] = Math.exp(-(t * t) / (2 * sigma * sigma));
    sum += k[i] as number;
  }
  for (let i = 0; i < size; i++) k[i] = (k[i] as number) / sum;
  return k;
}

/** torch's 'reflect' padding (mirror without repeating the edge), folded for radii larger than the image. */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let j = i % period;
  if (j < 0) j += period;
  return j < n ? j : period - j;
}

const ROWS_PER_YIELD = 64;

/**
 * Separable convolution of an interleaved 8-bit frame; returns floats in the 0..255 range.
 * Both passes accumulate whole rows per kernel tap (a simple, cache-friendly inner loop).
 */
export async function convolveSeparable(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  kernel: Float64Array,
): Promise<Float32Array> {
  const r = (kernel.length - 1) / 2;
  const stride = width * channels;
  const tmp = new Float32Array(stride * height);
  const padded = new Float32Array((width + 2 * r) * channels);
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    for (let x = -r; x < width + r; x++) {
      const from = row + reflectIndex(x, width) * channels;
      for (let c = 0; c < channels; c++) padded[(x + r) * channels + c] = src[from + c] as number;
    }
    for (let k = 0; k < kernel.length; k++) {
      const weight = kernel[k] as number;
      const offset = k * channels;
      for (let i = 0; i < stride; i++)
        tmp[row + i] = (tmp[row + i] as number) + weight * (padded[offset + i] as number);
    }
    if (y % ROWS_PER_YIELD === ROWS_PER_YIELD - 1) await yieldToLoop();
  }
  const out = new Float32Array(stride * height);
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    for (let k = 0; k < kernel.length; k++) {
      const weight = kernel[k] as number;
      const from = reflectIndex(y + k - r, height) * stride;
      for (let i = 0; i < stride; i++)
        out[row + i] = (out[row + i] as number) + weight * (tmp[from + i] as number);
    }
    if (y % ROWS_PER_YIELD === ROWS_PER_YIELD - 1) await yieldToLoop();
  }
  return out;
}

export function floatsToBytes(values: Float32Array): Buffer {
  const out = Buffer.allocUnsafe(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
  }
  return out;
}
