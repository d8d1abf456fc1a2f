/**
 * Per operation: its operationId, whether it needs a key, and its success bodies. Error bodies are added
 * for every operation from the statuses the route declares (or the usual ones).
 */
export interface Operation {
  operationId: string;
  public?: boolean;
  /** Status → component name (or null for no body); content type defaults to JSON. */
  responses: Record<string, { schema: string | null; description: string; type?: string }>;
  /** Component of the request body, with its content type. */
  body?: { schema: string; type: string };
}

const json = (schema: string, description: string) => ({ schema, description });

export const OPERATIONS: Record<string, Operation> = {
  'GET /healthz': { operationId: 'getLiveness', public: true, responses: { 200: json('Liveness', 'Alive') } },
  'GET /readyz': {
    operationId: 'getReadiness',
    public: true,
    responses: { 200: json('Readiness', 'The database answers'), 503: json('Readiness', 'Not ready') },
  },
  'GET /api/v1/comfy/health': {
    operationId: 'getContainerHealth',
    responses: { 200: json('ContainerHealth', 'Each backend container and its status') },
  },
  'GET /api/v1/comfy/queue': {
    operationId: 'getContainerQueues',
    responses: { 200: json('ContainerQueues', "Each backend's queue") },
  },
  'GET /api/v1/comfy/workflows': {
    operationId: 'listWorkflows',
    responses: { 200: json('WorkflowList', 'Deployed workflows') },
  },
  'GET /api/v1/comfy/workflows/{id}': {
    operationId: 'getWorkflow',
    responses: { 200: json('WorkflowEnvelope', 'One workflow') },
  },
  'POST /api/v1/runs': {
    operationId: 'createRun',
    body: { schema: 'RunSubmission', type: 'multipart/form-data' },
    responses: {
      201: json('RunSubmitted', 'The run was created'),
      200: json('RunSubmitted', 'Replayed: the same Idempotency-Key and inputs'),
    },
  },
  'GET /api/v1/runs': { operationId: 'listRuns', responses: { 200: json('RunList', 'A page of runs') } },
  'GET /api/v1/runs/{id}': {
    operationId: 'getRun',
    responses: { 200: json('RunEnvelope', 'The run record') },
  },
  'POST /api/v1/runs/{id}/cancel': {
    operationId: 'cancelRun',
    responses: { 200: json('RunCancelled', 'Cancelled') },
  },
  'GET /api/v1/runs/output': {
    operationId: 'getRunOutput',
    responses: {
      200: json('RunOutputResult', 'The output is ready'),
      204: { schema: null, description: 'Not ready yet' },
    },
  },
  'GET /api/v1/files/{filename}': {
    operationId: 'downloadFile',
    public: true,
    responses: {
      200: {
        schema: null,
        description: 'The file (authorised by its signed URL)',
        type: 'application/octet-stream',
      },
      206: {
        schema: null,
        description: 'The one byte range a `Range: bytes=…` header asked for, with Content-Range',
        type: 'application/octet-stream',
      },
    },
  },
  'GET /api/v1/runs/{id}/events': {
    operationId: 'streamRunEvents',
    responses: { 200: { schema: null, description: 'Server-sent events', type: 'text/event-stream' } },
  },
  'POST /api/v1/admin/workflows': {
    operationId: 'deployWorkflow',
    body: { schema: 'WorkflowDeployment', type: 'application/json' },
    responses: {
      201: json('WorkflowEnvelope', 'Deployed'),
      200: json('WorkflowEnvelope', 'Replaced an existing deployment'),
    },
  },
  'DELETE /api/v1/admin/workflows/{id}': {
    operationId: 'deleteWorkflow',
    responses: { 200: json('WorkflowDeleted', 'Deleted') },
  },
  'GET /api/v1/admin/keys': {
    operationId: 'listApiKeys',
    responses: { 200: json('ApiKeyList', 'API keys') },
  },
  'POST /api/v1/admin/keys': {
    operationId: 'createApiKey',
    body: { schema: 'ApiKeyRequest', type: 'application/json' },
    responses: { 201: json('ApiKeyCreated', 'The key, shown only here') },
  },
  'DELETE /api/v1/admin/keys/{id}': {
    operationId: 'revokeApiKey',
    responses: { 200: json('ApiKeyRevoked', 'Revoked') },
  },
  'GET /api/v1/usage': {
    operationId: 'getUsage',
    responses: { 200: json('UsageReport', 'Usage per project and UTC day, with totals') },
  },
};

export const ERROR_DESCRIPTIONS: Record<string, string> = {
  400: 'Bad request',
  401: 'Missing or wrong API key',
  403: 'The key may not do this',
  404: 'Not found',
  409: 'Conflict',
  413: 'Too large',
  415: 'Unsupported media type',
  422: 'Invalid inputs',
  429: 'Rate limited or queue full (see Retry-After)',
  500: 'Server fault',
  503: 'Unavailable',
};
