import { FlowscaleAdminAPI } from 'flowscale/admin';
import { describeSource, type ResolvedConfig, resolveConfig } from './config';
import { CliError, ExitCode } from './exit-codes';
import type { CliIO } from './io';
import { Output } from './output';

export interface GlobalOptions {
  apiUrl?: string;
  apiKey?: string;
  json?: boolean;
}

/** What every command action gets: resolved config, an output sink and a lazily built SDK client. */
export interface CommandContext {
  io: CliIO;
  out: Output;
  config: ResolvedConfig;
  client(): FlowscaleAdminAPI;
}

const isHttpUrl = (value: string): boolean => {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
};

export function createContext(io: CliIO, globals: GlobalOptions): CommandContext {
  const config = resolveConfig({ apiKey: globals.apiKey, apiUrl: globals.apiUrl }, io.env, io.cwd);
  const out = new Output(io.stdout, io.stderr, globals.json === true, io.env);
  let client: FlowscaleAdminAPI | undefined;
  return {
    io,
    out,
    config,
    client() {
      if (!config.apiKey) {
        throw new CliError(
          'no API key: set FLOWSCALE_API_KEY (or pass --api-key, or put FLOWSCALE_API_KEY in ./.env)',
          ExitCode.auth,
        );
      }
      if (!isHttpUrl(config.apiUrl)) {
        const from = describeSource(config.sources.apiUrl, 'FLOWSCALE_API_URL', '--api-url');
        throw new CliError(
          `"${config.apiUrl}" from ${from} is not an http(s) URL; use e.g. http://127.0.0.1:8787`,
          ExitCode.usage,
        );
      }
      // One attempt per call: a CLI user would rather see a fast, clear error than wait through retries.
      client ??= new FlowscaleAdminAPI({
        apiKey: config.apiKey,
        baseUrl: config.apiUrl,
        retries: 0,
        // The SDK's own log lines would interleave with the CLI's output.
        enableLogging: false,
      });
      return client;
    },
  };
}
