import type { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes';
import { action, type ContextFactory } from '../program';

export function registerHealth(program: Command, context: ContextFactory): void {
  program
    .command('health')
    .description('check the server and its ComfyUI backends (exit 1 when no backend is up)')
    .action(
      action(context, async (ctx) => {
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
