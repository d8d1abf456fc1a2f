import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';

const backend = process.env.BACKEND_URL ?? 'http://127.0.0.1:8787';

export default defineConfig({
  plugins: [react()],
  // Relative asset URLs: the page works wherever the server mounts it, behind any path prefix.
  base: './',
  // Bundle the workspace packages from their TypeScript sources (their "flowscale-source" export condition).
  resolve: { conditions: ['flowscale-source', ...defaultClientConditions] },
  build: {
    // The server serves this folder at /dashboard/ (and ships it in its package).
    outDir: fileURLToPath(new URL('../server/dashboard', import.meta.url)),
    emptyOutDir: true,
    // No inline polyfill script: the Content-Security-Policy allows only same-origin script files.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    chunkSizeWarningLimit: 400,
  },
  // `npm run dev -w @flowscale/dashboard`: the page at /dashboard/, the API from a running server.
  server: { proxy: { '/api': { target: backend, ws: true } } },
});
