/**
 * Two tiny media containers written byte by byte, so the engine's test nodes can leave real video and
 * audio files without ffmpeg: Motion-JPEG in AVI (RIFF) and 16-bit PCM WAV.
 */

function chunk(id: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  head.writeUInt32LE(data.length, 4);
  // RIFF chunks are word-aligned: odd sizes get one pad byte that the size does not count.
  return Buffer.concat([head, data, data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

function list(type: string, parts: Buffer[]): Buffer {
  return chunk('LIST', Buffer.concat([Buffer.from(type, 'latin1'), ...parts]));
}

function u32s(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => {
    b.writeUInt32LE(v >>> 0, i * 4);
  });
  return b;
}

/** An AVI of JPEG frames (`MJPG`), `fps` frames per second; every frame is a key frame. */
export function mjpegAvi(jpegs: readonly Buffer[], width: number, height: number, fps: number): Buffer {
  const usPerFrame = Math.round(1_000_000 / fps);
  const biggest = Math.max(...jpegs.map((j) => j.length));
  // avih: MainAVIHeader. Flags 0x10 = AVIF_HASINDEX.
  const avih = chunk(
    'avih',
    u32s(usPerFrame, biggest * fps, 0, 0x10, jpegs.length, 0, 1, biggest, width, height, 0, 0, 0, 0),
  );
  const strhData = Buffer.alloc(56);
  strhData.write('vidsMJPG', 0, 'latin1');
  // dwScale/dwRate = seconds per frame; a rate of fps*1000 over scale 1000 keeps fractional rates.
  strhData.writeUInt32LE(1000, 20);
  strhData.writeUInt32LE(Math.round(fps * 1000), 24);
  strhData.writeUInt32LE(jpegs.length, 32);
  strhData.writeUInt32LE(biggest, 36);
  strhData.writeInt32LE(-1, 40); // dwQuality: default
  strhData.writeUInt16LE(width, 52);
  strhData.writeUInt16LE(height, 54);
  const strf = Buffer.alloc(40); // BITMAPINFOHEADER
  strf.writeUInt32LE(40, 0);
  strf.writeInt32LE(width, 4);
  strf.writeInt32LE(height, 8);
  strf.writeUInt16LE(1, 12);
  strf.writeUInt16LE(24, 14);
  strf.write('MJPG', 16, 'latin1');
  strf.writeUInt32LE(width * height * 3, 20);
  const hdrl = list('hdrl', [avih, list('strl', [chunk('strh', strhData), chunk('strf', strf)])]);
  const frames = jpegs.map((j) => chunk('00dc', j));
  const movi = list('movi', frames);
  // idx1 offsets are relative to the 'movi' fourcc; 0x10 = AVIIF_KEYFRAME.
  let offset = 4;
  const index = frames.map((f, i) => {
    const entry = Buffer.concat([
      Buffer.from('00dc', 'latin1'),
      u32s(0x10, offset, (jpegs[i] as Buffer).length),
    ]);
    offset += f.length;
    return entry;
  });
  const body = Buffer.concat([
    Buffer.from('AVI ', 'latin1'),
    hdrl,
    movi,
    chunk('idx1', Buffer.concat(index)),
  ]);
  return chunk('RIFF', body);
}

/** A mono 16-bit PCM WAV of `samples` (each in -1..1). */
export function pcmWav(samples: Float32Array, sampleRate: number): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => {
    data.writeInt16LE(Math.round(Math.max(-1, Math.min(1, s)) * 32767), i * 2);
  });
  const fmt = Buffer.alloc(16);
  fmt.writeUInt16LE(1, 0); // PCM
  fmt.writeUInt16LE(1, 2); // mono
  fmt.writeUInt32LE(sampleRate, 4);
  fmt.writeUInt32LE(sampleRate * 2, 8);
  fmt.writeUInt16LE(2, 12);
  fmt.writeUInt16LE(16, 14);
  return chunk(
    'RIFF',
    Buffer.concat([Buffer.from('WAVE', 'latin1'), chunk('fmt ', fmt), chunk('data', data)]),
  );
}
