import sharp from 'sharp';

const SIZE = 64;

/** A small gradient, so that blur/invert on the example image give visible, testable changes. */
export async function writeExampleImage(file: string): Promise<void> {
  const pixels = Buffer.alloc(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const i = (y * SIZE + x) * 3;
      pixels[i] = Math.round((x / (SIZE - 1)) * 255);
      pixels[i + 1] = Math.round((y / (SIZE - 1)) * 255);
      pixels[i + 2] = (x >> 3) % 2 === (y >> 3) % 2 ? 200 : 40;
    }
  }
  await sharp(pixels, { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .png()
    .toFile(file);
}
