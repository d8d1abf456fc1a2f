import createError from '@fastify/error';

export interface FieldProblem {
  field: string;
  message: string;
  /** For a workflow's graph: what kind of problem, and the node, class and input it concerns. */
  kind?: string;
  node_id?: string;
  class_type?: string;
  input?: string;
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
export const ProjectNotFound = createError('PROJECT_NOT_FOUND', 'Unknown project: %s', 404);
export const ProjectExists = createError('PROJECT_EXISTS', 'A project named %s exists already', 409);
export const KeyExpired = createError('KEY_EXPIRED', 'API key expired at %s', 401);
export const InvalidMetadata = createError('INVALID_METADATA', '%s', 400);
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
export const WebhookNotFound = createError('WEBHOOK_NOT_FOUND', 'Unknown webhook endpoint: %s', 404);
export const WebhookDeliveryNotFound = createError(
  'WEBHOOK_DELIVERY_NOT_FOUND',
  'Unknown delivery %s of webhook endpoint %s',
  404,
);
export const WebhookDisabled = createError(
  'WEBHOOK_DISABLED',
  'Webhook endpoint %s is disabled; enable it first',
  409,
);
export const InvalidWebhookUrl = createError('INVALID_WEBHOOK_URL', 'Webhook URL refused: %s', 400);
export const InvalidWebhookSecret = createError('INVALID_WEBHOOK_SECRET', 'Webhook secret %s', 400);
export const RunTimedOut = createError('RUN_TIMED_OUT', 'Run timed out after %d ms', 504);
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

const WorkflowNotRunnableBase = createError('WORKFLOW_NOT_RUNNABLE', '%s', 409);

/** No backend of the fleet can run the workflow (its status is `not_runnable`); `details` say why. */
export const workflowNotRunnable = (name: string, details: FieldProblem[]): CodedError =>
  withDetails(
    new WorkflowNotRunnableBase(
      `No backend can run workflow ${name}: ${details.map((d) => d.message).join('; ')}`,
    ),
    details,
  );

/** A 429 carrying how long to wait; the error handler turns `retryAfterMs` into a `Retry-After` header. */
export interface RetryableError extends CodedError {
  retryAfterMs: number;
}

export const tooManyRequests = (code: string, message: string, retryAfterMs: number): RetryableError =>
  Object.assign(new Error(message), { code, statusCode: 429, retryAfterMs });
