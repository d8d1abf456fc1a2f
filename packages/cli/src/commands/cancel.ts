import type { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes';
import { httpStatus } from '../http-status';
import { action, type ContextFactory } from '../program';

export function registerCancel(program: Command, context: ContextFactory): void {
  program
    .command('cancel')
    .description('cancel a queued or running run')
    .argument('<run-id>', 'the run to cancel')
    .action(
      action(context, async (ctx, runId: string) => {
        try {
          await ctx.client().cancelRun(runId);
        } catch (err) {
          // 409: the run already finished; say so instead of the generic conflict text.
          if (httpStatus(err) === 409) {
            throw new CliError(`run ${runId} has already finished; nothing to cancel`, ExitCode.generic);
          }
          throw err;
        }
        ctx.out.result({ run_id: runId, cancelled: true }, () => ctx.out.line(`cancelled run ${runId}`));
      }),
    );
}
