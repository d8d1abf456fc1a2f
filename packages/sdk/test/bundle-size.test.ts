import { describe, expect, it } from 'vitest';
import { measureCoreBundle } from './support/bundle';

// The size budget of the core entry in a browser bundle, measured like bench/sdk-bundle-size.ts (esbuild
// minified ESM with code splitting, gzip -9). What a page loads eagerly counts; chunks reached only through
// import() (waiting for a run, the event stream, upload progress, ws on Node) load with the call that needs
// them. Deterministic for a given esbuild and zlib, so it can hold CI to the 6 KiB goal.
const BUDGET_BYTES = 6 * 1024;

describe('browser bundle budget', () => {
  it(`the core entry loads at most ${BUDGET_BYTES} B min+gzip eagerly`, async () => {
    const { eager, lazy } = await measureCoreBundle();
    expect(eager).toBeLessThanOrEqual(BUDGET_BYTES);
    // A sanity floor: an entry that lost its code would also pass the budget.
    expect(eager).toBeGreaterThan(4000);
    // The lazy chunks exist (a static import of one would fold it back into the eager part).
    expect(Object.keys(lazy).length).toBeGreaterThan(0);
  });
});
