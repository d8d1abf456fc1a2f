import type { FastifyError, FastifyInstance } from 'fastify';
import type { FieldProblem } from '../errors';
import type { ErrorEnvelope } from './envelope';

interface TranslatedError {
  statusCode: number;
  body: ErrorEnvelope;
}

/** Errors raised by fastify or its plugins, renamed into our codes with a message a person can act on. */
const PLUGIN_ERRORS: Record<string, (error: FastifyError) => TranslatedError> = {
  FST_INVALID_MULTIPART_CONTENT_TYPE: () =>
    fail(415, 'UNSUPPORTED_MEDIA_TYPE', 'Expected a multipart/form-data body with one part per input'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (error) => fail(415, 'UNSUPPORTED_MEDIA_TYPE', error.message),
  FST_REQ_FILE_TOO_LARGE: () =>
    fail(413, 'PAYLOAD_TOO_LARGE', 'An uploaded file is larger than the size limit'),
  FST_PARTS_LIMIT: () => fail(413, 'PAYLOAD_TOO_LARGE', 'Too many multipart parts'),
  FST_FILES_LIMIT: () => fail(413, 'PAYLOAD_TOO_LARGE', 'Too many files'),
  FST_FIELDS_LIMIT: () => fail(413, 'PAYLOAD_TOO_LARGE', 'Too many fields'),
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    fail(413, 'PAYLOAD_TOO_LARGE', 'Request body is larger than the size limit'),
  FST_PROTO_VIOLATION: () =>
    fail(400, 'MALFORMED_MULTIPART', 'Malformed multipart body: forbidden field name'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    fail(400, 'BAD_REQUEST', 'Body must be a JSON object, got an empty body'),
  FST_ERR_CTP_INVALID_JSON_BODY: (error) =>
    fail(400, 'BAD_REQUEST', `Body is not valid JSON: ${error.message}`),
};

function fail(statusCode: number, code: string, message: string, details?: FieldProblem[]): TranslatedError {
  return { statusCode, body: { status: 'error', errors: message, code, ...(details ? { details } : {}) } };
}

function fromValidation(error: FastifyError): TranslatedError {
  const details = (error.validation ?? []).map((issue) => {
    const where = error.validationContext ?? 'request';
    const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const missing = (issue.params as { missingProperty?: string }).missingProperty;
    return {
      field: `${where}${path ? `.${path}` : ''}${missing ? `.${missing}` : ''}`,
      message: issue.message ?? 'invalid',
    };
  });
  return fail(400, 'VALIDATION_ERROR', error.message, details);
}

/** A busboy parse failure surfaces as a plain Error; these messages identify it as malformed input. */
const MULTIPART_PARSE_FAILURE =
  /Unexpected end of (form|multipart data)|Boundary not found|Malformed part header|Multipart/i;

export function translateError(error: FastifyError): TranslatedError {
  if (error.validation) return fromValidation(error);
  const plugin = error.code ? PLUGIN_ERRORS[error.code] : undefined;
  if (plugin) return plugin(error);
  const statusCode = error.statusCode ?? 500;
  if (statusCode >= 400 && statusCode < 500) {
    const details = (error as FastifyError & { details?: FieldProblem[] }).details;
    return fail(statusCode, error.code ?? 'BAD_REQUEST', error.message, details);
  }
  if (MULTIPART_PARSE_FAILURE.test(error.message))
    return fail(400, 'MALFORMED_MULTIPART', `Malformed multipart body: ${error.message}`);
  return fail(statusCode, 'INTERNAL_ERROR', 'Internal server error');
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { statusCode, body } = translateError(error);
    if (statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.code, statusCode }, body.errors);
    // Retry-After is whole seconds; round up so a client that honours it never arrives early.
    const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
    if (statusCode === 429 && typeof retryAfterMs === 'number')
      reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
    // The body may be unread (rejected before or while it streamed): do not keep the connection for it.
    if ([400, 413, 429].includes(statusCode) || body.code === 'WORKFLOW_NOT_RUNNABLE')
      reply.header('connection', 'close');
    return reply.code(statusCode).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      status: 'error',
      errors: `No route ${request.method} ${request.url.split('?')[0]}`,
      code: 'NOT_FOUND',
    } satisfies ErrorEnvelope),
  );
}
