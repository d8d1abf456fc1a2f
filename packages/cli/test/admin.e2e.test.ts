import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliCommand, collect, runCli, spawnCli } from './helpers/cli';
import { E2E_TIMEOUT, startTestServer, type TestServer } from './helpers/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
}, E2E_TIMEOUT);
afterAll(async () => {
  await server?.close();
}, E2E_TIMEOUT);

const cli = (args: string[], env: Record<string, string | undefined> = {}) =>
  runCli(args, { cwd: server.work, env: { ...server.env, ...env } });

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), typing `answer` and Enter; stdout and stderr
 * come back mixed, as a terminal shows them.
 */
async function inTerminal(args: string[], answer: string) {
  const quoted = cliCommand(args)
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(' ');
  const child = spawn('script', ['-qec', quoted, '/dev/null'], {
    cwd: server.work,
    env: { ...process.env, ...server.env, NO_COLOR: '1', XDG_CONFIG_HOME: join(server.work, '.no-config') },
  });
  // Typed once the question is up, as a person would.
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
    if (output.includes('[y/N]') && child.stdin.writable) child.stdin.end(`${answer}\r`);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, output };
}

const ECHO_GRAPH = {
  '1': { class_type: 'FSLoadText', inputs: { default_value: 'hey', label: 'text' } },
  '3': { class_type: 'FSSaveText', inputs: { text: ['1', 0], filename_prefix: 'FlowScale' } },
};

