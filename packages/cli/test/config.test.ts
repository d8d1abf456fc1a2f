import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_API_URL, parseDotEnv, resolveConfig } from '../src/config';

const dir = mkdtempSync(join(tmpdir(), 'fs-cli-config-'));
const empty = mkdtempSync(join(tmpdir(), 'fs-cli-config-empty-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(empty, { recursive: true, force: true });
});

describe('parseDotEnv', () => {
  it('reads plain, exported, quoted and commented lines', () => {
    const env = parseDotEnv(
      [
        '# comment',
        'A=1',
        'export B = two ',
        'C="quoted # not a comment"',
        "D='single'",
        'E=value # trailing comment',
        'F="line\\nbreak"',
        'not a pair',
      ].join('\n'),
    );
    expect(env).toEqual({
      A: '1',
      B: 'two',
      C: 'quoted # not a comment',
      D: 'single',
      E: 'value',
      F: 'line\nbreak',
    });
  });
});

describe('resolveConfig', () => {
  writeFileSync(join(dir, '.env'), 'FLOWSCALE_API_KEY=from-dotenv\nFLOWSCALE_API_URL=http://dotenv:1/\n');

  it('falls back to defaults with nothing set', () => {
    const c = resolveConfig({}, {}, empty);
    expect(c.apiUrl).toBe(DEFAULT_API_URL);
    expect(c.apiKey).toBeUndefined();
    expect(c.sources.apiUrl).toBe('default');
  });

  it('uses .env when the environment is silent, and strips a trailing slash', () => {
    const c = resolveConfig({}, {}, dir);
    expect(c).toMatchObject({
      apiUrl: 'http://dotenv:1',
      apiKey: 'from-dotenv',
      sources: { apiUrl: '.env', apiKey: '.env' },
    });
  });

  it('prefers the environment over .env, and flags over both', () => {
    const env = { FLOWSCALE_API_KEY: 'from-env', FLOWSCALE_API_URL: 'http://env:2' };
    const fromEnv = resolveConfig({}, env, dir);
    expect([fromEnv.apiKey, fromEnv.apiUrl, fromEnv.sources.apiKey]).toEqual([
      'from-env',
      'http://env:2',
      'env',
    ]);
    const fromFlag = resolveConfig({ apiKey: 'from-flag', apiUrl: 'http://flag:3' }, env, dir);
    expect([fromFlag.apiKey, fromFlag.apiUrl, fromFlag.sources.apiKey]).toEqual([
      'from-flag',
      'http://flag:3',
      'flag',
    ]);
  });

  it('treats an empty variable as unset', () => {
    expect(resolveConfig({}, { FLOWSCALE_API_KEY: '  ' }, dir).apiKey).toBe('from-dotenv');
  });
});
