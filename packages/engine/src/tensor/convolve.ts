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

/** Separable convolution of an interleaved 8-bit frame; returns floats in the 0..255 range. */
export async function convolveSeparable(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  kernel: Float64Array,
): Promise<Float32Array> {
  const r = (kernel.length - 1) / 2;
  const tmp = new Float32Array(width * height * channels);
  const out = new Float32Array(width * height * channels);
  const xIndex = Int32Array.from({ length: width + 2 * r }, (_, i) => reflectIndex(i - r, width));
  const yIndex = Int32Array.from({ length: height + 2 * r }, (_, i) => reflectIndex(i - r, height));
  for (let y = 0; y < height; y++) {
    const row = y * width * channels;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < kernel.length; k++) {
          acc += (kernel[k] as number) * (src[row + (xIndex[x + k] as number) * channels + c] as number);
        }
        tmp[row + x * channels + c] = acc;
      }
    }
    if (y % ROWS_PER_YIELD === ROWS_PER_YIELD - 1) await yieldToLoop();
  }
  const stride = width * channels;
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < stride; i++) {
      let acc = 0;
      for (let k = 0; k < kernel.length; k++)
        acc += (kernel[k] as number) * (tmp[(yIndex[y + k] as number) * stride + i] as number);
      out[y * stride + i] = acc;
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
