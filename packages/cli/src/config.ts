import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configPath, type Profile, profileName, readConfigFile } from './profiles';

export const DEFAULT_API_URL = 'http://127.0.0.1:8787';

export type ConfigSource = 'flag' | 'env' | 'profile' | '.env' | 'default';

export interface ResolvedConfig {
  apiUrl: string;
  apiKey?: string;
  /** Where each value came from, so error messages can say what to change. */
  sources: { apiUrl: ConfigSource; apiKey?: ConfigSource };
  /** The profile in use and the file it lives in (undefined when there is no home folder). */
  profile?: { name: string; path: string | undefined };
}

export interface ConfigFlags {
  apiKey?: string;
  apiUrl?: string;
  profile?: string;
}

/**
 * Parses the subset of dotenv syntax people actually write: `KEY=value`, `export KEY=value`, comments,
 * and single- or double-quoted values (double quotes understand \n).
 */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    const key = match[1]!;
    let value = match[2]!;
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.lastIndexOf(quote) > 0) {
      value = value.slice(1, value.lastIndexOf(quote));
      if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"');
    } else {
      // An unquoted value may carry a trailing comment.
      value = value.replace(/\s+#.*$/, '').trim();
    }
    out[key] = value;
  }
  return out;
}

function readDotEnv(cwd: string): Record<string, string> {
  try {
    return parseDotEnv(readFileSync(join(cwd, '.env'), 'utf8'));
  } catch {
    return {};
  }
}

const nonEmpty = (v: string | undefined): v is string => typeof v === 'string' && v.trim() !== '';

/**
 * Precedence: flags, then FLOWSCALE_API_KEY / FLOWSCALE_API_URL, then the profile (`--profile`,
 * FLOWSCALE_PROFILE or "default") in the config file, then a .env file in cwd, then defaults.
 */
export function resolveConfig(
  flags: ConfigFlags,
  env: Record<string, string | undefined>,
  cwd: string,
): ResolvedConfig {
  const dotEnv = readDotEnv(cwd);
  const path = configPath(env);
  const name = profileName(flags.profile, env);
  const profile: Profile = readConfigFile(path).profiles[name] ?? {};
  const pick = (
    flag: string | undefined,
    name: string,
    stored: string | undefined,
  ): { value?: string; source?: ConfigSource } => {
    if (nonEmpty(flag)) return { value: flag.trim(), source: 'flag' };
    if (nonEmpty(env[name])) return { value: env[name]!.trim(), source: 'env' };
    if (nonEmpty(stored)) return { value: stored.trim(), source: 'profile' };
    if (nonEmpty(dotEnv[name])) return { value: dotEnv[name]!.trim(), source: '.env' };
    return {};
  };
  const url = pick(flags.apiUrl, 'FLOWSCALE_API_URL', profile.apiUrl);
  const key = pick(flags.apiKey, 'FLOWSCALE_API_KEY', profile.apiKey);
  const config: ResolvedConfig = {
    apiUrl: (url.value ?? DEFAULT_API_URL).replace(/\/+$/, ''),
    sources: { apiUrl: url.source ?? 'default' },
    profile: { name, path },
  };
  if (key.value !== undefined) {
    config.apiKey = key.value;
    config.sources.apiKey = key.source!;
  }
  return config;
}

/** Human wording for "where did this setting come from", used in error hints. */
export function describeSource(
  source: ConfigSource | undefined,
  envName: string,
  flag: string,
  profile?: ResolvedConfig['profile'],
): string {
  switch (source) {
    case 'flag':
      return `the ${flag} flag`;
    case 'env':
      return `the ${envName} environment variable`;
    case 'profile':
      return `the "${profile?.name ?? 'default'}" profile in ${profile?.path ?? 'the config file'}`;
    case '.env':
      return `${envName} in ./.env`;
    default:
      return 'the default';
  }
}

/** What to do about a rejected key, by where it came from. */
export function keyFix(config: ResolvedConfig): string {
  switch (config.sources.apiKey) {
    case 'flag':
      return 'pass a valid key with --api-key';
    case 'env':
      return 'fix or unset FLOWSCALE_API_KEY';
    case 'profile': {
      const name = config.profile?.name ?? 'default';
      return `run "flowscale login${name === 'default' ? '' : ` --profile ${name}`}" again`;
    }
    default:
      return 'fix FLOWSCALE_API_KEY in ./.env';
  }
}

export const NO_KEY_MESSAGE =
  'no API key: run "flowscale login", or set FLOWSCALE_API_KEY, or pass --api-key, or put FLOWSCALE_API_KEY in ./.env';
