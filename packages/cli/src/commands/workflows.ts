import type { Command } from 'commander';
import { action, type ContextFactory } from '../program';
import { confirm } from '../prompt';
import type { SchemaField } from '../schema';
import { lookupWorkflow, parseIoMap } from '../workflow-lookup';

/** The type with its limits, compact: `integer 1..64`, `string a|b`. */
export function describeType(f: SchemaField): string {
  if (f.choices && f.choices.length > 0) return `${f.type} ${f.choices.map(String).join('|')}`;
  if (f.min !== undefined || f.max !== undefined) return `${f.type} ${f.min ?? ''}..${f.max ?? ''}`;
  return f.type;
}

const describeDefault = (f: SchemaField): string =>
  f.default === undefined ? '' : JSON.stringify(f.default);

export function registerWorkflows(program: Command, context: ContextFactory): void {
  const workflows = program
    .command('workflows')
    .description('list deployed workflows')
    .action(
      action(context, async (ctx) => {
        const { data } = await ctx.client().getWorkflows();
        const list = data ?? [];
        ctx.out.result(list, () => {
          const summary = (v: unknown) =>
            Object.entries(parseIoMap(v))
              .map(([name, type]) => `${name}:${type}`)
              .join(' ');
          ctx.out.table(list, [
            { header: 'NAME', value: (w) => ctx.out.color.cyan(w.name) },
            { header: 'ID', value: (w) => w.id },
            { header: 'INPUTS', value: (w) => summary(w.inputs) },
            { header: 'OUTPUTS', value: (w) => summary(w.outputs) },
          ]);
        });
      }),
    );

  workflows
    .command('show')
    .description("show a workflow's inputs and outputs with their types")
    .argument('<workflow>', 'workflow id or name')
    .action(
      action(context, async (ctx, idOrName: string) => {
        const w = await lookupWorkflow(ctx, idOrName);
        const { out } = ctx;
        out.result(w, () => {
          out.line(`${out.color.bold(w.name)}  ${out.color.dim(w.id)}`);
          if (w.description) out.line(w.description);
          out.line();
          out.line(out.color.bold('Inputs'));
          if (w.input_schema.length === 0) out.line('  (none)');
          else
            out.table(w.input_schema, [
              { header: '  NAME', value: (f) => `  ${f.name}` },
              { header: 'TYPE', value: describeType },
              { header: 'REQUIRED', value: (f) => (f.required && f.default === undefined ? 'yes' : 'no') },
              { header: 'DEFAULT', value: describeDefault },
              ...(w.input_schema.some((f) => f.alias)
                ? [{ header: 'ALIAS', value: (f: SchemaField) => f.alias ?? '' }]
                : []),
              { header: 'DESCRIPTION', value: (f) => f.description ?? f.label ?? '' },
            ]);
          out.line();
          out.line(out.color.bold('Outputs'));
          out.table(w.output_schema, [
            { header: '  NAME', value: (f) => `  ${f.name}` },
            { header: 'TYPE', value: (f) => f.type },
          ]);
          out.line();
          const example = w.input_schema
            .map(
              (f) => `-i ${f.name}=${['image', 'video', 'audio', 'file'].includes(f.type) ? '@file' : '…'}`,
            )
            .join(' ');
          out.line(out.color.dim(`run it: flowscale run ${w.name} ${example}`.trimEnd()));
        });
      }),
    );

  workflows
    .command('delete')
    .description('delete a deployed workflow (admin)')
    .argument('<workflow>', 'workflow id or name')
    .option('-y, --yes', 'do not ask for confirmation (needed without a terminal)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ flowscale workflows delete my-workflow\n  $ flowscale workflows delete my-workflow --yes\n',
    )
    .action(
      action(context, async (ctx, idOrName: string, opts: { yes?: boolean }) => {
        // Resolve a name to its id first: the admin endpoint takes ids, and the lookup gives the suggestion.
        const w = await lookupWorkflow(ctx, idOrName);
        await confirm(ctx.io, `delete workflow ${w.name} (${w.id})`, opts.yes);
        await ctx.client().deleteWorkflow(w.id);
        ctx.out.result({ id: w.id, name: w.name, deleted: true }, () =>
          ctx.out.line(`deleted workflow ${w.name} (${w.id})`),
        );
      }),
    );
}
