import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through the "flowscale-source" export condition,
// so tests never depend on a stale build. The name is ours alone: some dependencies publish a plain
// "source" condition pointing at their own .ts files (eventsource-parser does). Vitest also hands these conditions to Node (--conditions)
// for external dependencies, so they must not include "import"/"module": those would make
// CommonJS `require()` inside dependencies pick ESM entries.
const conditions = ['flowscale-source', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['flowscale-source'] } },
  test: {
    include: ['packages/*/test/**/*.test.{ts,tsx}', 'examples/*/test/**/*.test.{ts,tsx}'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
