import { randomUUID } from 'node:crypto';
import type { AppContext } from '../context';
import { invalidInputs } from '../errors';
import type { FormPart } from '../inputs/form-parts';
import type { Run } from '../storage/records';
import type { Deployment } from '../workflows/types';
import { parseMetadata, takeMetadata } from './metadata';
import { type RunOptionQuery, takeRunOptions } from './run-options';
import { readSubmission, requestHash, runInputsOf } from './submission';
import { resolveUrlInputs, urlFields, withPlaceholders } from './url-inputs';
import { bindInputs } from './validate-inputs';

/** The form field that carries a per-run webhook URL; never bound to a workflow input. */
export const WEBHOOK_URL_FIELD = 'webhook_url';

export interface Submission {
  deployment: Deployment;
  groupId: string | null;
  /** The body's parts, in order (none when the request had no body). */
  parts: AsyncIterable<FormPart>;
  idempotencyKey: string | undefined;
  /** The project of the submitting key: it owns the run and its idempotency keys. */
  projectId: string;
  /** The `metadata` query parameter, if given (merged over the form field). */
  metadata: string | undefined;
  /** `priority` and `timeout` as query parameters; form fields of those names are read too. */
  options?: RunOptionQuery;
  /** The project's quotas, checked again atomically when the run is stored. */
  limits?: Record<string, number>;
}

/**
 * `POST /api/v1/runs` after the query and headers were checked: read the multipart body, fetch URL inputs,
 * validate everything, record the input files, create (or replay) the run.
 */
export async function acceptSubmission(
  ctx: AppContext,
  {
    deployment,
    groupId,
    parts,
    idempotencyKey,
    projectId,
    metadata: queryMetadata,
    options: query = {},
    limits,
  }: Submission,
): Promise<{ run: Run; replayed: boolean }> {
  // Checked before the body is read, so a bad parameter stores no upload.
  const fromQuery =
    queryMetadata === undefined ? undefined : parseMetadata(queryMetadata, 'The metadata parameter');
  const submitted = await readSubmission(
    parts,
    deployment.inputs,
    ctx.inputFiles,
    ctx.config.maxFileBytes,
    limits?.max_input_bytes,
  );
  // Not a workflow input: where to POST the run's end (ExecutionOptions.webhookUrl). Refused before any work.
  const webhookUrl = submitted.fields.get(WEBHOOK_URL_FIELD);
  submitted.fields.delete(WEBHOOK_URL_FIELD);
  if (webhookUrl !== undefined) await ctx.webhooks.service.checkUrl(webhookUrl);
  const metadata = takeMetadata(submitted, deployment.inputs, fromQuery);
  const options = takeRunOptions(query, submitted.fields, deployment.inputs);
  // URL inputs are fetched only once everything else in the request is known to be valid.
  const urls = urlFields(submitted, deployment.inputs);
  if (urls.length > 0) {
    const early = bindInputs(deployment.inputs, withPlaceholders(submitted, urls)).problems;
    if (early.length > 0) throw invalidInputs(early);
    await resolveUrlInputs(submitted, urls, ctx.inputFiles, {
      allowPrivate: ctx.config.allowPrivateUrls,
      idleTimeoutMs: ctx.config.urlFetchTimeoutMs,
      totalTimeoutMs: ctx.config.urlFetchTotalTimeoutMs,
      maxFileBytes: ctx.config.maxFileBytes,
    });
  }
  const { bound, problems } = bindInputs(deployment.inputs, submitted);
  if (problems.length > 0) throw invalidInputs(problems);
  for (const file of submitted.files.values()) await ctx.stores.inputFiles.record(file);
  // The run's own endpoint is stored before the run: a run that ends at once, or a process killed just
  // after the run's commit, still finds it. Should no run come of it after all, the endpoint goes again.
  const runId = randomUUID();
  const service = ctx.webhooks.service;
  const endpointId =
    webhookUrl === undefined ? undefined : await service.registerRun(runId, projectId, webhookUrl);
  const forget = async (): Promise<void> => {
    if (endpointId) await service.remove(endpointId).catch(() => undefined);
  };
  let result: { run: Run; replayed: boolean };
  try {
    result = await ctx.runs.submit({
      runId,
      projectId,
      ...(limits ? { limits } : {}),
      metadata,
      deployment,
      groupId,
      options,
      bound,
      inputs: runInputsOf(submitted, deployment.inputs),
      ...(idempotencyKey !== undefined
        ? {
            claim: {
              scope: `project:${projectId}`,
              key: idempotencyKey,
              requestHash: requestHash(deployment.id, groupId, submitted),
            },
          }
        : {}),
    });
  } catch (error) {
    await forget();
    throw error;
  }
  // An idempotent replay answers the earlier run, which kept the endpoint it was given then.
  if (result.replayed) await forget();
  return result;
}
