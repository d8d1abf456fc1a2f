import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/bin.ts'],
  // CommonJS beside ESM so require() works too (Express apps and other CJS code); bin stays ESM in use.
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // import.meta.url keeps working in the CJS build, should the code come to use it.
  shims: true,
});
