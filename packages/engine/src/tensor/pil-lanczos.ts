import { yieldToLoop } from './image';

/**
 * PIL's LANCZOS resize (Pillow's libImaging/Resample.c), which ComfyUI's comfy.utils.lanczos calls on
 * 8-bit frames: a separable filter with support 3, widened by the scale when shrinking (antialias),
 * coefficients normalised per output pixel and quantised to fixed point, the horizontal pass first with
 * an 8-bit intermediate, and each pass clipped to 0..255.
 */

const SUPPORT = 3;
/** Resample.c: PRECISION_BITS = 32 - 8 - 2. */
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

function lanczos(x: number): number {
  return x >= -SUPPORT && x < SUPPORT ? sinc(x) * sinc(x / SUPPORT) : 0;
}

export interface Coefficients {
  /** Taps per output pixel (the row width in `weights`). */
  ksize: number;
  /** First source index and number of taps, per output pixel. */
  bounds: Int32Array;
  /** Fixed-point weights, `ksize` per output pixel. */
  weights: Int32Array;
}

/** Resample.c's precompute_coeffs followed by normalize_coeffs_8bpc, for the box 0..inSize. */
export function pilCoefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(1, scale);
  const support = SUPPORT * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero; the +0.5 rounds the (non-negative here) bounds.
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = lanczos((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? (k[x] as number) / ww : (k[x] as number);
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

/** clip8: the accumulator shifted down (arithmetic shift, as in C) and clamped to a byte. */
function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return Math.max(0, Math.min(255, v));
}

async function horizontal(
  src: Uint8Array,
  w: number,
  rows: number,
  firstRow: number,
  ch: number,
  c: Coefficients,
  ow: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(ow * rows * ch);
  const acc = new Int32Array(ch);
  for (let y = 0; y < rows; y++) {
    const inRow = (y + firstRow) * w;
    for (let xx = 0; xx < ow; xx++) {
      const xmin = c.bounds[xx * 2] as number;
      const xmax = c.bounds[xx * 2 + 1] as number;
      const kBase = xx * c.ksize;
      acc.fill(HALF);
      for (let x = 0; x < xmax; x++) {
        const weight = c.weights[kBase + x] as number;
        const p = (inRow + x + xmin) * ch;
        // Math.imul keeps C's 32-bit integer arithmetic (the sums stay in range, as in Resample.c).
        for (let i = 0; i < ch; i++) acc[i] = (acc[i] as number) + Math.imul(src[p + i] as number, weight);
      }
      const o = (y * ow + xx) * ch;
      for (let i = 0; i < ch; i++) out[o + i] = clip8(acc[i] as number);
    }
    if (y % 64 === 63) await yieldToLoop();
  }
  return out;
}

async function vertical(
  src: Uint8Array,
  w: number,
  ch: number,
  c: Coefficients,
  oh: number,
  rowShift: number,
): Promise<Uint8Array> {
  const stride = w * ch;
  const out = new Uint8Array(stride * oh);
  const acc = new Int32Array(stride);
  for (let yy = 0; yy < oh; yy++) {
    const ymin = (c.bounds[yy * 2] as number) - rowShift;
    const ymax = c.bounds[yy * 2 + 1] as number;
    const kBase = yy * c.ksize;
    acc.fill(HALF);
    for (let y = 0; y < ymax; y++) {
      const weight = c.weights[kBase + y] as number;
      const from = (y + ymin) * stride;
      for (let i = 0; i < stride; i++)
        acc[i] = (acc[i] as number) + Math.imul(src[from + i] as number, weight);
    }
    const o = yy * stride;
    for (let i = 0; i < stride; i++) out[o + i] = clip8(acc[i] as number);
    if (yy % 64 === 63) await yieldToLoop();
  }
  return out;
}

/** Resizes an interleaved 8-bit frame (1 or 3 channels) exactly as PIL's Image.resize(LANCZOS). */
export async function pilLanczos(
  src: Uint8Array,
  w: number,
  h: number,
  ch: number,
  ow: number,
  oh: number,
): Promise<Buffer> {
  if (ow === w && oh === h) return Buffer.from(src);
  const cx = pilCoefficients(w, ow);
  const cy = pilCoefficients(h, oh);
  // ImagingResampleInner: only the source rows the vertical pass reads go through the horizontal pass.
  const firstRow = cy.bounds[0] as number;
  const lastRow = (cy.bounds[oh * 2 - 2] as number) + (cy.bounds[oh * 2 - 1] as number);
  let rows = src;
  let rowShift = 0;
  if (ow !== w) {
    rows = await horizontal(src, w, lastRow - firstRow, firstRow, ch, cx, ow);
    rowShift = firstRow;
  }
  const out = oh !== h ? await vertical(rows, ow, ch, cy, oh, rowShift) : rows;
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}
