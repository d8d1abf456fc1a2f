import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    node: 'src/node/index.ts',
    admin: 'src/admin/index.ts',
    events: 'src/events/index.ts',
    webhooks: 'src/webhooks/index.ts',
    otel: 'src/otel/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  // Browsers are a first-class target of the core entry; es2022 keeps private fields native.
  target: 'es2022',
  external: ['ws', '@opentelemetry/api'],
  // import.meta.url in the CJS build of flowscale/node (it loads ws through createRequire).
  shims: true,
  // Shared chunks in both formats, so flowscale/admin's FlowscaleAdminAPI extends the very FlowscaleAPI
  // class of the main entry (instanceof holds), in CJS too.
  splitting: true,
});
