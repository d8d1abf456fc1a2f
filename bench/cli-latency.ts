// Wall time of `flowscale` commands as a user sees them: process start to exit, against a real server
// (embedded engine) on loopback. The commands isolate the costs:
//   node -e 0        the baseline: Node itself starting and exiting, measured in the same run
//   --help           start-up and the modules help needs (the SDK and the command code load lazily)
//   --version        process start-up and module loading only
//   health --json    plus one API call through the SDK
//   run text-echo    the whole run path: workflow lookup, submit, SSE progress, output download
// Each for the built CLI (packages/cli/dist, needs `npm run build`), for the source bundled by esbuild as
// tsup would with code splitting ("bundled", built here, no build step needed) and for the source through
// tsx. The goal is --help under 300 ms; on a loaded machine `node -e 0` alone can take that, so the ratio
// to the baseline is printed as well. CLI_BENCH_ROUNDS sets the runs per cell (default 10).
// Run: node --conditions=flowscale-source --import tsx bench/cli-latency.ts
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startServer } from '@flowscale/server';
import { build } from 'esbuild';
import { fmt, median, percentile, tempDir } from './server-support';

const ROUNDS = Number(process.env.CLI_BENCH_ROUNDS ?? 10);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'packages/cli/dist/bin.js');
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const dataDir = tempDir('cli-data');
const work = tempDir('cli-work');
const server = await startServer({ port: 0, dataDir, apiKeys: ['bench-key'], logLevel: 'error' });
const env = { ...process.env, FLOWSCALE_API_URL: server.url, FLOWSCALE_API_KEY: 'bench-key', NO_COLOR: '1' };

// The CLI bundled with its dependencies, split so dynamic imports stay lazy; ws and the server (only
// `serve` loads it) resolve from the repository's node_modules through a link.
const bundleDir = tempDir('cli-bundle');
fs.symlinkSync(path.join(root, 'node_modules'), path.join(bundleDir, 'node_modules'));
await build({
  entryPoints: [path.join(root, 'packages/cli/src/bin.ts')],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: bundleDir,
  conditions: ['flowscale-source'],
  external: ['ws', '@flowscale/server'],
  // commander is CommonJS and requires node: built-ins, which an ESM bundle does through createRequire.
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: 'warning',
});

const variants: Record<string, string[]> = {
  bundled: [path.join(bundleDir, 'bin.js')],
  source: ['--conditions=flowscale-source', '--import', tsx, path.join(root, 'packages/cli/src/bin.ts')],
};
if (fs.existsSync(dist)) variants.built = [dist];
else console.log('packages/cli/dist is missing: run `npm run build` to measure the built CLI too.\n');

const commands: Record<string, string[]> = {
  '--help': ['--help'],
  '--version': ['--version'],
  'health --json': ['health', '--json'],
  'run text-echo': ['run', 'text-echo', '-i', 'default_value_1=bench', '--out', 'out', '--json'],
};

/** Spawned asynchronously: the server lives in this process and must keep answering meanwhile. */
async function timeAsync(argv: string[]): Promise<number> {
  const start = process.hrtime.bigint();
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, argv, { cwd: work, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('close', (c) => {
      if (c !== 0) console.error(err);
      resolve(c);
    });
  });
  if (code !== 0) throw new Error(`${argv.join(' ')} exited ${code}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

console.log(`flowscale CLI wall time, ${ROUNDS} runs each (ms; median / p95), server ${server.url}\n`);
console.log(
  `${'command'.padEnd(16)}${Object.keys(variants)
    .map((v) => v.padStart(18))
    .join('')}`,
);
// The baseline, in the same run: Node starting and exiting with nothing to load.
await timeAsync(['-e', '0']);
const baseline: number[] = [];
for (let i = 0; i < ROUNDS; i++) baseline.push(await timeAsync(['-e', '0']));
const base = median(baseline);
console.log(
  `${'node -e 0'.padEnd(16)}${`${fmt(base, 0)} / ${fmt(percentile(baseline, 95), 0)}`.padStart(18)}`,
);
const helpMedians: Record<string, number> = {};
for (const [label, args] of Object.entries(commands)) {
  const cells: string[] = [];
  for (const prefix of Object.values(variants)) {
    await timeAsync([...prefix, ...args]); // warm the OS file cache
    const samples: number[] = [];
    for (let i = 0; i < ROUNDS; i++) samples.push(await timeAsync([...prefix, ...args]));
    cells.push(`${fmt(median(samples), 0)} / ${fmt(percentile(samples, 95), 0)}`.padStart(18));
    if (label === '--help') helpMedians[cells.length - 1] = median(samples);
  }
  console.log(`${label.padEnd(16)}${cells.join('')}`);
}

console.log('\n--help, median, against the node -e 0 baseline of this run:');
Object.keys(variants).forEach((name, i) => {
  const ms = helpMedians[i]!;
  console.log(
    `  ${name.padEnd(8)} ${fmt(ms, 0)} ms = ${(ms / base).toFixed(2)}x baseline, ${fmt(ms - base, 0)} ms over it; goal < 300 ms: ${ms < 300 ? 'MET' : 'NOT MET'}`,
  );
});

await server.close();
fs.rmSync(bundleDir, { recursive: true, force: true });
fs.rmSync(dataDir, { recursive: true, force: true });
fs.rmSync(work, { recursive: true, force: true });
