import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../exit-codes';
import { httpStatus } from '../http-status';
import { action, type ContextFactory } from '../program';
import { generateWorkflowTypes } from '../typegen';
import { toSchema } from '../workflow-lookup';

export const DEFAULT_TYPES_FILE = 'flowscale-workflows.gen.ts';

export function registerTypes(program: Command, context: ContextFactory): void {
  program
    .command('types')
    .description("generate TypeScript types for the deployed workflows' inputs and outputs")
    .option('-o, --out <file>', 'file to write ("-" for stdout)', DEFAULT_TYPES_FILE)
    .option('--check', 'write nothing; exit 1 if the file is missing or out of date (for CI)')
    .addHelpText(
      'after',
      `\nThe file augments the SDK's WorkflowRegistry, so executeWorkflow('<name>', {...}) checks input\nnames and value types at compile time. Import it once, or list it in tsconfig "include".\n`,
    )
    .action(
      action(context, async (ctx, opts: { out: string; check?: boolean }) => {
        const client = ctx.client();
        const { data: list } = await client.getWorkflows();
        // The list has FlowScale's loose name→type maps; the per-workflow endpoint has full schemas (with
        // required flags and defaults). A server without that endpoint still gets names and types.
        const workflows = await Promise.all(
          (list ?? []).map(async (w) => {
            try {
              return toSchema((await client.getWorkflow(w.id)).data);
            } catch (err) {
              if (httpStatus(err) === 404) return toSchema(w);
              throw err;
            }
          }),
        );
        const text = generateWorkflowTypes(workflows);
        if (opts.out === '-') {
          ctx.io.stdout.write(text);
          return;
        }
        const path = resolve(ctx.io.cwd, opts.out);
        const shown = relative(ctx.io.cwd, path) || path;
        if (opts.check) {
          const current = await readFile(path, 'utf8').catch(() => undefined);
          if (current !== text) {
            throw new CliError(
              `${shown} is ${current === undefined ? 'missing' : 'out of date'}: run "flowscale types --out ${opts.out}"`,
            );
          }
          ctx.out.result({ path, up_to_date: true }, () => ctx.out.line(`${shown} is up to date`));
          return;
        }
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, text);
        const names = workflows.map((w) => w.name).sort();
        ctx.out.result({ path, workflows: names }, () =>
          ctx.out.line(`wrote types for ${names.length} workflows to ${shown}`),
        );
      }),
    );
}
