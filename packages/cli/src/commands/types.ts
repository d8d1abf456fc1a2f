import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { action, type ContextFactory } from '../program';
import { generateWorkflowTypes } from '../typegen';
import { toSchema } from '../workflow-lookup';

export const DEFAULT_TYPES_FILE = 'flowscale-workflows.gen.ts';

export function registerTypes(program: Command, context: ContextFactory): void {
  program
    .command('types')
    .description("generate TypeScript types for the deployed workflows' inputs and outputs")
    .option('-o, --out <file>', 'file to write ("-" for stdout)', DEFAULT_TYPES_FILE)
    .addHelpText(
      'after',
      `\nThe file augments the SDK's WorkflowRegistry, so executeWorkflow('<name>', {...}) checks input\nnames and value types at compile time. Import it once, or list it in tsconfig "include".\n`,
    )
    .action(
      action(context, async (ctx, opts: { out: string }) => {
        const client = ctx.client();
        const { data: list } = await client.getWorkflows();
        // The list endpoint has FlowScale's loose name→type maps; the per-workflow endpoint has full schemas.
        const workflows = await Promise.all(
          (list ?? []).map(async (w) => toSchema((await client.getWorkflow(w.id)).data)),
        );
        const text = generateWorkflowTypes(workflows);
        if (opts.out === '-') {
          ctx.io.stdout.write(text);
          return;
        }
        const path = resolve(ctx.io.cwd, opts.out);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, text);
        const names = workflows.map((w) => w.name).sort();
        ctx.out.result({ path, workflows: names }, () =>
          ctx.out.line(`wrote types for ${names.length} workflows to ${relative(ctx.io.cwd, path) || path}`),
        );
      }),
    );
}
