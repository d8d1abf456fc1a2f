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
  // mime is ESM-only. The CJS build would require() it, and esbuild's interop for a "type": "module"
  // package takes the whole namespace as the default import, so mime.getType would be undefined.
  // Bundled (it is small), it needs no interop in either format.
  noExternal: ['mime'],
  esbuildOptions(options, { format }) {
    // In the CJS build, import() of a dependency becomes require(): left as import() it would load the
    // dependency's ES module beside the CommonJS copy that require() loads, two copies of one package.
    if (format === 'cjs') options.supported = { ...options.supported, 'dynamic-import': false };
  },
});
