// Response shapes, with the wire names of the FlowScale API (snake_case is kept on purpose).

import type { ErrorDetail } from '../core/errors';
import type { RunError, RunEvent, RunStatus } from '../events/types';

export interface ApiResponse<T> {
  status: 'success';
  data: T;
  meta?: Record<string, unknown>;
}

export interface ContainerHealth {
  container: string;
  status: 'idle' | 'running' | 'unreachable' | (string & {});
  /** Self-hosted server only: when the backend's inventory was last read (null: never). */
  inventory_read_at?: string | null;
  /** Why the last inventory read failed. */
  inventory_error?: string;
  node_count?: number | null;
  /** Model files per models folder. */
  models?: Record<string, number> | null;
  devices?: Array<{ name: string; type: string; vram_total: number | null; vram_free: number | null }> | null;
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
  /** Self-hosted server only: whether some backend can run it (`unknown` before any inventory). */
  status?: 'runnable' | 'not_runnable' | 'unknown' | (string & {});
  status_reasons?: ErrorDetail[];
  runnable_on?: string[];
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
  /** Another name the server accepts for this input (from the workflow's manifest). */
  alias?: string;
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
  /** This server's RunStatus; FlowScale's hosted API also reports `error`. */
  status: RunStatus | 'error' | (string & {});
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

/** `admin`: everything, every project; `member`: run, read, cancel in its project; `viewer`: read in its project. */
export type ApiKeyRole = 'admin' | 'member' | 'viewer';

export interface ApiKeyRecord {
  id: string;
  name: string;
  role: ApiKeyRole;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  project_id: string;
  /** The project's name. */
  project: string;
  expires_at: string | null;
}

export interface CreateApiKeyBody {
  name: string;
  /** `user` (the role before projects) is taken as `member`. Default `member`. */
  role?: ApiKeyRole | 'user';
  /** Project name or id; the default project when absent. */
  project?: string;
  /** ISO-8601 time after which the key is refused. */
  expires_at?: string;
}

export interface ProjectRecord {
  id: string;
  name: string;
  limits: Record<string, number>;
  created_at: string;
}

export interface AuditRecord {
  id: string;
  at: string;
  actor: { key_id: string | null; name: string | null };
  action: string;
  target: string | null;
  project_id: string | null;
  details: Record<string, unknown> | null;
}

/** One project's usage for one UTC day, or summed over a range (`totals`). */
export interface UsageCounts {
  /** Runs created that day, and runs that ended that day by their final status. */
  runs: { created: number; completed: number; failed: number; cancelled: number };
  /** Start-to-end seconds of the runs that ended, by backend id. */
  execution_seconds: Record<string, number>;
  /** Bytes of the file inputs (uploaded or fetched by URL) of the runs created. */
  bytes_in: number;
  /** Bytes of the output files stored for the runs that ended. */
  bytes_out: number;
}

export interface ProjectUsage {
  project_id: string;
  /** The project's name. */
  project: string;
  /** Days with any usage, oldest first. */
  days: Array<{ day: string } & UsageCounts>;
  totals: UsageCounts;
}

/** `GET /api/v1/usage`: per project, per UTC day from `from` to `to` (inclusive, `YYYY-MM-DD`). */
export interface UsageReport {
  from: string;
  to: string;
  projects: ProjectUsage[];
}

export interface UsageQuery {
  /** First day, `YYYY-MM-DD` (default: 29 days before `to`). */
  from?: string;
  /** Last day, inclusive (default: today, UTC). */
  to?: string;
  /** Project name or id: any for an admin key; a member's or viewer's own only. */
  project?: string;
}

export interface CreatedApiKey {
  id: string;
  name: string;
  role: ApiKeyRole;
  project: string;
  project_id: string;
  prefix: string;
  expires_at: string | null;
  /** The plaintext key. The server shows it only once. */
  key: string;
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

/**
 * The filter of `GET /api/v1/runs` on the self-hosted server (query parameters, wire names). One shape for
 * the dashboard's runs table, its URL, and any client that lists runs.
 */
export interface RunListFilter {
  group_id?: string;
  /** One status, or several separated by commas. */
  status?: string;
  /** A workflow id or name. */
  workflow_id?: string;
  /** ISO 8601: runs created at or after. */
  created_after?: string;
  /** ISO 8601: runs created before. */
  created_before?: string;
}
