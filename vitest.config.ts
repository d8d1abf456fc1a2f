import { configDefaults, defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through the "flowscale-source" export condition,
// so tests never depend on a stale build. The name is ours alone: some dependencies publish a plain
// "source" condition pointing at their own .ts files (eventsource-parser does). Vitest also hands these conditions to Node (--conditions)
// for external dependencies, so they must not include "import"/"module": those would make
// CommonJS `require()` inside dependencies pick ESM entries.
const conditions = ['flowscale-source', 'node', 'development|production'];

// The server's end-to-end files that pick their own database and storage; the rest run twice.
const SELF_CONFIGURED_E2E = [
  'packages/server/test/e2e/cluster.test.ts',
  'packages/server/test/e2e/tracing-cluster.test.ts',
  // Exports to a collector of its own that never answers; storage plays no part.
  'packages/server/test/e2e/tracing-shutdown.test.ts',
  'packages/server/test/e2e/postgres-outage.test.ts',
  'packages/server/test/e2e/s3-storage.test.ts',
  // Ages files by their mtime on local disk; S3 retention is in s3-storage.test.ts.
  'packages/server/test/e2e/retention.test.ts',
  // Always several replicas on a Postgres of its own.
  'packages/server/test/e2e/cluster-waiting.test.ts',
  // Spawn bin.ts with settings of their own; a second run on Postgres would test nothing new.
  'packages/server/test/e2e/startup-errors.test.ts',
  'packages/server/test/e2e/logs.test.ts',
];

// The quick library suites that `npm test` runs a second time on Node 22 (scripts/test-node22.mjs): the
// server's and engine's own suites are the slow part of the whole and stay on Node 20 only.
const LIBRARIES = [
  'packages/sdk/test/**/*.test.{ts,tsx}',
  'packages/cli/test/**/*.test.{ts,tsx}',
  'packages/proxy/test/**/*.test.{ts,tsx}',
  'packages/react/test/**/*.test.{ts,tsx}',
  'test/**/*.test.ts',
];
// What these check does not depend on the Node that runs them (type checks, bundle size, browser code), or
// test/packages.test.ts covers it on Node 22 too (the SDK's require()/import of each entry).
const LIBRARIES_NODE_INDEPENDENT = [
  'packages/sdk/test/types.test.ts',
  'packages/sdk/test/bundle-size.test.ts',
  'packages/sdk/test/browser.test.ts',
  'packages/sdk/test/browser-progress.test.ts',
  'packages/sdk/test/packaging.test.ts',
  'packages/cli/test/types.e2e.test.ts',
];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['flowscale-source'] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // One retry, so a single unlucky scheduling on a loaded 2-core machine does not fail a whole run. It
    // hides nothing: test/support/flaky-reporter.ts lists every test that passed only on its retry, with
    // its first failure. A test that fails twice still fails the run.
    retry: 1,
    reporters: ['default', './test/support/flaky-reporter.ts'],
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'default',
          include: [
            'packages/*/test/**/*.test.{ts,tsx}',
            'examples/*/test/**/*.test.{ts,tsx}',
            'test/**/*.test.ts',
          ],
        },
      },
      // Only when asked for (the Node 22 pass sets this): a plain `vitest run` would run these files twice.
      ...(process.env.FLOWSCALE_TEST_LIBRARIES
        ? [
            {
              extends: true,
              test: {
                name: 'libraries',
                include: LIBRARIES,
                exclude: [...configDefaults.exclude, ...LIBRARIES_NODE_INDEPENDENT],
              },
            },
          ]
        : []),
      {
        // The same end-to-end suite on the scale-out configuration: Postgres records, S3 files.
        extends: true,
        test: {
          name: 'server-e2e-postgres-s3',
          include: ['packages/server/test/e2e/**/*.test.ts'],
          exclude: SELF_CONFIGURED_E2E,
          env: { FLOWSCALE_TEST_DATABASE: 'postgres', FLOWSCALE_TEST_STORAGE: 's3' },
        },
      },
    ],
  },
});
