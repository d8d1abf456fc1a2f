// Minified + gzipped size of the SDK's core entry as a browser bundle (esbuild, like peers.md measured;
// the budget applies to the eager part of the split bundle, what a page loads before any lazy chunk),
// with the minified bytes each module contributes, what `flowscale/admin` adds on top, and the size of
// `flowscale/webhooks` alone. The smallest peer in peers.md (replicate 1.4.0, a root dev dependency for
// this) is bundled the same way in the same run.
// Run: node --conditions=flowscale-source --import tsx bench/sdk-bundle-size.ts
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { measureCoreBundle } from '../packages/sdk/test/support/bundle';

const root = join(import.meta.dirname, '..');
const GOAL_BYTES = 6 * 1024;

async function bundle(source: string, external: string[] = []) {
  const result = await build({
    external,
    stdin: { contents: source, resolveDir: root, loader: 'ts' },
    bundle: true,
    minify: true,
    platform: 'browser', // a node: import would fail the build here
    format: 'esm',
    conditions: ['flowscale-source'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  const inputs = Object.values(result.metafile.outputs)[0]!.inputs;
  return { min: code.byteLength, gzip: gzipSync(code, { level: 9 }).byteLength, inputs };
}

const core = await bundle("export * from './packages/sdk/src/index.ts';");
const withAdmin = await bundle(
  "export * from './packages/sdk/src/index.ts'; export * from './packages/sdk/src/admin/index.ts';",
);
const webhooks = await bundle("export * from './packages/sdk/src/webhooks/index.ts';");
const peer = await bundle("export { default } from 'replicate';");
// The app that traces already has @opentelemetry/api (a peer dependency): what flowscale/otel adds to it.
const otel = await bundle("export * from './packages/sdk/src/otel/index.ts';", ['@opentelemetry/api']);
const kb = (n: number) => `${(n / 1024).toFixed(2)} KiB`;
console.log('flowscale core entry (esbuild --bundle --minify --platform=browser --format=esm, gzip -9)');
console.log(`  minified: ${core.min} B (${kb(core.min)})`);
console.log(`  gzipped:  ${core.gzip} B (${kb(core.gzip)})`);
console.log(`  goal:     <= 6 KiB (${GOAL_BYTES} B) -> ${core.gzip <= GOAL_BYTES ? 'MET' : 'NOT MET'}`);
console.log(`            <= 6000 B (decimal KB)  -> ${core.gzip <= 6000 ? 'MET' : 'NOT MET'}`);
console.log(
  `  smallest peer, replicate 1.4.0, bundled the same way: ${peer.gzip} B gzipped (peers.md: 7.2 KB); ratio ${(core.gzip / peer.gzip).toFixed(3)}`,
);
console.log('  minified bytes per module:');
const modules = Object.entries(core.inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput);
for (const [file, { bytesInOutput }] of modules) {
  if (bytesInOutput > 0)
    console.log(`    ${String(bytesInOutput).padStart(5)}  ${relative('packages/sdk/src', file)}`);
}
const split = await measureCoreBundle();
console.log('split as an app bundler does (--splitting): what a page loads eagerly, and the lazy chunks');
console.log(
  `  eager:    ${split.eager} B (${kb(split.eager)}) -> ${split.eager <= GOAL_BYTES ? 'MET' : 'NOT MET'}`,
);
for (const [name, bytes] of Object.entries(split.lazy))
  console.log(`  lazy:     ${String(bytes).padStart(5)} B  ${name}`);
console.log(`with flowscale/admin as well: ${withAdmin.gzip} B gzipped (+${withAdmin.gzip - core.gzip} B)`);
console.log(
  `flowscale/webhooks on its own (verifyWebhook): ${webhooks.gzip} B gzipped; the core entry carries none of it`,
);
console.log(
  `flowscale/otel on its own (traceHeaders), @opentelemetry/api external: ${otel.gzip} B gzipped; the core entry carries none of it`,
);
