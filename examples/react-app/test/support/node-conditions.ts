import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Workaround, test-only: the root vitest config hands its resolve conditions (including "import")
 * to Node as --conditions, so CommonJS `require()` in dependencies picks the ESM entry of dual
 * packages and gets a namespace object instead of a function (express's router needs
 * is-promise, @fastify/websocket in the server needs ws).
 * Preloading the CommonJS build under the resolved name restores normal behaviour. Remove once the
 * root config stops passing "import" to Node.
 */
const require = createRequire(import.meta.url);
for (const [name, cjsEntry] of [
  ['is-promise', 'index.js'],
  ['ws', 'index.js'],
] as const) {
  const resolved = require.resolve(name);
  const cjsPath = join(dirname(resolved), cjsEntry);
  if (resolved !== cjsPath) {
    require(cjsPath);
    require.cache[resolved] = require.cache[cjsPath];
  }
}
