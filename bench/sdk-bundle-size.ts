// Minified + gzipped size of the SDK's core entry as a browser bundle (esbuild, like peers.md measured).
// Run: node --conditions=flowscale-source --import tsx bench/sdk-bundle-size.ts
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const GOAL_BYTES = 6 * 1024;
// Smallest peer in ../shared/reference/peers.md (replicate 1.4.0, measured the same way).
const SMALLEST_PEER_BYTES = 7.2 * 1024;

async function bundle(entry: string) {
  const result = await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    minify: true,
    platform: 'browser', // a node: import would fail the build here
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  return { min: code.byteLength, gzip: gzipSync(code, { level: 9 }).byteLength };
}

const core = await bundle('packages/sdk/src/index.ts');
const kb = (n: number) => `${(n / 1024).toFixed(2)} KiB`;
console.log('flowscale core entry (esbuild --bundle --minify --platform=browser --format=esm, gzip -9)');
console.log(`  minified: ${core.min} B (${kb(core.min)})`);
console.log(`  gzipped:  ${core.gzip} B (${kb(core.gzip)})`);
console.log(`  goal:     <= ${GOAL_BYTES} B  -> ${core.gzip <= GOAL_BYTES ? 'MET' : 'NOT MET'}`);
console.log(`  ratio vs smallest peer (7.2 KiB): ${(core.gzip / SMALLEST_PEER_BYTES).toFixed(3)}`);
