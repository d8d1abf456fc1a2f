import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BIN = fileURLToPath(new URL('../../src/bin.ts', import.meta.url));
// Absolute, because the CLI runs with a temp dir as cwd where "tsx" would not resolve.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** Only to stop a hang; generous because the machine is shared. */
  timeoutMs?: number;
}

export const cliCommand = (args: string[]): string[] => [
  process.execPath,
  '--conditions=flowscale-source',
  '--import',
  TSX,
  BIN,
  ...args,
];

/** Starts the real `flowscale` binary (from source) as a child process. */
export function spawnCli(args: string[], opts: CliOptions): ChildProcess {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', ...opts.env };
  // Never let the developer's own settings leak into a test.
  for (const k of ['FLOWSCALE_API_KEY', 'FLOWSCALE_API_URL', 'FLOWSCALE_PROFILE', 'FORCE_COLOR'])
    if (!(k in (opts.env ?? {}))) delete env[k];
  // Nor their saved profiles: unless a test names a config folder, it gets an empty one of its own.
  if (!('XDG_CONFIG_HOME' in (opts.env ?? {}))) env.XDG_CONFIG_HOME = `${opts.cwd}/.no-config`;
  const [node, ...rest] = cliCommand(args);
  return spawn(node!, rest, {
    cwd: opts.cwd,
    env: env as NodeJS.ProcessEnv,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export function collect(child: ChildProcess, timeoutMs = 60_000): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI timed out after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export function runCli(args: string[], opts: CliOptions): Promise<CliResult> {
  const child = spawnCli(args, opts);
  child.stdin!.end();
  return collect(child, opts.timeoutMs);
}

/** Resolves once `text` has appeared on the child's stderr. */
export function waitForStderr(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`never saw ${pattern} on stderr; got: ${seen}`)),
      timeoutMs,
    );
    const onData = (d: Buffer | string) => {
      seen += d.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        resolve(seen);
      }
    };
    child.stderr!.on('data', onData);
  });
}
