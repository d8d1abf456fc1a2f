import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../src/io';
import { runCli, VERSION } from '../src/program';

/** The program in-process with string sinks: only paths that never reach the network. */
function harness(env: Record<string, string> = {}) {
  const out = { stdout: '', stderr: '' };
  const io: CliIO = {
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s) },
    env,
    cwd: '/nonexistent',
  };
  return { io, out };
}

describe('createProgram / runCli in-process', () => {
  it('reports the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(VERSION).toBe(pkg.version);
  });

  it('prints the version and help without exiting the process', async () => {
    const v = harness();
    expect(await runCli(['--version'], v.io)).toBe(0);
    expect(v.out.stdout.trim()).toBe(VERSION);

    const h = harness();
    expect(await runCli(['keys', '--help'], h.io)).toBe(0);
    expect(h.out.stdout).toMatch(/create \[options\] <name>/);
    expect(h.out.stdout).toContain('--api-key'); // global options are shown on subcommands
    const r = harness();
    expect(await runCli(['run', '--help'], r.io)).toBe(0);
    expect(r.out.stdout).toContain('--no-wait');
  });

  it('turns commander usage errors into one line and exit 2', async () => {
    for (const args of [['run'], ['health', '--nope'], ['runs', '--page', '0'], ['output']]) {
      const u = harness();
      expect(await runCli(args, u.io), args.join(' ')).toBe(2);
      expect(u.out.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
    }
    const h = harness();
    expect(await runCli(['wokflows'], h.io)).toBe(2);
    expect(h.out.stderr).toBe("error: unknown command 'wokflows' (Did you mean workflows?) (see --help)\n");
  });

  it('validates option values before any request', async () => {
    const h = harness();
    expect(await runCli(['run', 'x', '--timeout', '-1'], h.io)).toBe(2);
    expect(h.out.stderr).toContain('expected a positive number of seconds');
    const j = harness();
    expect(await runCli(['keys', 'create', 'bot', '--role', 'root', '--json'], j.io)).toBe(2);
    expect(JSON.parse(j.out.stderr)).toMatchObject({ exit_code: 2 });
  });

  it('refuses a server URL without http(s), naming where it came from', async () => {
    const h = harness({ FLOWSCALE_API_KEY: 'k', FLOWSCALE_API_URL: 'localhost:8787' });
    expect(await runCli(['health'], h.io)).toBe(2);
    expect(h.out.stderr).toBe(
      'error: "localhost:8787" from the FLOWSCALE_API_URL environment variable is not an http(s) URL; use e.g. http://127.0.0.1:8787\n',
    );
  });

  it('asks for a key before calling the server', async () => {
    const h = harness();
    expect(await runCli(['queue'], h.io)).toBe(3);
    expect(h.out.stderr).toBe(
      'error: no API key: run "flowscale login", or set FLOWSCALE_API_KEY, or pass --api-key, or put FLOWSCALE_API_KEY in ./.env\n',
    );
  });
});
