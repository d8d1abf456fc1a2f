import type { CommandContext } from './context';
import { httpStatus } from './errors';
import { CliError, ExitCode } from './exit-codes';
import type { WorkflowSchema } from './schema';
import { didYouMean } from './suggest';

/**
 * Fetches a workflow's parsed schema by id or name. On a 404 the error names the closest deployed
 * workflow, since the usual cause is a typo.
 */
export async function lookupWorkflow(ctx: CommandContext, idOrName: string): Promise<WorkflowSchema> {
  try {
    const { data } = await ctx.client().getWorkflow(idOrName);
    return data as WorkflowSchema;
  } catch (err) {
    if (httpStatus(err) !== 404) throw err;
    const { data: all } = await ctx.client().getWorkflows();
    const names = (all ?? []).map((w) => w.name);
    throw new CliError(
      `unknown workflow "${idOrName}"${didYouMean(idOrName, names)}; run "flowscale workflows" to list them`,
      ExitCode.notFound,
    );
  }
}
