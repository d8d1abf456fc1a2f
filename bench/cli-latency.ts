// Wall time of `flowscale` commands as a user sees them: process start to exit, against a real server
// (embedded engine) on loopback. Three commands isolate the costs:
//   --version        process start-up and module loading only
//   health --json    plus one API call through the SDK
//   run text-echo    the whole run path: workflow lookup, submit, SSE progress, output download
// Each for the built CLI (packages/cli/dist, needs `npm run build`) and for the source through tsx.
// Run: node --conditions=flowscale-source --import tsx bench/cli-latency.ts
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startServer } from '@flowscale/server';
import { fmt, median, percentile, tempDir } from './server-support';

const ROUNDS = 10;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'packages/cli/dist/bin.js');
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const dataDir = tempDir('cli-data');
const work = tempDir('cli-work');
const server = await startServer({ port: 0, dataDir, apiKeys: ['bench-key'], logLevel: 'error' });
const env = { ...process.env, FLOWSCALE_API_URL: server.url, FLOWSCALE_API_KEY: 'bench-key', NO_COLOR: '1' };

const variants: Record<string, string[]> = {
  source: ['--conditions=flowscale-source', '--import', tsx, path.join(root, 'packages/cli/src/bin.ts')],
};
if (fs.existsSync(dist)) variants.built = [dist];
else console.log('packages/cli/dist is missing: run `npm run build` to measure the built CLI too.\n');

const commands: Record<string, string[]> = {
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
for (const [label, args] of Object.entries(commands)) {
  const cells: string[] = [];
  for (const prefix of Object.values(variants)) {
    await timeAsync([...prefix, ...args]); // warm the OS file cache
    const samples: number[] = [];
    for (let i = 0; i < ROUNDS; i++) samples.push(await timeAsync([...prefix, ...args]));
    cells.push(`${fmt(median(samples), 0)} / ${fmt(percentile(samples, 95), 0)}`.padStart(18));
  }
  console.log(`${label.padEnd(16)}${cells.join('')}`);
}

await server.close();
fs.rmSync(dataDir, { recursive: true, force: true });
fs.rmSync(work, { recursive: true, force: true });
