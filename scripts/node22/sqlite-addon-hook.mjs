// Loaded with `--import` into every process of the Node 22 test pass (through NODE_OPTIONS, so spawned
// children get it too). better-sqlite3 is not N-API: the binary `npm install` compiled in its
// build/Release is for Node 20's ABI and cannot load on Node 22. This hands Node 22 the copy that
// scripts/test-node22.mjs compiled for it, and leaves every other module alone.
import module from 'node:module';
import { pathToFileURL } from 'node:url';

const addon = process.env.FLOWSCALE_NODE22_SQLITE_ADDON;
if (addon) {
  if (typeof module.registerHooks !== 'function') {
    throw new Error(
      `module.registerHooks is missing in Node ${process.version}; the Node 22 pass needs 22.15 or later`,
    );
  }
  const url = pathToFileURL(addon).href;
  module.registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      return resolved.url.endsWith('/better-sqlite3/build/Release/better_sqlite3.node')
        ? { ...resolved, url }
        : resolved;
    },
  });
}
