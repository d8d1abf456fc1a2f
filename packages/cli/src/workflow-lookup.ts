import type { CommandContext } from './context';
import { CliError, ExitCode } from './exit-codes';
import { httpStatus } from './http-status';
import type { SchemaField, WorkflowSchema } from './schema';
import { didYouMean } from './suggest';

interface WorkflowLike {
  id: string;
  name: string;
  description?: string | null;
  inputs?: unknown;
  outputs?: unknown;
  input_schema?: readonly SchemaField[];
  output_schema?: readonly SchemaField[];
}

/** The list endpoint carries inputs/outputs as JSON strings (FlowScale's format); decode them. */
export function parseIoMap(value: unknown): Record<string, string> {
  if (typeof value === 'string') {
    try {
      return parseIoMap(JSON.parse(value));
    } catch {
      return {};
    }
  }
  return value && typeof value === 'object' ? (value as Record<string, string>) : {};
}

/** The parsed schema wins, unless it is empty while the loose map is not (a server that only half-knows). */
const pick = (parsed: readonly SchemaField[] | undefined, loose: SchemaField[]): readonly SchemaField[] =>
  parsed && (parsed.length > 0 || loose.length === 0) ? parsed : loose;

/**
 * A FlowScale pod only has the loose name→type maps, not parsed schemas. Build a schema from them so
 * names and types are still checked; nothing is marked required since the maps don't say.
 */
export function toSchema(w: WorkflowLike): WorkflowSchema {
  const fromMap = (v: unknown): SchemaField[] =>
    Object.entries(parseIoMap(v)).map(([name, type]) => ({ name, type: String(type), required: false }));
  return {
    id: w.id,
    name: w.name,
    description: w.description ?? null,
    input_schema: pick(w.input_schema, fromMap(w.inputs)),
    output_schema: pick(w.output_schema, fromMap(w.outputs)),
  };
}

/**
 * Fetches a workflow's schema by id or name. Falls back to the list (servers without the per-workflow
 * endpoint), and on a miss names the closest deployed workflow, since the usual cause is a typo.
 */
export async function lookupWorkflow(ctx: CommandContext, idOrName: string): Promise<WorkflowSchema> {
  try {
    const { data } = await ctx.client().getWorkflow(idOrName);
    return toSchema(data);
  } catch (err) {
    if (httpStatus(err) !== 404) throw err;
  }
  const { data: all } = await ctx.client().getWorkflows();
  const hit = (all ?? []).find((w) => w.id === idOrName || w.name === idOrName);
  if (hit) return toSchema(hit);
  const names = (all ?? []).map((w) => w.name);
  throw new CliError(
    `unknown workflow "${idOrName}"${didYouMean(idOrName, names)}; run "flowscale workflows" to list them`,
    ExitCode.notFound,
  );
}
