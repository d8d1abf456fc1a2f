import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // Hooks run only in client components; esbuild drops per-file directives when bundling.
  banner: { js: "'use client';" },
});
