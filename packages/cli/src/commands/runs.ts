import { type Command, InvalidArgumentError } from 'commander';
import type { CommandContext } from '../context';
import { formatTime } from '../output';
import { action, type ContextFactory } from '../program';
import { paintStatus } from './health';
import { parseSeconds } from './run';

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
};

/** Run records carry workflow ids; people think in names. Best effort: a failure here only costs the names. */
async function workflowNames(ctx: CommandContext): Promise<Map<string, string>> {
  try {
    const { data } = await ctx.client().getWorkflows();
    return new Map((data ?? []).map((w) => [w.id, w.name]));
  } catch {
    return new Map();
  }
}

export function registerRuns(program: Command, context: ContextFactory): void {
  const runs = program
    .command('runs')
    .description('list runs, newest first')
    .option('-g, --group <group>', 'only runs in this group')
    .option('-p, --page <n>', 'page number', positiveInt, 1)
    .option('--page-size <n>', 'runs per page (max 100)', positiveInt, 10)
    .action(
      action(context, async (ctx, opts: { group?: string; page: number; pageSize: number }) => {
        const [res, names] = await Promise.all([
          ctx.client().getRuns(opts.group, { page: opts.page, pageSize: opts.pageSize }),
          workflowNames(ctx),
        ]);
        const list = res.data?.runs ?? [];
        const meta = res.meta;
        const { out } = ctx;
        out.result({ runs: list, meta: meta ?? null }, () => {
          if (list.length === 0) {
            out.line(opts.page > 1 ? `no runs on page ${opts.page}` : 'no runs yet');
            return;
          }
          out.table(list, [
            { header: 'RUN', value: (r) => r._id },
            {
              header: 'WORKFLOW',
              value: (r) => names.get(r.workflow_id ?? '') ?? String(r.workflow_id ?? ''),
            },
            { header: 'STATUS', value: (r) => paintStatus(out.color, r.status) },
            { header: 'CREATED', value: (r) => formatTime(r.created_at) },
            { header: 'GROUP', value: (r) => r.group_id ?? '' },
          ]);
          if (meta) {
            out.line(out.color.dim(`page ${meta.page} of ${meta.total_pages} (${meta.total_count} runs)`));
          }
        });
      }),
    );

  runs
    .command('show')
    .description('show one run: status, inputs, outputs and error')
    .argument('<run-id>', 'the run, as printed by "flowscale run" or listed by "flowscale runs"')
    .action(
      action(context, async (ctx, runId: string) => {
        const [{ data: run }, names, { failureMessage }] = await Promise.all([
          ctx.client().getRun(runId),
          workflowNames(ctx),
          import('../progress'),
        ]);
        const { out } = ctx;
        const workflowName = names.get(run.workflow_id ?? '');
        out.result(run, () => {
          out.line(`${out.color.bold('run')}       ${run._id}`);
          out.line(
            `workflow  ${workflowName ? `${workflowName} ${out.color.dim(run.workflow_id ?? '')}` : run.workflow_id}`,
          );
          out.line(
            `status    ${paintStatus(out.color, run.status)}${run.progress != null ? ` (${run.progress}%)` : ''}`,
          );
          if (run.group_id) out.line(`group     ${run.group_id}`);
          out.line(`created   ${formatTime(run.created_at)}`);
          if (run.started_at) out.line(`started   ${formatTime(run.started_at)}`);
          if (run.completed_at) out.line(`finished  ${formatTime(run.completed_at)}`);
          if (run.error) out.line(`error     ${out.color.red(failureMessage(run.error))}`);
          if (run.inputs?.length) {
            out.line(out.color.bold('inputs'));
            for (const i of run.inputs) out.line(`  ${i.path} = ${i.url ?? JSON.stringify(i.value)}`);
          }
          if (run.outputs?.length) {
            out.line(out.color.bold('outputs'));
            for (const o of run.outputs)
              out.line(`  ${o.filename}${o.content_type ? `  ${out.color.dim(o.content_type)}` : ''}`);
          }
        });
      }),
    );

  runs
    .command('watch')
    .description("follow a run's progress (from its start) and download its outputs when it completes")
    .argument('<run-id>', 'the run, as printed by "flowscale run --no-wait"')
    .option('-o, --out <dir>', 'directory to download outputs into', '.')
    .option('--timeout <seconds>', 'stop waiting after this long (exit 6; the run keeps going)', parseSeconds)
    .action(
      action(context, async (ctx, runId: string, opts: { out: string; timeout?: number }) => {
        const [{ data: run }, names] = await Promise.all([ctx.client().getRun(runId), workflowNames(ctx)]);
        const workflowId = run.workflow_id ?? '';
        const { followRun } = await import('../follow');
        await followRun(ctx, {
          runId,
          workflowId,
          label: names.get(workflowId) ?? workflowId,
          out: opts.out,
          timeout: opts.timeout,
        });
      }),
    );
}
