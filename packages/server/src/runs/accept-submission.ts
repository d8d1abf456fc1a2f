import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../context';
import { invalidInputs } from '../http/errors';
import type { Run } from '../storage/types';
import type { Deployment } from '../workflows/types';
import { readSubmission, requestHash, runInputsOf } from './submission';
import { resolveUrlInputs, urlFields, withPlaceholders } from './url-inputs';
import { bindInputs } from './validate-inputs';

/**
 * `POST /api/v1/runs` after the query and headers were checked: read the multipart body, fetch URL inputs,
 * validate everything, record the input files, create (or replay) the run.
 */
export async function acceptSubmission(
  ctx: AppContext,
  request: FastifyRequest,
  deployment: Deployment,
  groupId: string | null,
  idempotencyKey: string | undefined,
): Promise<{ run: Run; replayed: boolean }> {
  const submitted = await readSubmission(request, deployment.inputs, ctx.inputFiles, ctx.config.maxFileBytes);
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
  for (const file of submitted.files.values()) await ctx.storage.recordInputFile(file);
  return ctx.runs.submit({
    deployment,
    groupId,
    bound,
    inputs: runInputsOf(submitted, deployment.inputs),
    ...(idempotencyKey !== undefined
      ? {
          claim: {
            scope: request.apiKey?.id ?? 'anonymous',
            key: idempotencyKey,
            requestHash: requestHash(deployment.id, groupId, submitted),
          },
        }
      : {}),
  });
}
