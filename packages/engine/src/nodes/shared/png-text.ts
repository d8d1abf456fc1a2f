import { crc32 } from 'node:zlib';

export function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * Inserts tEXt chunks right after IHDR, as PIL's PngInfo does for ComfyUI's "prompt" and
 * extra_pnginfo keys. sharp cannot write arbitrary text chunks, so they are spliced in here.
 */
export function addPngText(png: Buffer, entries: ReadonlyArray<[string, string]>): Buffer {
  if (entries.length === 0) return png;
  const ihdrEnd = 8 + 8 + png.readUInt32BE(8) + 4;
  const chunks = entries.map(([key, value]) =>
    pngChunk(
      'tEXt',
      Buffer.concat([Buffer.from(key, 'latin1'), Buffer.from([0]), Buffer.from(value, 'latin1')]),
    ),
  );
  return Buffer.concat([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)]);
}

/** Reads tEXt chunks back (used by tests and by anyone checking embedded prompts). */
export function readPngText(png: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 8;
  while (pos + 8 <= png.length) {
    const len = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    if (type === 'tEXt') {
      const data = png.subarray(pos + 8, pos + 8 + len);
      const zero = data.indexOf(0);
      out[data.toString('latin1', 0, zero)] = data.toString('latin1', zero + 1);
    }
    if (type === 'IEND') break;
    pos += 12 + len;
  }
  return out;
}
