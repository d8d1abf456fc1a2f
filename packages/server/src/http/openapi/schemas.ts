/** Named component schemas of the OpenAPI document: every request and response body, errors included. */

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const nullable = (type: string): Schema => ({ type: [type, 'null'] });
const str = { type: 'string' };
const int = { type: 'integer' };

/** `{status: "success", data}` around `data`, plus `meta` where the route gives it. */
const success = (data: Schema, meta?: Schema): Schema => ({
  type: 'object',
  required: ['status', 'data'],
  properties: { status: { const: 'success' }, data, ...(meta ? { meta } : {}) },
});

const RUN_STATUS = { type: 'string', enum: ['queued', 'running', 'completed', 'failed', 'cancelled'] };

export const COMPONENT_SCHEMAS: Record<string, Schema> = {
  ErrorEnvelope: {
    type: 'object',
    required: ['status', 'errors', 'code'],
    properties: {
      status: { const: 'error' },
      errors: { ...str, description: 'What went wrong, for a person' },
      code: { ...str, description: 'Machine-readable code, e.g. VALIDATION_FAILED' },
      details: {
        type: 'array',
        items: { type: 'object', required: ['field', 'message'], properties: { field: str, message: str } },
      },
    },
  },
  RunError: {
    type: 'object',
    required: ['message'],
    properties: { message: str, node_id: str, node_type: str },
  },
  RunOutput: {
    type: 'object',
    required: ['filename', 'url', 'content_type', 'size', 'node_id'],
    properties: { filename: str, name: str, url: str, content_type: str, size: int, node_id: str },
  },
  RunRecord: {
    type: 'object',
    required: ['_id', 'workflow_id', 'status', 'inputs', 'output_names', 'outputs', 'progress', 'error'],
    properties: {
      _id: str,
      id: str,
      workflow_id: str,
      group_id: nullable('string'),
      status: RUN_STATUS,
      inputs: {
        type: 'array',
        items: { type: 'object', required: ['path'], properties: { path: str, value: {}, url: str } },
      },
      output_names: { type: 'array', items: str },
      outputs: { type: 'array', items: ref('RunOutput') },
      progress: { type: 'number', minimum: 0, maximum: 100 },
      error: { oneOf: [ref('RunError'), { type: 'null' }] },
      prompt_id: str,
      container: nullable('string'),
      created_at: { ...str, format: 'date-time' },
      started_at: { type: ['string', 'null'], format: 'date-time' },
      completed_at: { type: ['string', 'null'], format: 'date-time' },
      updated_at: { ...str, format: 'date-time' },
      waiting: { ...str, description: 'Why a queued run is not placed yet' },
    },
  },
  RunSubmission: {
    type: 'object',
    description: 'One part per workflow input (name or alias); files as file parts.',
    additionalProperties: { oneOf: [str, { type: 'string', contentMediaType: 'application/octet-stream' }] },
  },
  RunSubmitted: success({
    type: 'object',
    required: ['run_id', 'workflow_id', 'output_names'],
    properties: { run_id: str, workflow_id: str, output_names: { type: 'array', items: str } },
  }),
  RunEnvelope: success(ref('RunRecord')),
  RunList: success(
    {
      type: 'object',
      required: ['count', 'runs'],
      properties: {
        group_id: nullable('string'),
        count: int,
        runs: { type: 'array', items: ref('RunRecord') },
      },
    },
    {
      type: 'object',
      properties: {
        page: int,
        page_size: int,
        total_count: int,
        total_pages: int,
        sort_by: str,
        sort_order: str,
        group_id: nullable('string'),
      },
    },
  ),
  RunCancelled: success({ const: 'Run cancelled successfully' }),
  RunOutputResult: success({
    type: 'object',
    required: ['filename', 'generation_status'],
    properties: {
      filename: str,
      download_url: str,
      file_content: str,
      generation_status: { const: 'success' },
    },
  }),
  Workflow: {
    type: 'object',
    required: ['id', 'name', 'inputs', 'outputs'],
    properties: {
      id: str,
      name: str,
      description: str,
      inputs: { ...str, description: 'JSON object mapping input name to type' },
      outputs: { ...str, description: 'JSON object mapping output name to type' },
    },
  },
  WorkflowEnvelope: success(ref('Workflow')),
  WorkflowList: success({ type: 'array', items: ref('Workflow') }),
  WorkflowDeployment: {
    type: 'object',
    description: 'A workflow to deploy: its ComfyUI API graph and optional manifest',
    additionalProperties: true,
  },
  WorkflowDeleted: success({
    type: 'object',
    required: ['id', 'deleted'],
    properties: { id: str, name: str, deleted: { const: true } },
  }),
  ContainerHealth: success({
    type: 'array',
    items: {
      type: 'object',
      required: ['container', 'status'],
      properties: { container: str, status: { type: 'string', enum: ['idle', 'running', 'unreachable'] } },
    },
  }),
  ContainerQueues: success({
    type: 'array',
    items: {
      type: 'object',
      required: ['container', 'queue'],
      properties: {
        container: str,
        queue: {
          type: 'object',
          properties: { queue_running: { type: 'array' }, queue_pending: { type: 'array' } },
        },
      },
    },
  }),
  Liveness: success({ type: 'object', properties: { ok: { const: true } } }),
  Readiness: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['ready', 'unavailable'] }, reason: str },
  },
  ApiKey: {
    type: 'object',
    required: ['id', 'name', 'role'],
    properties: { id: str, name: str, role: str, project: str, prefix: str },
    additionalProperties: true,
  },
  ApiKeyList: success({ type: 'array', items: ref('ApiKey') }),
  ApiKeyRequest: {
    type: 'object',
    required: ['name'],
    properties: { name: str, role: { type: 'string', enum: ['admin', 'member', 'viewer'] }, project: str },
  },
  ApiKeyCreated: success({
    allOf: [ref('ApiKey'), { type: 'object', required: ['key'], properties: { key: str } }],
  }),
  ApiKeyRevoked: success({
    type: 'object',
    required: ['id', 'revoked'],
    properties: { id: str, revoked: { const: true } },
  }),
  UsageCounts: {
    type: 'object',
    required: ['runs', 'execution_seconds', 'bytes_in', 'bytes_out'],
    properties: {
      runs: {
        type: 'object',
        description: 'Runs created that day, and runs that ended that day by their final status',
        required: ['created', 'completed', 'failed', 'cancelled'],
        properties: { created: int, completed: int, failed: int, cancelled: int },
      },
      execution_seconds: {
        type: 'object',
        description: 'Start-to-end seconds of the runs that ended, by backend id',
        additionalProperties: { type: 'number' },
      },
      bytes_in: { ...int, description: 'Bytes of the file inputs of the runs created' },
      bytes_out: { ...int, description: 'Bytes of the output files stored for the runs that ended' },
    },
  },
  UsageDay: {
    allOf: [
      ref('UsageCounts'),
      { type: 'object', required: ['day'], properties: { day: { ...str, format: 'date' } } },
    ],
  },
  ProjectUsage: {
    type: 'object',
    required: ['project_id', 'project', 'days', 'totals'],
    properties: {
      project_id: str,
      project: { ...str, description: 'The project name' },
      days: { type: 'array', items: ref('UsageDay'), description: 'Days with any usage, oldest first' },
      totals: ref('UsageCounts'),
    },
  },
  UsageReport: success({
    type: 'object',
    required: ['from', 'to', 'projects'],
    properties: {
      from: { ...str, format: 'date' },
      to: { ...str, format: 'date' },
      projects: { type: 'array', items: ref('ProjectUsage') },
    },
  }),
};
