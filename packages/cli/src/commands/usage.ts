import { type Command, InvalidArgumentError } from 'commander';
import type { ProjectUsage, UsageCounts } from 'flowscale';
import { formatBytes } from '../output';
import { action, type ContextFactory } from '../program';

interface UsageOptions {
  from?: string;
  to?: string;
}

/** Checked here too, so a typo is a usage error (exit 2) before any request; the server checks again. */
const day = (value: string): string => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new InvalidArgumentError('expected a day as YYYY-MM-DD');
  return value;
};

const seconds = (counts: UsageCounts): string =>
  Object.values(counts.execution_seconds)
    .reduce((sum, value) => sum + value, 0)
    .toFixed(1);

/** One row per project and day, then the project's total over the range. */
const rowsOf = (projects: ProjectUsage[]) =>
  projects.flatMap((project) => [
    ...project.days.map((d) => ({ project: project.project, day: d.day, counts: d as UsageCounts })),
    ...(project.days.length > 1 ? [{ project: project.project, day: 'total', counts: project.totals }] : []),
  ]);

export function registerUsage(program: Command, context: ContextFactory): void {
  program
    .command('usage')
    .description('usage per project and UTC day: runs by status, execution seconds, bytes in and out')
    .argument('[project]', 'project name or id (an admin key: default every project; others: their own)')
    .option('--from <day>', 'first day, YYYY-MM-DD (default: 29 days before --to)', day)
    .option('--to <day>', 'last day, YYYY-MM-DD, inclusive (default: today, UTC)', day)
    .addHelpText(
      'after',
      '\nExecution seconds are summed over backends; --json gives them per backend id.\n\nExamples:\n  $ flowscale usage\n  $ flowscale usage acme --from 2026-12-01 --to 2026-12-07\n  $ flowscale usage --json\n',
    )
    .action(
      action(context, async (ctx, project: string | undefined, opts: UsageOptions) => {
        const { data } = await ctx.client().getUsage({
          ...(project ? { project } : {}),
          ...(opts.from ? { from: opts.from } : {}),
          ...(opts.to ? { to: opts.to } : {}),
        });
        const { out } = ctx;
        out.result(data, () => {
          const rows = rowsOf(data.projects);
          if (rows.length === 0) {
            out.line(`no usage from ${data.from} to ${data.to}`);
            return;
          }
          out.table(rows, [
            { header: 'PROJECT', value: (r) => r.project },
            { header: 'DAY', value: (r) => r.day },
            { header: 'CREATED', value: (r) => String(r.counts.runs.created) },
            { header: 'COMPLETED', value: (r) => String(r.counts.runs.completed) },
            { header: 'FAILED', value: (r) => String(r.counts.runs.failed) },
            { header: 'CANCELLED', value: (r) => String(r.counts.runs.cancelled) },
            { header: 'EXEC SECONDS', value: (r) => seconds(r.counts) },
            { header: 'BYTES IN', value: (r) => formatBytes(r.counts.bytes_in) },
            { header: 'BYTES OUT', value: (r) => formatBytes(r.counts.bytes_out) },
          ]);
        });
      }),
    );
}
