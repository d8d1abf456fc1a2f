import { relative } from 'node:path';
import type { Command } from 'commander';
import { formatBytes } from '../output';
import { action, type ContextFactory } from '../program';

export function registerOutput(program: Command, context: ContextFactory): void {
  program
    .command('output')
    .description('download one output by name (with or without its extension)')
    .argument('<name>', 'output name, e.g. filename_prefix_3_5WWF7GQUYF')
    .option('-o, --out <dir>', 'directory to write into', '.')
    .action(
      action(context, async (ctx, name: string, opts: { out: string }) => {
        const { saveOutput } = await import('../download');
        const saved = await saveOutput(ctx, name, opts.out);
        ctx.out.result(saved, () =>
          ctx.out.line(
            `${relative(ctx.io.cwd, saved.path) || saved.path}  ${ctx.out.color.dim(formatBytes(saved.size))}`,
          ),
        );
      }),
    );
}
