import type { Command } from 'commander';
import { describeSource } from '../config';
import { type CommandContext, isHttpUrl } from '../context';
import { CliError, ExitCode } from '../exit-codes';
import { action, type ContextFactory } from '../program';

/**
 * Without a key: the public liveness probe (`GET /healthz`), which says the server is up and nothing more.
 * The backends' health needs a key, so with one the authenticated call is made instead.
 */
async function liveness(ctx: CommandContext): Promise<void> {
  const { apiUrl } = ctx.config;
  const from = describeSource(
    ctx.config.sources.apiUrl,
    'FLOWSCALE_API_URL',
    '--api-url',
    ctx.config.profile,
  );
  if (!isHttpUrl(apiUrl))
    throw new CliError(`"${apiUrl}" from ${from} is not an http(s) URL`, ExitCode.usage);
  let response: Response;
  try {
    response = await fetch(`${apiUrl}/healthz`, { signal: AbortSignal.timeout(30_000) });
  } catch {
    throw new CliError(
      `cannot reach the FlowScale server at ${apiUrl} (from ${from}): start one with "flowscale serve", or set FLOWSCALE_API_URL / --api-url`,
      ExitCode.unreachable,
    );
  }
  if (!response.ok)
    throw new CliError(
      `the server at ${apiUrl} answered /healthz with HTTP ${response.status}`,
      ExitCode.generic,
    );
  const { out } = ctx;
  out.result({ url: apiUrl, ok: true, backends: null }, () => {
    out.line(`${out.color.bold('server')}  ${apiUrl}  ${out.color.green('ok')}`);
    out.line(out.color.dim('backends need an API key to be listed: flowscale login, or FLOWSCALE_API_KEY'));
  });
}

export function registerHealth(program: Command, context: ContextFactory): void {
  program
    .command('health')
    .description('check the server; with an API key also its ComfyUI backends (exit 1 when no backend is up)')
    .addHelpText('after', '\nExamples:\n  $ flowscale health\n  $ flowscale health --json\n')
    .action(
      action(context, async (ctx) => {
        if (!ctx.config.apiKey) return liveness(ctx);
        const { data } = await ctx.client().checkHealth();
        const backends = data ?? [];
        const { out } = ctx;
        out.result({ url: ctx.config.apiUrl, backends }, () => {
          out.line(`${out.color.bold('server')}  ${ctx.config.apiUrl}  ${out.color.green('ok')}`);
          out.table(backends, [
            { header: 'BACKEND', value: (b) => b.container },
            { header: 'STATUS', value: (b) => paintStatus(out.color, b.status) },
          ]);
        });
        if (backends.length > 0 && !backends.some((b) => b.status !== 'unreachable')) {
          throw new CliError('no ComfyUI backend is reachable', ExitCode.generic);
        }
      }),
    );
}

export function paintStatus(
  color: {
    green(s: string): string;
    yellow(s: string): string;
    red(s: string): string;
    dim(s: string): string;
  },
  status: string,
): string {
  if (status === 'completed' || status === 'idle') return color.green(status);
  if (status === 'running' || status === 'queued') return color.yellow(status);
  if (status === 'failed' || status === 'error' || status === 'unreachable') return color.red(status);
  return color.dim(status);
}
