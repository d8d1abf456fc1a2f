import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

// The size budget of the core entry in a browser bundle, measured like bench/sdk-bundle-size.ts (esbuild
// minified ESM, gzip -9). Deterministic for a given esbuild and zlib, so it can hold CI to the 6 KiB goal.
const BUDGET_BYTES = 6 * 1024;

describe('browser bundle budget', () => {
  it(`the core entry is at most ${BUDGET_BYTES} B min+gzip`, async () => {
    const result = await build({
      entryPoints: [join(import.meta.dirname, '../src/index.ts')],
      bundle: true,
      minify: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    const gzipped = gzipSync(result.outputFiles[0]!.contents, { level: 9 }).byteLength;
    expect(gzipped).toBeLessThanOrEqual(BUDGET_BYTES);
    // A sanity floor: an entry that lost its code would also pass the budget.
    expect(gzipped).toBeGreaterThan(4000);
  });
});
