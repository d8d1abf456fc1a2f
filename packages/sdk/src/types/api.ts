// Response shapes, with the wire names of the FlowScale API (snake_case is kept on purpose).

export interface ApiResponse<T> {
  status: 'success';
  data: T;
  meta?: Record<string, unknown>;
}

export interface ContainerHealth {
  container: string;
  status: 'idle' | 'running' | 'unreachable' | (string & {});
}

export interface ContainerQueue {
  container: string;
  queue: { queue_running: unknown[][]; queue_pending: unknown[][] };
}

export interface WorkflowSummary {
  id: string;
  name: string;
  description: string;
  /** JSON string mapping input name -> type, e.g. `{ "text_51536": "string" }`. */
  inputs: string;
  /** JSON string mapping output name -> type. */
  outputs: string;
  [extra: string]: unknown;
}

export interface WorkflowField {
  name: string;
  type: string;
  required: boolean;
  default?: unknown;
  min?: number;
  max?: number;
  choices?: unknown[];
  description?: string;
  node_id: string;
  parameter: string;
}

export interface WorkflowDetail extends WorkflowSummary {
  input_schema: WorkflowField[];
  output_schema: WorkflowField[];
}

export interface DeployWorkflowBody {
  name: string;
  description?: string;
  /** The ComfyUI graph (API format). */
  workflow: Record<string, unknown>;
  manifest?: Record<string, unknown>;
}

export interface ExecuteWorkflowResponseData {
  run_id: string;
  workflow_id: string;
  /** Kept by the contract so pre-2.0 clients keep working. */
  output_names?: string[];
}

export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'error' | 'cancelled' | (string & {});

export interface RunError {
  message: string;
  node_id?: string;
  node_type?: string;
}

export interface RunOutputFile {
  filename: string;
  url?: string | null;
  content_type?: string;
  size?: number;
  node_id?: string;
}

export interface RunRecord {
  _id: string;
  workflow_id?: string;
  group_id?: string | null;
  status: RunStatus;
  inputs?: Array<{ path: string; value: unknown; url?: string | null }>;
  output_names?: string[];
  outputs?: RunOutputFile[];
  progress?: number;
  error?: RunError | null;
  created_at?: string;
  started_at?: string | null;
  completed_at?: string | null;
  [extra: string]: unknown;
}

export interface RunsPage {
  group_id?: string | null;
  count: number;
  runs: RunRecord[];
}

export interface GetRunsQuery {
  page?: number;
  pageSize?: number;
  sortBy?: 'created_at' | 'started_at' | 'completed_at';
  sortOrder?: 'asc' | 'desc';
}

export interface OutputData {
  download_url?: string;
  file_content?: string;
  generation_status: 'success' | (string & {});
}

export interface OutputEntry extends OutputData {
  filename: string;
}

/** The 2.0 result of `executeWorkflowAsync`: always an array, one entry per output. */
export type GetAllOutputsResponse = ApiResponse<OutputEntry[]>;

export interface ApiKeyRecord {
  id: string;
  name: string;
  role: 'admin' | 'user';
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface CreatedApiKey {
  id: string;
  name: string;
  role: 'admin' | 'user';
  /** The plaintext key. The server shows it only once. */
  key: string;
}

/** One event of `GET /api/v1/runs/{id}/events` (the JSON `data` of an SSE message). */
export interface RunEvent {
  seq: number;
  run_id: string;
  type:
    | 'run.queued'
    | 'run.started'
    | 'node.executing'
    | 'node.progress'
    | 'output.ready'
    | 'run.completed'
    | 'run.failed'
    | 'run.cancelled'
    | (string & {});
  status: RunStatus;
  progress?: number;
  ts: string;
  output?: { filename: string; name: string; content_type?: string; size?: number; node_id?: string };
  outputs?: Array<{
    filename: string;
    name?: string;
    content_type?: string;
    size?: number;
    node_id?: string;
  }>;
  error?: RunError;
  [extra: string]: unknown;
}

/** What `subscribeRunEvents` hands to `onEvent`: the SSE fields, with `data` parsed from JSON. */
export interface RunEventMessage {
  id: string | undefined;
  event: string | undefined;
  data: RunEvent;
}

/** From the FlowScale docs' "TypeScript Support" section; kept so code that imports it still compiles. */
export interface WorkflowResult {
  id: string;
  status: 'completed' | 'failed' | 'running';
  images?: Array<{ url: string; width: number; height: number; format: string }>;
  // biome-ignore lint/suspicious/noExplicitAny: the documented type is `any`; `unknown` would break user code
  outputs?: { [key: string]: any };
  metadata?: { executionTime: number; gpuType: string; cost: number };
}

/** From the FlowScale docs' "TypeScript Support" section; kept so code that imports it still compiles. */
export interface ExecutionOptions {
  timeout?: number;
  webhookUrl?: string;
  priority?: 'low' | 'normal' | 'high';
  // biome-ignore lint/suspicious/noExplicitAny: as documented
  metadata?: { [key: string]: any };
}
