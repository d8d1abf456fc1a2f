import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context';
import { NotFound, RunNotFound } from '../../errors';

/** Media a browser may show inline; anything else an uploader sent is offered as a download only. */
const INLINE =
  /^(image\/(png|jpeg|gif|webp|avif|bmp)|video\/(mp4|webm|ogg)|audio\/(mpeg|wav|ogg|webm|flac|mp4))$/;

/**
 * `GET /api/v1/runs/{id}/inputs/{name}`: the file a run was given for one input, so a client can preview it
 * or submit the run again with the same inputs. Needs the API key like every run read.
 */
export async function runInputRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Params: { id: string; name: string } }>(
    '/api/v1/runs/:id/inputs/:name',
    { schema: { summary: "A run's uploaded input file, by input name", tags: ['runs'] } },
    async (request, reply) => {
      const { id, name } = request.params;
      const run = await ctx.stores.runs.get(id);
      if (!run) throw new RunNotFound(id);
      const input = run.inputs.find((candidate) => candidate.path === name || candidate.name === name);
      if (!input?.file) throw new NotFound(`Run ${id} has no uploaded file for input ${name.slice(0, 100)}`);
      const { file } = input;
      const stream = await ctx.inputFiles.blobs.open(file.sha256);
      if (!stream) {
        const days = ctx.config.retentionDays;
        const expiry = days > 0 ? ` (input files are deleted after ${days} days)` : '';
        throw new NotFound(`The file of input ${name.slice(0, 100)} is gone${expiry}`);
      }
      const inline = INLINE.test(file.content_type);
      // Whatever its type, the upload is never a document of this origin: no script, no plugin, no frame.
      reply.header('content-security-policy', "default-src 'none'; sandbox");
      reply.header('x-content-type-options', 'nosniff');
      reply.header('content-type', inline ? file.content_type : 'application/octet-stream');
      reply.header('content-length', file.size);
      reply.header(
        'content-disposition',
        `${inline ? 'inline' : 'attachment'}; filename="${file.filename.replace(/[^\w.-]/g, '_')}"`,
      );
      reply.header('cache-control', 'private, max-age=300');
      return reply.send(stream);
    },
  );
}
