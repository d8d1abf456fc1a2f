import { yieldToLoop } from './image';
import { pilLanczos } from './pil-lanczos';

export type ScaleMethod = 'nearest-exact' | 'bilinear' | 'area' | 'bicubic' | 'lanczos';
export const SCALE_METHODS: readonly ScaleMethod[] = [
  'nearest-exact',
  'bilinear',
  'area',
  'bicubic',
  'lanczos',
];

/** For each output index: the source indices it reads and their weights. */
interface Taps {
  index: Int32Array[];
  weight: Float64Array[];
}

const clamp = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);

function cubic(x: number): number {
  // torch's upsample_bicubic2d uses the cubic convolution kernel with A = -0.75.
  const a = -0.75;
  const t = Math.abs(x);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

const f32 = Math.fround;

/**
 * torch's nearest_neighbor_exact_compute_source_index: `floorf((dst + 0.5) * scale)` with a float32
 * scale, where floorf takes its double argument as a float. That float rounding decides exact ties
 * (96 → 37: column 18 reads source 48, not 47 as double arithmetic gives).
 */
export function nearestExactIndex(o: number, inSize: number, outSize: number): number {
  const scale = f32(inSize / outSize);
  return Math.min(Math.floor(f32((o + 0.5) * scale)), inSize - 1);
}

/** area_pixel_compute_source_index in float32 (torch's opmath for float tensors). */
function sourceIndex(o: number, scale: number, cubic: boolean): number {
  const src = f32(f32(scale * f32(o + 0.5)) - 0.5);
  return !cubic && src < 0 ? 0 : src;
}

/** Taps that reproduce torch.nn.functional.interpolate (align_corners=False, no antialias). */
function buildTaps(inSize: number, outSize: number, method: Exclude<ScaleMethod, 'lanczos'>): Taps {
  const scale = f32(inSize / outSize);
  const index: Int32Array[] = [];
  const weight: Float64Array[] = [];
  for (let o = 0; o < outSize; o++) {
    if (method === 'nearest-exact') {
      index.push(Int32Array.of(nearestExactIndex(o, inSize, outSize)));
      weight.push(Float64Array.of(1));
    } else if (method === 'bilinear') {
      const src = sourceIndex(o, scale, false);
      const i0 = Math.floor(src);
      const l = f32(src - i0);
      index.push(Int32Array.of(clamp(i0, inSize), clamp(i0 + 1, inSize)));
      weight.push(Float64Array.of(f32(1 - l), l));
    } else if (method === 'bicubic') {
      const src = sourceIndex(o, scale, true);
      const i0 = Math.floor(src);
      const t = f32(src - i0);
      index.push(Int32Array.from([-1, 0, 1, 2], (k) => clamp(i0 + k, inSize)));
      weight.push(Float64Array.from([-1, 0, 1, 2], (k) => cubic(t - k)));
    } else {
      // 'area' is adaptive average pooling.
      const start = Math.floor((o * inSize) / outSize);
      const end = Math.ceil(((o + 1) * inSize) / outSize);
      const n = end - start;
      index.push(Int32Array.from({ length: n }, (_, k) => start + k));
      weight.push(new Float64Array(n).fill(1 / n));
    }
  }
  return { index, weight };
}

/** Taps flattened to a fixed width K (zero weights pad short lists), for a tight inner loop. */
function flatten(taps: Taps): { k: number; index: Int32Array; weight: Float64Array } {
  const k = Math.max(1, ...taps.index.map((t) => t.length));
  const index = new Int32Array(taps.index.length * k);
  const weight = new Float64Array(taps.index.length * k);
  taps.index.forEach((idx, o) => {
    index.set(idx, o * k);
    weight.set(taps.weight[o] as Float64Array, o * k);
  });
  return { k, index, weight };
}

/** Resamples an interleaved frame with separate horizontal and vertical taps; returns floats. */
async function applyTaps(
  src: ArrayLike<number>,
  w: number,
  h: number,
  ch: number,
  tx: Taps,
  ty: Taps,
): Promise<Float32Array> {
  const ow = tx.index.length;
  const oh = ty.index.length;
  const { k: kx, index: ix, weight: wx } = flatten(tx);
  const tmp = new Float32Array(ow * h * ch);
  for (let y = 0; y < h; y++) {
    const inRow = y * w;
    const outRow = y * ow;
    for (let x = 0; x < ow; x++) {
      const base = x * kx;
      for (let c = 0; c < ch; c++) {
        let acc = 0;
        for (let k = 0; k < kx; k++) {
          acc += (wx[base + k] as number) * (src[(inRow + (ix[base + k] as number)) * ch + c] as number);
        }
        tmp[(outRow + x) * ch + c] = acc;
      }
    }
    if (y % 64 === 63) await yieldToLoop();
  }
  const out = new Float32Array(ow * oh * ch);
  const stride = ow * ch;
  for (let y = 0; y < oh; y++) {
    const idx = ty.index[y] as Int32Array;
    const wt = ty.weight[y] as Float64Array;
    const row = y * stride;
    for (let k = 0; k < idx.length; k++) {
      const weight = wt[k] as number;
      const from = (idx[k] as number) * stride;
      for (let i = 0; i < stride; i++)
        out[row + i] = (out[row + i] as number) + weight * (tmp[from + i] as number);
    }
    if (y % 64 === 63) await yieldToLoop();
  }
  return out;
}

/** Resizes one frame; values stay in the source range (0..255 for images, 0..1 for masks). */
export async function resizeFrame(
  src: Uint8Array | Float32Array,
  w: number,
  h: number,
  ch: 1 | 3,
  ow: number,
  oh: number,
  method: ScaleMethod,
): Promise<Float32Array> {
  if (method === 'lanczos') return lanczos(src, w, h, ch, ow, oh);
  return applyTaps(src, w, h, ch, buildTaps(w, ow, method), buildTaps(h, oh, method));
}

/** An 8-bit RGB frame resized as ComfyUI does for `lanczos`: PIL's LANCZOS on the 8-bit image. */
export function lanczosBytes(src: Uint8Array, w: number, h: number, ow: number, oh: number): Promise<Buffer> {
  return pilLanczos(src, w, h, 3, ow, oh);
}

/** PIL's LANCZOS on values of the source range (masks go through 8 bits, as ComfyUI's PIL round trip does). */
async function lanczos(
  src: Uint8Array | Float32Array,
  w: number,
  h: number,
  ch: 1 | 3,
  ow: number,
  oh: number,
): Promise<Float32Array> {
  const isFloat = src instanceof Float32Array;
  const bytes = isFloat ? Uint8Array.from(src, (v) => Math.max(0, Math.min(255, Math.trunc(v * 255)))) : src;
  const out = await pilLanczos(bytes, w, h, ch, ow, oh);
  return Float32Array.from(out, (v) => (isFloat ? v / 255 : v));
}

/** Python's round(): halves go to the even neighbour. */
export function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** common_upscale's crop="center": the largest centred window with the target aspect ratio. */
export function centerCropWindow(w: number, h: number, ow: number, oh: number) {
  const oldAspect = w / h;
  const newAspect = ow / oh;
  let x = 0;
  let y = 0;
  if (oldAspect > newAspect) x = pyRound((w - w * (newAspect / oldAspect)) / 2);
  else if (oldAspect < newAspect) y = pyRound((h - h * (oldAspect / newAspect)) / 2);
  return { x, y, width: w - 2 * x, height: h - 2 * y };
}

/** Copies a rectangle out of an interleaved frame. */
export function cropFrame<T extends Uint8Array | Float32Array>(
  src: T,
  w: number,
  ch: number,
  x: number,
  y: number,
  cw: number,
  chh: number,
): T {
  const out = new (src.constructor as new (n: number) => T)(cw * chh * ch);
  for (let row = 0; row < chh; row++) {
    const from = ((y + row) * w + x) * ch;
    out.set(src.subarray(from, from + cw * ch), row * cw * ch);
  }
  return out;
}
