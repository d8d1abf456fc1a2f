import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CliError, ExitCode } from './exit-codes';

/** What a profile holds; both optional, so `config set` can fill one in at a time. */
export interface Profile {
  apiUrl?: string;
  apiKey?: string;
}

export interface ConfigFile {
  profiles: Record<string, Profile>;
}

export const DEFAULT_PROFILE = 'default';

/**
 * `$XDG_CONFIG_HOME/flowscale/config.json`, else `~/.config/flowscale/config.json` (the XDG default).
 * Undefined when the environment names no home at all: then there are no profiles.
 */
export function configPath(env: Record<string, string | undefined>): string | undefined {
  const base = env.XDG_CONFIG_HOME?.trim() || (env.HOME?.trim() ? join(env.HOME, '.config') : undefined);
  return base ? join(base, 'flowscale', 'config.json') : undefined;
}

/** The profile to use: `--profile`, else FLOWSCALE_PROFILE, else "default". */
export const profileName = (flag: string | undefined, env: Record<string, string | undefined>): string =>
  flag?.trim() || env.FLOWSCALE_PROFILE?.trim() || DEFAULT_PROFILE;

export function readConfigFile(path: string | undefined): ConfigFile {
  if (!path) return { profiles: {} };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { profiles: {} };
  }
  try {
    const parsed = JSON.parse(text) as Partial<ConfigFile>;
    if (typeof parsed.profiles !== 'object' || parsed.profiles === null) throw new Error('no "profiles"');
    return { profiles: parsed.profiles };
  } catch (error) {
    throw new CliError(
      `${path} is not a valid flowscale config (${(error as Error).message}); fix or delete it, then run "flowscale login"`,
      ExitCode.generic,
    );
  }
}

/** Written whole through a temp file; the folder is 0700 and the file 0600, as it holds keys. */
export function writeConfigFile(path: string, file: ConfigFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  // The mode option only applies when the file is created (and is masked by umask).
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

/** A key shown to a human: enough to recognise it, never enough to use it. */
export const maskKey = (key: string): string =>
  key.length <= 8 ? '****' : `${key.slice(0, 4)}…${key.slice(-2)}`;
