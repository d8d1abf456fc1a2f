import { pngChunk } from './png-text';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface Chunk {
  type: string;
  data: Buffer;
}

function chunksOf(png: Buffer): Chunk[] {
  const out: Chunk[] = [];
  for (let at = 8; at + 8 <= png.length; ) {
    const length = png.readUInt32BE(at);
    out.push({ type: png.toString('latin1', at + 4, at + 8), data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return out;
}

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => {
    b.writeUInt32BE(v, i * 4);
  });
  return b;
}

/** fcTL: the whole canvas, `delayMs` per frame, no disposal or blending (each frame replaces the last). */
function frameControl(seq: number, width: number, height: number, delayMs: number): Buffer {
  const tail = Buffer.alloc(6);
  tail.writeUInt16BE(delayMs, 0);
  tail.writeUInt16BE(1000, 2);
  return pngChunk('fcTL', Buffer.concat([u32(seq, width, height, 0, 0), tail]));
}

/**
 * Joins same-sized PNGs (as sharp encodes them) into one animated PNG, as PIL's save_all does: the first
 * frame's IDAT is the default image, the others become fdAT chunks. `after` chunks go after the frames
 * (ComfyUI's SaveAnimatedPNG writes its `comf` metadata chunks after the image data).
 */
export function assembleApng(
  pngs: readonly Buffer[],
  width: number,
  height: number,
  delayMs: number,
  after: readonly Buffer[] = [],
): Buffer {
  const first = chunksOf(pngs[0] as Buffer);
  const ihdr = first.find((c) => c.type === 'IHDR') as Chunk;
  const parts: Buffer[] = [SIGNATURE, pngChunk('IHDR', ihdr.data), pngChunk('acTL', u32(pngs.length, 0))];
  let seq = 0;
  pngs.forEach((png, index) => {
    parts.push(frameControl(seq++, width, height, delayMs));
    for (const c of chunksOf(png)) {
      if (c.type !== 'IDAT') continue;
      parts.push(
        index === 0 ? pngChunk('IDAT', c.data) : pngChunk('fdAT', Buffer.concat([u32(seq++), c.data])),
      );
    }
  });
  parts.push(...after, pngChunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}
