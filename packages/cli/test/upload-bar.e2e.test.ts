import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { largePng } from '../../sdk/test/support/png';
import { cliCommand, runCli } from './helpers/cli';
import { E2E_TIMEOUT, startTestServer, type TestServer } from './helpers/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  writeFileSync(join(server.work, 'big.png'), largePng(1400, 1000)); // ~4 MiB
}, E2E_TIMEOUT);
afterAll(async () => {
  await server?.close();
}, E2E_TIMEOUT);

const ARGS = ['run', 'invert-image', '-i', 'image_1=@big.png', '--out', 'out'];

/** The CLI on a pseudo-terminal (util-linux `script`); stdout and stderr come back as a terminal shows them. */
async function inTerminal(args: string[]): Promise<{ code: number | null; output: string }> {
  const quoted = cliCommand(args)
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(' ');
  const child = spawn('script', ['-qec', quoted, '/dev/null'], {
    cwd: server.work,
    env: { ...process.env, ...server.env, NO_COLOR: '1', XDG_CONFIG_HOME: join(server.work, '.no-config') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, output };
}

describe('flowscale run with a file input', { timeout: E2E_TIMEOUT }, () => {
  it('shows an upload bar on a terminal that reaches 100% and is cleared', async () => {
    const { code, output } = await inTerminal(ARGS);
    expect(code, output).toBe(0);
    const frames = output.split('\r\x1b[K').filter((f) => f.startsWith('uploading'));
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.at(-1)).toMatch(/^uploading █+ 100% 4\.\d MiB \/ 4\.\d MiB$/);
  });

  it('prints no bar when stderr is not a terminal', async () => {
    const r = await runCli(ARGS, { cwd: server.work, env: server.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('uploading');
  });
});