describe('flowscale deploy', { timeout: E2E_TIMEOUT }, () => {
  it('deploys an API-format file under its file name, and re-deploying keeps the id', async () => {
    writeFileSync(join(server.work, 'my_echo_api.json'), JSON.stringify(ECHO_GRAPH));
    const first = await cli(['deploy', 'my_echo_api.json', '--description', 'an echo', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const deployed = JSON.parse(first.stdout);
    expect(deployed.name).toBe('my_echo');
    expect(deployed.input_schema.map((f: { name: string }) => f.name)).toEqual(['default_value_1']);

    const again = await cli(['deploy', 'my_echo_api.json']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`deployed my_echo  ${deployed.id}`);

    // And the deployed workflow really runs.
    const run = await cli(['run', 'my_echo', '-i', 'default_value_1=deployed', '--out', 'dep', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(JSON.parse(run.stdout).outputs[0].path, 'utf8')).toBe('deployed');
  });

  it('--name overrides the file name', async () => {
    const r = await cli(['deploy', 'my_echo_api.json', '--name', 'renamed-echo', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).name).toBe('renamed-echo');
  });

  it('--manifest adds an alias and a description that run and show understand', async () => {
    writeFileSync(
      join(server.work, 'echo.manifest.json'),
      JSON.stringify({ inputs: { default_value_1: { alias: 'greeting', description: 'what to say' } } }),
    );
    const r = await cli([
      'deploy',
      'my_echo_api.json',
      '--name',
      'greeter',
      '--manifest',
      'echo.manifest.json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const show = await cli(['workflows', 'show', 'greeter']);
    expect(show.stdout).toMatch(/default_value_1\s+string\s+no\s+"hey"\s+greeting\s+what to say/);
    const run = await cli(['run', 'greeter', '-i', 'greeting=via alias', '--out', 'alias', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(JSON.parse(run.stdout).outputs[0].path, 'utf8')).toBe('via alias');

    // A limit the server checks names the alias the user typed, once.
    writeFileSync(
      join(server.work, 'short.manifest.json'),
      JSON.stringify({ inputs: { default_value_1: { alias: 'greeting', max: 5 } } }),
    );
    await cli(['deploy', 'my_echo_api.json', '--name', 'short', '--manifest', 'short.manifest.json']);
    const long = await cli(['run', 'short', '-i', 'greeting=far too long']);
    expect(long.code).toBe(2);
    expect(long.stderr.match(/greeting: must be at most 5 characters/g)).toHaveLength(1);
    expect(long.stderr).not.toContain('default_value_1');

    // The server's own validation of a manifest comes back as one line, exit 2.
    writeFileSync(join(server.work, 'bad.manifest.json'), JSON.stringify({ inputs: { nope_9: {} } }));
    const bad = await cli(['deploy', 'my_echo_api.json', '--manifest', 'bad.manifest.json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('nope_9');
  });

  it('workflows delete removes a deployed workflow by name', async () => {
    const d = await cli(['deploy', 'my_echo_api.json', '--name', 'short-lived', '--json']);
    const { id } = JSON.parse(d.stdout);
    // No terminal to ask on: refused unless --yes, and nothing is deleted.
    const refused = await cli(['workflows', 'delete', 'short-lived']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('refusing without a terminal to confirm on; pass --yes');
    expect((await cli(['workflows', 'show', 'short-lived'])).code).toBe(0);
    // On a terminal, the question is asked; anything but yes leaves the workflow.
    const no = await inTerminal(['workflows', 'delete', 'short-lived'], 'n');
    expect(no.output).toContain(`delete workflow short-lived (${id})? [y/N]`);
    expect(no.output).toContain('aborted; nothing was changed');
    expect((await cli(['workflows', 'show', 'short-lived'])).code).toBe(0);
    const del = await cli(['workflows', 'delete', 'short-lived', '--yes']);
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout.trim()).toBe(`deleted workflow short-lived (${id})`);
    const gone = await cli(['workflows', 'show', 'short-lived']);
    expect(gone.code).toBe(4);
    expect((await cli(['workflows', 'delete', 'short-lived', '--yes'])).code).toBe(4);
  });

  it('refuses a missing or invalid file with exit 2', async () => {
    const missing = await cli(['deploy', 'nope.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('error: workflow: no such file: nope.json');
    writeFileSync(join(server.work, 'bad.json'), '{ not json');
    const bad = await cli(['deploy', 'bad.json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('bad.json is not valid JSON');
  });
});

describe('flowscale keys', { timeout: E2E_TIMEOUT }, () => {
  it('creates a key shown once, lists without it, and revoking locks it out', async () => {
    const created = await cli(['keys', 'create', 'ci-bot', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { id, key, role } = JSON.parse(created.stdout);
    expect(role).toBe('member');
    expect(key.length).toBeGreaterThan(16);

    const human = await cli(['keys', 'create', 'human-bot']);
    expect(human.code).toBe(0);
    expect(human.stdout.trim()).toMatch(/^\S{16,}$/); // just the key on stdout, so it can be piped
    expect(human.stderr).toContain('shown once');

    const list = await cli(['keys', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(list.stdout).not.toContain(key);
    expect(JSON.parse(list.stdout).find((k: { id: string }) => k.id === id)).toMatchObject({
      name: 'ci-bot',
      revoked_at: null,
    });
    const table = await cli(['keys', 'list']);
    expect(table.stdout).toMatch(/ci-bot\s+member\s+default/);
    expect(table.stdout).not.toContain(key);

    // The new key works for ordinary calls, but a user key may not administer.
    expect((await cli(['workflows'], { FLOWSCALE_API_KEY: key })).code).toBe(0);
    const forbidden = await cli(['keys', 'list'], { FLOWSCALE_API_KEY: key });
    expect(forbidden.code).toBe(3);
    expect(forbidden.stderr).not.toContain(key);

    expect((await cli(['keys', 'revoke', id])).stderr).toContain('pass --yes');
    expect((await cli(['workflows'], { FLOWSCALE_API_KEY: key })).code).toBe(0);
    const asked = await inTerminal(['keys', 'revoke', id], 'y');
    expect(asked.output).toContain(`revoke API key ${id}; programs using it will stop working? [y/N]`);
    const revoked = { code: asked.code, stderr: asked.output, stdout: asked.output };
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`revoked key ${id}`);
    const locked = await cli(['workflows'], { FLOWSCALE_API_KEY: key });
    expect(locked.code).toBe(3);
    expect(locked.stderr).toContain('rejected the API key');
  });
});

describe('flowscale serve', { timeout: E2E_TIMEOUT }, () => {
  it('starts a server that the other commands can use, and stops on Ctrl-C', async () => {
    const child = spawnCli(['serve', '--port', '0', '--data-dir', join(server.work, 'serve-data')], {
      cwd: server.work,
      env: {},
    });
    child.stdin!.end();
    const done = collect(child, 90_000);
    let stdout = '';
    // The listening line and the generated key's banner may come on either stream (banners go to stderr).
    const listening = new Promise<string>((resolve) => {
      const onData = (d: string) => {
        stdout += d;
        const m = /listening on (\S+)/.exec(stdout);
        const k = /Save it now:\s+(\S+)/.exec(stdout);
        if (m && k) resolve(`${m[1]} ${k[1]}`);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
    });
    // If serve dies instead, fail now with its output rather than waiting for the test's time limit.
    const exitedEarly = done.then((r) => {
      throw new Error(`serve exited (${r.code}) before it was ready:\n${r.stdout}\n${r.stderr}`);
    });
    const [url, key] = (await Promise.race([listening, exitedEarly])).split(' ') as [string, string];
    const health = await runCli(['health', '--json'], {
      cwd: server.work,
      env: { FLOWSCALE_API_URL: url, FLOWSCALE_API_KEY: key },
    });
    expect(health.code, health.stderr).toBe(0);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
  });
});
