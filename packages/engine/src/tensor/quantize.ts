/**
 * Palette quantisation for ImageQuantize. ComfyUI calls PIL: a median-cut palette of `colors` entries
 * (Image.quantize), then a mapping to it with no dithering, Floyd–Steinberg, or its own ordered Bayer
 * pre-dither. The palette here is a median cut too (boxes split at the weighted median of their widest
 * channel, entries the mean colour of each box), so results are close to PIL's but not bit-identical.
 */

type Rgb = [number, number, number];

interface Box {
  colors: Int32Array; // packed 0xRRGGBB
  counts: Float64Array;
  total: number;
}

const channel = (c: number, k: number) => (c >> (16 - 8 * k)) & 0xff;

function widestChannel(box: Box): { k: number; range: number } {
  let best = { k: 0, range: -1 };
  for (let k = 0; k < 3; k++) {
    let lo = 255;
    let hi = 0;
    for (const c of box.colors) {
      const v = channel(c, k);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (hi - lo > best.range) best = { k, range: hi - lo };
  }
  return best;
}

function split(box: Box, k: number): [Box, Box] {
  const order = Array.from(box.colors.keys()).sort(
    (a, b) => channel(box.colors[a] as number, k) - channel(box.colors[b] as number, k),
  );
  let acc = 0;
  let cut = 1;
  for (let i = 0; i < order.length - 1; i++) {
    acc += box.counts[order[i] as number] as number;
    cut = i + 1;
    if (acc >= box.total / 2) break;
  }
  const make = (ids: number[]): Box => {
    const counts = Float64Array.from(ids, (i) => box.counts[i] as number);
    return {
      colors: Int32Array.from(ids, (i) => box.colors[i] as number),
      counts,
      total: counts.reduce((a, b) => a + b, 0),
    };
  };
  return [make(order.slice(0, cut)), make(order.slice(cut))];
}

function mean(box: Box): Rgb {
  const sum = [0, 0, 0];
  box.colors.forEach((c, i) => {
    for (let k = 0; k < 3; k++) sum[k] = (sum[k] as number) + channel(c, k) * (box.counts[i] as number);
  });
  return sum.map((s) => Math.round(s / box.total)) as Rgb;
}

/** A median-cut palette of at most `size` colours for the interleaved RGB pixels. */
export function medianCutPalette(rgb: Uint8Array, size: number): Rgb[] {
  const histogram = new Map<number, number>();
  for (let i = 0; i < rgb.length; i += 3) {
    const c = ((rgb[i] as number) << 16) | ((rgb[i + 1] as number) << 8) | (rgb[i + 2] as number);
    histogram.set(c, (histogram.get(c) ?? 0) + 1);
  }
  const boxes: Box[] = [
    {
      colors: Int32Array.from(histogram.keys()),
      counts: Float64Array.from(histogram.values()),
      total: rgb.length / 3,
    },
  ];
  while (boxes.length < size) {
    // Split the most populous box that still holds more than one colour.
    let pick = -1;
    for (let i = 0; i < boxes.length; i++) {
      const b = boxes[i] as Box;
      if (b.colors.length > 1 && (pick < 0 || b.total > (boxes[pick] as Box).total)) pick = i;
    }
    if (pick < 0) break;
    const box = boxes[pick] as Box;
    boxes.splice(pick, 1, ...split(box, widestChannel(box).k));
  }
  return boxes.map(mean);
}

/** Index of the nearest palette entry (squared RGB distance, first on ties). */
export function nearestIndex(palette: readonly Rgb[], r: number, g: number, b: number): number {
  let best = 0;
  let bestD = Number.POSITIVE_INFINITY;
  palette.forEach(([pr, pg, pb], i) => {
    const d = (r - pr) ** 2 + (g - pg) ** 2 + (b - pb) ** 2;
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  });
  return best;
}

/** Maps every pixel to its nearest palette colour (memoised per colour). */
export function mapToPalette(rgb: Uint8Array, palette: readonly Rgb[]): Buffer {
  const memo = new Map<number, number>();
  const out = Buffer.allocUnsafe(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) {
    const r = rgb[i] as number;
    const g = rgb[i + 1] as number;
    const b = rgb[i + 2] as number;
    const key = (r << 16) | (g << 8) | b;
    let idx = memo.get(key);
    if (idx === undefined) {
      idx = nearestIndex(palette, r, g, b);
      memo.set(key, idx);
    }
    const p = palette[idx] as Rgb;
    out[i] = p[0];
    out[i + 1] = p[1];
    out[i + 2] = p[2];
  }
  return out;
}

/** Floyd–Steinberg error diffusion (7/16 right, 3/16 down-left, 5/16 down, 1/16 down-right). */
export function floydSteinberg(
  rgb: Uint8Array,
  width: number,
  height: number,
  palette: readonly Rgb[],
): Buffer {
  const work = Float32Array.from(rgb);
  const out = Buffer.allocUnsafe(rgb.length);
  const spread = (x: number, y: number, k: number, e: number) => {
    if (x < 0 || x >= width || y >= height) return;
    const j = (y * width + x) * 3 + k;
    work[j] = (work[j] as number) + e;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const px = [0, 1, 2].map((k) => Math.max(0, Math.min(255, Math.round(work[i + k] as number))));
      const p = palette[nearestIndex(palette, px[0] as number, px[1] as number, px[2] as number)] as Rgb;
      for (let k = 0; k < 3; k++) {
        out[i + k] = p[k] as number;
        const e = (px[k] as number) - (p[k] as number);
        spread(x + 1, y, k, (e * 7) / 16);
        spread(x - 1, y + 1, k, (e * 3) / 16);
        spread(x, y + 1, k, (e * 5) / 16);
        spread(x + 1, y + 1, k, e / 16);
      }
    }
  }
  return out;
}

/** ComfyUI's normalized_bayer_matrix(n): a 2^n square of thresholds centred on 0. */
export function bayerMatrix(n: number): number[][] {
  if (n === 0) return [[0]];
  const q = 4 ** n;
  const m = bayerMatrix(n - 1).map((row) => row.map((v) => q * v));
  const quad = (d: number) => m.map((row) => row.map((v) => (v + d) / q));
  const [a, b, c, d] = [quad(-1.5), quad(0.5), quad(1.5), quad(-0.5)];
  return [
    ...a.map((row, i) => [...row, ...(b[i] as number[])]),
    ...c.map((row, i) => [...row, ...(d[i] as number[])]),
  ];
}

/** ComfyUI's ordered pre-dither: add spread·bayer + 0.5, clamp, truncate to 8 bits, then map. */
export function bayerDither(rgb: Uint8Array, width: number, order: number, palette: readonly Rgb[]): Buffer {
  const matrix = bayerMatrix(Math.log2(order));
  const spreadBy = (2 * 256) / palette.length;
  const shifted = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) {
    const px = Math.floor(i / 3);
    const t = (matrix[Math.floor(px / width) % order] as number[])[(px % width) % order] as number;
    shifted[i] = Math.trunc(Math.max(0, Math.min(255, (rgb[i] as number) + spreadBy * t + 0.5)));
  }
  return mapToPalette(shifted, palette);
}
