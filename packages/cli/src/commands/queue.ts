import type { Command } from 'commander';
import { action, type ContextFactory } from '../program';

export function registerQueue(program: Command, context: ContextFactory): void {
  program
    .command('queue')
    .description('show running and pending prompts on each backend')
    .action(
      action(context, async (ctx) => {
        const { data } = await ctx.client().getQueue();
        const items = data ?? [];
        ctx.out.result(items, () => {
          ctx.out.table(items, [
            { header: 'BACKEND', value: (q) => q.container },
            { header: 'RUNNING', value: (q) => String(q.queue?.queue_running?.length ?? 0) },
            { header: 'PENDING', value: (q) => String(q.queue?.queue_pending?.length ?? 0) },
          ]);
        });
      }),
    );
}
