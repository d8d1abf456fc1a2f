import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';

const backend = process.env.BACKEND_URL ?? 'http://localhost:3000';

export default defineConfig({
  plugins: [react()],
  // Bundle the workspace packages from their TypeScript sources (their "flowscale-source" export condition).
  resolve: { conditions: ['flowscale-source', ...defaultClientConditions] },
  // `npm run dev`: the page talks to the example backend, which holds the API key.
  server: { proxy: { '/api': backend, '/login': backend } },
});
