import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context';
import { Forbidden, InvalidFilename, OutputNotFound } from '../../errors';
import { isTextContentType } from '../../media/media-types';
import { isTerminal } from '../../storage/records';
import { answerRange } from '../byte-ranges';
import { ok } from '../envelope';
import { scopeOf } from '../scope';

const MAX_FILENAME = 255;
const MAX_EXPIRES = 99_999_999_999;

/** Output names are server-made; anything with a path, a dot-dot or odd characters is a trick, not a name. */
function checkFilename(filename: string): void {
  if (
    filename.length === 0 ||
    filename.length > MAX_FILENAME ||
    filename.includes('..') ||
    !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(filename)
  ) {
    throw new InvalidFilename(`Invalid output filename: ${JSON.stringify(filename.slice(0, 80))}`);
  }
}

export async function outputRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: { filename: string } }>(
    '/api/v1/runs/output',
    {
      schema: {
        summary: 'An output by name (with or without extension); 204 while not ready',
        tags: ['runs'],
        querystring: { type: 'object', required: ['filename'], properties: { filename: { type: 'string' } } },
      },
    },
    async (request, reply) => {
      const { filename } = request.query;
      checkFilename(filename);
      const extension = path.extname(filename);
      const found =
        (await ctx.stores.outputs.find(filename)) ??
        (extension ? await ctx.stores.outputs.find(filename.slice(0, -extension.length)) : undefined);
      // Another project's output is answered exactly as a name no run has.
      const output = found && (await ctx.access.visible(found.runId, scopeOf(request))) ? found : undefined;
      if (!output) {
        const days = ctx.config.retentionDays;
        const expiry = days > 0 ? ` (output files are deleted after ${days} days)` : '';
        throw new OutputNotFound(`No run has an output named ${filename}${expiry}`);
      }
      if (!output.ready) {
        const run = await ctx.stores.runs.get(output.runId);
        if (run && isTerminal(run.status)) {
          throw new OutputNotFound(`Run ${run.id} ended (${run.status}) without producing ${filename}`);
        }
        return reply.code(204).send();
      }
      if (isTextContentType(output.contentType)) {
        const text = await ctx.outputs.readText(output.storageKey ?? output.filename);
        return ok({
          filename: output.filename,
          file_content: text ?? '',
          generation_status: 'success',
          run_id: output.runId,
        });
      }
      const url = await ctx.downloadUrl(output.filename);
      return ok({
        filename: output.filename,
        download_url: url,
        generation_status: 'success',
        run_id: output.runId,
      });
    },
  );

  app.get<{ Params: { filename: string }; Querystring: { expires?: number; signature?: string } }>(
    '/api/v1/files/:filename',
    {
      config: { public: true },
      schema: {
        summary: 'Download an output through a signed, expiring URL (no API key)',
        tags: ['runs'],
        querystring: {
          type: 'object',
          properties: {
            // Unix seconds; the bound (year 5138) keeps `expires * 1000` an exact millisecond count.
            expires: { type: 'integer', minimum: 0, maximum: MAX_EXPIRES },
            signature: { type: 'string', maxLength: 200 },
          },
        },
      },
    },
    async (request, reply) => {
      const { filename } = request.params;
      checkFilename(filename);
      const verdict = ctx.signer.verify(
        filename,
        Number(request.query.expires),
        String(request.query.signature ?? ''),
      );
      if (verdict === 'bad') throw new Forbidden('Invalid download signature');
      if (verdict === 'expired') throw new Forbidden('Download URL has expired; ask for the output again');
      const output = await ctx.stores.outputs.find(filename);
      const answer =
        output?.ready && output.size !== null
          ? answerRange(request.headers.range, output.size, request.headers['if-range'] as string | undefined)
          : ({ kind: 'whole' } as const);
      if (output && answer.kind === 'unsatisfiable') {
        return reply
          .code(416)
          .header('content-range', `bytes */${output.size}`)
          .send({
            status: 'error',
            errors: `Range ${request.headers.range} is outside ${filename} (${output.size} bytes)`,
            code: 'RANGE_NOT_SATISFIABLE',
          });
      }
      const range = answer.kind === 'partial' ? answer.range : undefined;
      const stream = output?.ready ? await ctx.outputs.open(output.storageKey ?? filename, range) : undefined;
      if (!output || !stream) {
        const days = ctx.config.retentionDays;
        const expiry = days > 0 ? ` (output files are deleted after ${days} days)` : '';
        throw new OutputNotFound(`No output file ${filename}${expiry}`);
      }
      reply.header('content-type', output.contentType ?? 'application/octet-stream');
      reply.header('accept-ranges', 'bytes');
      if (range) {
        reply.code(206);
        reply.header('content-range', `bytes ${range.start}-${range.end}/${output.size}`);
        reply.header('content-length', range.end - range.start + 1);
      } else if (output.size !== null) reply.header('content-length', output.size);
      reply.header('content-disposition', `inline; filename="${filename}"`);
      reply.header('cache-control', 'private, max-age=300');
      return reply.send(stream);
    },
  );
}
