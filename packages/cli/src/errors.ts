import { CommanderError } from 'commander';
import { FlowScaleError, NetworkError, TimeoutError } from 'flowscale';
import { describeSource, keyFix, NO_KEY_MESSAGE, type ResolvedConfig } from './config';
import { CliError, ExitCode } from './exit-codes';

/** The HTTP status of an SDK error that came from a response. */
export function httpStatus(err: unknown): number | undefined {
  return err instanceof FlowScaleError ? err.status : undefined;
}

/** One line, whatever the error carried: API messages sometimes include newlines or stack-ish detail. */
const oneLine = (s: string): string => s.split('\n')[0]!.trim();

/**
 * The server's own words. The SDK words an HTTP error "HTTP Error <status> <status text> - <server's
 * message>"; a status text never contains " - ", so the first one ends the prefix.
 */
function serverMessage(err: unknown): string {
  const message = oneLine(err instanceof Error ? err.message : String(err));
  const dash = httpStatus(err) === undefined ? -1 : message.indexOf(' - ');
  return dash < 0 ? message : message.slice(dash + 3);
}

/** The details the message does not already say (servers often put them in both). */
function detailsSuffix(err: unknown, message: string): string {
  const details = err instanceof FlowScaleError ? err.details : undefined;
  if (!Array.isArray(details) || details.length === 0) return '';
  const parts = details
    .map(
      (d: unknown) => (typeof d === 'object' && d !== null ? d : {}) as { field?: string; message?: string },
    )
    .filter((d) => d.message)
    .map((d) => (d.field ? `${d.field}: ${d.message}` : d.message!))
    .filter((text) => !message.includes(text));
  return parts.length ? ` (${parts.join('; ')})` : '';
}

/**
 * Maps anything thrown while running a command to a one-line message and a stable exit code. The message
 * always says what to do next, using where the offending setting came from.
 */
export function toCliError(err: unknown, config?: ResolvedConfig): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof CommanderError) {
    return new CliError(oneLine(err.message.replace(/^error:\s*/, '')), ExitCode.usage);
  }
  const status = httpStatus(err);
  if (status === 401 || status === 403) {
    if (!config?.apiKey) return new CliError(NO_KEY_MESSAGE, ExitCode.auth);
    const from = describeSource(config.sources.apiKey, 'FLOWSCALE_API_KEY', '--api-key', config.profile);
    if (status === 403)
      return new CliError(
        `the server at ${config.apiUrl} does not allow this for the API key from ${from} (HTTP 403): an admin key is needed`,
        ExitCode.auth,
      );
    return new CliError(
      `the server at ${config.apiUrl} rejected the API key from ${from} (HTTP 401): ${keyFix(config)}`,
      ExitCode.auth,
    );
  }
  if (status === 404) return new CliError(serverMessage(err), ExitCode.notFound);
  if (status === 400 || status === 413 || status === 422) {
    const message = serverMessage(err);
    return new CliError(message + detailsSuffix(err, message), ExitCode.usage);
  }
  if (status === 429) {
    return new CliError(
      `the server is rate limiting this key (HTTP 429: ${serverMessage(err)}); wait a moment and try again`,
      ExitCode.generic,
    );
  }
  // A request that got no HTTP response (refused, reset, DNS). An event stream that closed early is a
  // NetworkError too (code stream_closed), but the server was reached: its message says what happened.
  if (err instanceof NetworkError && err.code === 'network_error') {
    const url = config?.apiUrl ?? 'the server';
    const from = config
      ? ` (from ${describeSource(config.sources.apiUrl, 'FLOWSCALE_API_URL', '--api-url', config.profile)})`
      : '';
    return new CliError(
      `cannot reach the FlowScale server at ${url}${from}: start one with "flowscale serve", or set FLOWSCALE_API_URL / --api-url`,
      ExitCode.unreachable,
    );
  }
  if (err instanceof TimeoutError || status === 408)
    return new CliError(serverMessage(err), ExitCode.timeout);
  return new CliError(serverMessage(err) || 'unexpected error', ExitCode.generic);
}
