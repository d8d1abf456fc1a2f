import createError from '@fastify/error';

export interface FieldProblem {
  field: string;
  message: string;
}

/** An error with a machine code, an HTTP status and, for validation, the bad fields. */
export interface CodedError extends Error {
  code: string;
  statusCode: number;
  details?: FieldProblem[];
}

export const Unauthorized = createError('UNAUTHORIZED', '%s', 401);
export const Forbidden = createError('FORBIDDEN', '%s', 403);
export const WorkflowNotFound = createError('WORKFLOW_NOT_FOUND', 'Unknown workflow: %s', 404);
export const RunNotFound = createError('RUN_NOT_FOUND', 'Unknown run: %s', 404);
export const OutputNotFound = createError('OUTPUT_NOT_FOUND', '%s', 404);
export const KeyNotFound = createError('KEY_NOT_FOUND', 'Unknown or already revoked API key: %s', 404);
export const NotFound = createError('NOT_FOUND', '%s', 404);
export const BadRequest = createError('BAD_REQUEST', '%s', 400);
export const InvalidFilename = createError('INVALID_FILENAME', '%s', 400);
export const MalformedMultipart = createError('MALFORMED_MULTIPART', 'Malformed multipart body: %s', 400);
export const UnsupportedMediaType = createError('UNSUPPORTED_MEDIA_TYPE', '%s', 415);
export const PayloadTooLarge = createError('PAYLOAD_TOO_LARGE', '%s', 413);
export const IdempotencyConflict = createError(
  'IDEMPOTENCY_KEY_REUSED',
  'Idempotency-Key was already used with different inputs (run %s)',
  409,
);
export const RunAlreadyFinished = createError('RUN_ALREADY_FINISHED', 'Run %s is already %s', 409);

const InvalidInputsBase = createError('INVALID_INPUTS', '%s', 422);
const InvalidWorkflowBase = createError('INVALID_WORKFLOW', '%s', 422);

const withDetails = (error: Error, details: FieldProblem[]): CodedError =>
  Object.assign(error, { details }) as CodedError;

export const invalidInputs = (details: FieldProblem[]): CodedError =>
  withDetails(
    new InvalidInputsBase(`Invalid inputs: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`),
    details,
  );

export const invalidWorkflow = (details: FieldProblem[]): CodedError =>
  withDetails(
    new InvalidWorkflowBase(`Invalid workflow: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`),
    details,
  );

/** A 429 carrying how long to wait; the error handler turns `retryAfterMs` into a `Retry-After` header. */
export interface RetryableError extends CodedError {
  retryAfterMs: number;
}

export const tooManyRequests = (code: string, message: string, retryAfterMs: number): RetryableError =>
  Object.assign(new Error(message), { code, statusCode: 429, retryAfterMs });
