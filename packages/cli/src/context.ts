import type { FlowscaleAdminAPI } from 'flowscale/admin';
import { describeSource, NO_KEY_MESSAGE, type ResolvedConfig, resolveConfig } from './config';
import { CliError, ExitCode } from './exit-codes';
import { registerErrorClass } from './http-status';
import type { CliIO } from './io';
import { Output } from './output';

export interface GlobalOptions {
  apiUrl?: string;
  apiKey?: string;
  profile?: string;
  json?: boolean;
}

/** What every command action gets: resolved config, an output sink and a lazily built SDK client. */
export interface CommandContext {
  io: CliIO;
  /** The global flags as typed (login saves these, not what the environment says). */
  globals: GlobalOptions;
  out: Output;
  config: ResolvedConfig;
  client(): FlowscaleAdminAPI;
}

let Admin: typeof FlowscaleAdminAPI | undefined;

/** Loads the SDK. Every action awaits it first; `--help` and `--version` never load it. */
export async function loadSdk(): Promise<void> {
  if (Admin) return;
  const [admin, core] = await Promise.all([import('flowscale/admin'), import('flowscale')]);
  registerErrorClass(core.FlowScaleError);
  Admin = admin.FlowscaleAdminAPI;
}

/** A client for the CLI: one attempt per call and no SDK log lines among the CLI's output. */
export function createClient(apiUrl: string, apiKey: string): FlowscaleAdminAPI {
  if (!Admin) throw new Error('createClient before loadSdk');
  // A CLI user would rather see a fast, clear error than wait through retries.
  return new Admin({ apiKey, baseUrl: apiUrl, retries: 0, enableLogging: false });
}

export const isHttpUrl = (value: string): boolean => {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
};

export function createContext(io: CliIO, globals: GlobalOptions): CommandContext {
  const { apiKey, apiUrl, profile } = globals;
  const config = resolveConfig({ apiKey, apiUrl, profile }, io.env, io.cwd);
  const out = new Output(io.stdout, io.stderr, globals.json === true, io.env);
  let client: FlowscaleAdminAPI | undefined;
  return {
    io,
    globals,
    out,
    config,
    client() {
      if (!config.apiKey) {
        throw new CliError(NO_KEY_MESSAGE, ExitCode.auth);
      }
      if (!isHttpUrl(config.apiUrl)) {
        const from = describeSource(config.sources.apiUrl, 'FLOWSCALE_API_URL', '--api-url', config.profile);
        throw new CliError(
          `"${config.apiUrl}" from ${from} is not an http(s) URL; use e.g. http://127.0.0.1:8787`,
          ExitCode.usage,
        );
      }
      client ??= createClient(config.apiUrl, config.apiKey);
      return client;
    },
  };
}
