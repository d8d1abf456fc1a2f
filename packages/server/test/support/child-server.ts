import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { TEST_KEY, testDatabase } from './harness';
import { createTestDatabase, type TestDatabase } from './postgres';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const children = new Set<ChildProcess>();

export interface ChildServer {
  child: ChildProcess;
  url: string;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
}

/** On Postgres, one database per data dir, so a server started again on the same dir finds its runs. */
const databases = new Map<string, Promise<TestDatabase>>();

// Registered when a test file imports this module: its child servers' databases go when the file ends.
afterAll(async () => {
  const all = [...databases.values()];
  databases.clear();
  for (const database of all) await (await database).drop();
});

async function childEnv(dataDir: string): Promise<NodeJS.ProcessEnv> {
  if (testDatabase() !== 'postgres') return process.env;
  let database = databases.get(dataDir);
  if (!database) {
    database = createTestDatabase('child');
    databases.set(dataDir, database);
  }
  return { ...process.env, FLOWSCALE_DATABASE_URL: (await database).url };
}

/** Starts `bin.ts` as its own process (what `npm start` runs) and waits for its listening line. */
export async function spawnServer(
  dataDir: string,
  comfyuiUrl?: string,
  extraArgs: string[] = ['--api-key', TEST_KEY, '--log-level', 'error'],
  env: NodeJS.ProcessEnv = {},
): Promise<ChildServer> {
  const args = ['--conditions=flowscale-source', '--import', 'tsx', 'packages/server/src/bin.ts'];
  args.push('--port', '0', '--data-dir', dataDir, ...extraArgs);
  if (comfyuiUrl) args.push('--comfyui-url', comfyuiUrl);
  return spawnListening(args, { ...(await childEnv(dataDir)), ...env }, 'server');
}

export async function killHard(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

export function filesStartingWith(dir: string, prefix: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => path.basename(file).startsWith(prefix));
}

/** Starts the engine's `bin.ts` as its own process, so a test can run several engines beside servers. */
export async function spawnEngine(dataDir: string): Promise<ChildServer> {
  const args = ['--conditions=flowscale-source', '--import', 'tsx', 'packages/engine/src/bin.ts'];
  args.push('--port', '0', '--data-dir', dataDir, '--log-level', 'error');
  return spawnListening(args, process.env, 'engine');
}

/** Runs `node <args>` from the repo root and resolves with the URL of its "listening on <url>" line. */
async function spawnListening(args: string[], env: NodeJS.ProcessEnv, what: string): Promise<ChildServer> {
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${output}`)), 60_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^\s)]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${what} exited with ${code}: ${output}`)));
  });
  return { child, url, output: () => output };
}
