import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context';
import { isTextContentType } from '../../runs/output-files';
import { isTerminal } from '../../storage/types';
import { ok } from '../envelope';
import { Forbidden, InvalidFilename, OutputNotFound } from '../errors';

const MAX_FILENAME = 255;

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
      const output =
        (await ctx.storage.findOutput(filename)) ??
        (extension ? await ctx.storage.findOutput(filename.slice(0, -extension.length)) : undefined);
      if (!output) {
        const days = ctx.config.retentionDays;
        const expiry = days > 0 ? ` (output files are deleted after ${days} days)` : '';
        throw new OutputNotFound(`No run has an output named ${filename}${expiry}`);
      }
      if (!output.ready) {
        const run = await ctx.storage.getRun(output.runId);
        if (run && isTerminal(run.status)) {
          throw new OutputNotFound(`Run ${run.id} ended (${run.status}) without producing ${filename}`);
        }
        return reply.code(204).send();
      }
      if (isTextContentType(output.contentType)) {
        const text = await ctx.outputs.readText(output.storageKey ?? output.filename);
        return ok({ filename: output.filename, file_content: text ?? '', generation_status: 'success' });
      }
      const { expires, signature } = ctx.signer.sign(output.filename);
      const url = `${ctx.publicUrl()}/api/v1/files/${encodeURIComponent(output.filename)}?expires=${expires}&signature=${signature}`;
      return ok({ filename: output.filename, download_url: url, generation_status: 'success' });
    },
  );

  app.get<{ Params: { filename: string }; Querystring: { expires?: string; signature?: string } }>(
    '/api/v1/files/:filename',
    {
      config: { public: true },
      schema: { summary: 'Download an output through a signed, expiring URL (no API key)', tags: ['runs'] },
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
      const output = await ctx.storage.findOutput(filename);
      const stream = output?.ready ? await ctx.outputs.open(output.storageKey ?? filename) : undefined;
      if (!output || !stream) {
        const days = ctx.config.retentionDays;
        const expiry = days > 0 ? ` (output files are deleted after ${days} days)` : '';
        throw new OutputNotFound(`No output file ${filename}${expiry}`);
      }
      reply.header('content-type', output.contentType ?? 'application/octet-stream');
      if (output.size !== null) reply.header('content-length', output.size);
      reply.header('content-disposition', `inline; filename="${filename}"`);
      reply.header('cache-control', 'private, max-age=300');
      return reply.send(stream);
    },
  );
}
