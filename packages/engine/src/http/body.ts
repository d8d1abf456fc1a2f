import type { FastifyReply, FastifyRequest } from 'fastify';

export type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

/** Bodies arrive as raw buffers (see app.ts) so malformed JSON can get a clear 400 instead of a 500. */
export function parseJsonBody(req: FastifyRequest, emptyValue: unknown = undefined): Parsed {
  const raw = req.body;
  if (raw === undefined || raw === null || (Buffer.isBuffer(raw) && raw.length === 0)) {
    return { ok: true, value: emptyValue };
  }
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw);
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** ComfyUI answers "action" endpoints with 200 and an empty application/octet-stream body. */
export function sendEmpty(reply: FastifyReply, status = 200): FastifyReply {
  return reply.code(status).type('application/octet-stream').send(Buffer.alloc(0));
}

/** A 4xx with a JSON body naming the problem (ComfyUI sends these with no body at all). */
export function sendError(reply: FastifyReply, status: number, type: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { type, message } });
}

export function invalidJson(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(400).send({
    error: {
      type: 'invalid_json',
      message: 'Request body is not valid JSON',
      details: message,
      extra_info: {},
    },
    node_errors: {},
  });
}
