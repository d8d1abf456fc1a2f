import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';

export interface BundleSize {
  /** gzip -9 bytes of what a page loads eagerly: the entry chunk and every chunk it imports statically. */
  eager: number;
  /** Each lazy chunk (reached only through `import()`), gzip -9 bytes by output name. */
  lazy: Record<string, number>;
}

/**
 * The SDK's core entry as a browser app's bundler splits it (esbuild --bundle --minify --splitting
 * --platform=browser --format=esm): lazy chunks are loaded only by the calls that need them, so the
 * budget is the eager part. Each file is gzipped on its own (as a server would send it).
 */
export async function measureCoreBundle(): Promise<BundleSize> {
  const result = await build({
    entryPoints: [join(import.meta.dirname, '../../src/index.ts')],
    bundle: true,
    minify: true,
    splitting: true,
    platform: 'browser',
    format: 'esm',
    outdir: '/virtual',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  // Every output lands in one folder, so a file's base name identifies it.
  const sizes = new Map(
    result.outputFiles.map((f) => [basename(f.path), gzipSync(f.contents, { level: 9 }).byteLength]),
  );
  const outputs: Metafile['outputs'] = result.metafile.outputs;
  const byName = new Map(Object.entries(outputs).map(([path, out]) => [basename(path), out]));
  const entry = [...byName].find(([, out]) => out.entryPoint)![0];
  const eager = new Set<string>();
  const visit = (name: string) => {
    if (eager.has(name)) return;
    eager.add(name);
    for (const dep of byName.get(name)!.imports)
      if (dep.kind === 'import-statement' && !dep.external) visit(basename(dep.path));
  };
  visit(entry);
  let eagerBytes = 0;
  const lazy: Record<string, number> = {};
  for (const [name, bytes] of sizes) {
    if (!name.endsWith('.js')) continue;
    if (eager.has(name)) eagerBytes += bytes;
    else lazy[name] = bytes;
  }
  return { eager: eagerBytes, lazy };
}
