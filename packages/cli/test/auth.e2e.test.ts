import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, runCli, spawnCli } from './helpers/cli';
import { E2E_TIMEOUT, startTestServer, TEST_KEY, type TestServer } from './helpers/server';

let server: TestServer;
let home: string;
beforeAll(async () => {
  server = await startTestServer();
  home = mkdtempSync(join(tmpdir(), 'dxclient-home-'));
}, E2E_TIMEOUT);
afterAll(async () => {
  await server?.close();
  rmSync(home, { recursive: true, force: true });
}, E2E_TIMEOUT);

// No FLOWSCALE_API_* in the environment: only what login saves. HOME decides the config folder.
const env = () => ({ HOME: home, XDG_CONFIG_HOME: undefined });
const configFile = () => join(home, '.config', 'flowscale', 'config.json');
const cli = (args: string[], extra: Record<string, string | undefined> = {}) =>
  runCli(args, { cwd: server.work, env: { ...env(), ...extra } });

/** Runs `flowscale <args>` answering its questions with `answers`, one line each, from a pipe. */
async function answering(args: string[], answers: string[], extra: Record<string, string | undefined> = {}) {
  const child = spawnCli(args, { cwd: server.work, env: { ...env(), ...extra } });
  child.stdin!.end(answers.map((a) => `${a}\n`).join(''));
  return collect(child);
}

describe('flowscale login, whoami, config, logout', { timeout: E2E_TIMEOUT }, () => {
  it('login asks for the URL and key, checks them, and saves the profile with mode 0600', async () => {
    const bad = await answering(['login'], [server.url, 'not-the-key']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('rejected this API key (HTTP 401); nothing was saved');
    expect(() => statSync(configFile())).toThrow();

    const ok = await answering(['login'], [server.url, TEST_KEY]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('FlowScale server URL');
    expect(ok.stdout).toContain(`logged in to ${server.url} as profile "default"`);
    expect(ok.stdout).not.toContain(TEST_KEY);
    expect(statSync(configFile()).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(configFile(), 'utf8'))).toEqual({
      profiles: { default: { apiUrl: server.url, apiKey: TEST_KEY } },
    });
  });

  it('commands then use the profile; whoami says where the URL and key came from', async () => {
    const who = await cli(['whoami', '--json']);
    expect(who.code, who.stderr).toBe(0);
    const me = JSON.parse(who.stdout);
    expect(me).toMatchObject({ api_url: server.url, role: 'admin', profile: 'default' });
    expect(me.key_from).toBe(`the "default" profile in ${configFile()}`);
    expect(me.key).not.toBe(TEST_KEY);
    const list = await cli(['workflows', '--json']);
    expect(list.code, list.stderr).toBe(0);
  });

  it('precedence is flag > environment > profile > .env, and an auth error names the source', async () => {
    writeFileSync(join(server.work, '.env'), 'FLOWSCALE_API_KEY=from-dotenv\n');
    try {
      // The profile beats .env.
      expect((await cli(['whoami'])).code).toBe(0);
      const fromEnv = await cli(['whoami'], { FLOWSCALE_API_KEY: 'from-env' });
      expect(fromEnv.code).toBe(3);
      expect(fromEnv.stderr).toContain(
        'rejected the API key from the FLOWSCALE_API_KEY environment variable',
      );
      const fromFlag = await cli(['whoami', '--api-key', TEST_KEY], { FLOWSCALE_API_KEY: 'from-env' });
      expect(fromFlag.code, fromFlag.stderr).toBe(0);
      const badFlag = await cli(['whoami', '--api-key', 'from-flag']);
      expect(badFlag.stderr).toContain('from the --api-key flag');
      // A profile that holds a stale key says so, and how to fix it.
      await cli(['config', 'set', 'api-key', 'stale-key', '--profile', 'old']);
      await cli(['config', 'set', 'api-url', server.url, '--profile', 'old']);
      const stale = await cli(['whoami', '--profile', 'old']);
      expect(stale.code).toBe(3);
      expect(stale.stderr).toContain(`from the "old" profile in ${configFile()}`);
      expect(stale.stderr).toContain('flowscale login --profile old');
      // Without a profile, .env is used and named.
      const dotenv = await cli(['whoami', '--profile', 'none'], { FLOWSCALE_API_URL: server.url });
      expect(dotenv.stderr).toContain('from FLOWSCALE_API_KEY in ./.env');
    } finally {
      rmSync(join(server.work, '.env'));
    }
  });

  it('config list|get|set read and change profiles; keys stay masked', async () => {
    const list = await cli(['config', 'list', '--json']);
    const { profiles } = JSON.parse(list.stdout);
    expect(profiles.map((p: { profile: string }) => p.profile).sort()).toEqual(['default', 'old']);
    expect(JSON.stringify(profiles)).not.toContain(TEST_KEY);
    expect((await cli(['config', 'get', 'api-url'])).stdout.trim()).toBe(server.url);
    expect((await cli(['config', 'get', 'api-key', '--show-key'])).stdout.trim()).toBe(TEST_KEY);
    const wrong = await cli(['config', 'set', 'api-url', 'notaurl']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('"notaurl" is not an http(s) URL');
    expect((await cli(['config', 'get', 'colour'])).stderr).toContain('unknown setting "colour"');
  });

  it('logout removes the profile; then there is no key and the error says how to get one', async () => {
    const out = await cli(['logout']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('removed profile "default"');
    const after = await cli(['workflows']);
    expect(after.code).toBe(3);
    expect(after.stderr).toContain('flowscale login');
  });
});
