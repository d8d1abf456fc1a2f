import { isTerminalStatus, type RunStatus } from 'flowscale/events';
import type { ComfyGraph } from '../workflows/types';

// The run statuses and which of them are final are the wire contract's, declared once in the SDK.
export type { RunStatus };
export const isTerminal = (status: RunStatus): boolean => isTerminalStatus(status);

export interface StoredFileRef {
  sha256: string;
  size: number;
  filename: string;
  content_type: string;
}

export interface RunInput {
  /** The form field name as the client sent it. */
  path: string;
  value: string;
  url?: string;
  /** The canonical `<param>_<nodeId>` name the value was bound to. */
  name?: string;
  file?: StoredFileRef;
}

export interface RunOutput {
  filename: string;
  name: string;
  content_type: string;
  size: number;
  node_id: string;
}

export interface RunError {
  message: string;
  /** A machine code from the errors catalogue, when the server itself ended the run (RUN_TIMED_OUT). */
  code?: string;
  node_id?: string;
  node_type?: string;
}

/** Orders the server's own queue: high before normal before low, first come first served within one. */
export type RunPriority = 'low' | 'normal' | 'high';

export interface Run {
  id: string;
  workflowId: string;
  groupId: string | null;
  status: RunStatus;
  inputs: RunInput[];
  outputNames: string[];
  outputs: RunOutput[];
  progress: number;
  error: RunError | null;
  /** The patched graph; file inputs are bound at dispatch, once uploaded to the chosen backend. */
  graph: ComfyGraph;
  promptId: string;
  backendId: string | null;
  submittedAt: string | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  updatedAt: string;
  /** The project of the key that created it; only that project (and admins) can see it. */
  projectId: string;
  /** The client's `metadata` JSON object, stored as given; null when none was sent. */
  metadata: Record<string, unknown> | null;
  priority: RunPriority;
  /** Execution is bounded to this many ms once the run starts; null for no bound. */
  timeoutMs: number | null;
  /**
   * The trace context (W3C `traceparent`, as a JSON carrier) of the request that submitted it, when traces
   * are on: whichever replica places and runs it continues that trace. Never shown to clients.
   */
  traceContext?: string | null;
}

export type RunPatch = Partial<
  Pick<
    Run,
    | 'status'
    | 'outputs'
    | 'progress'
    | 'error'
    | 'backendId'
    | 'submittedAt'
    | 'startedAt'
    | 'completedAt'
    | 'promptId'
  >
>;

export interface RunEvent {
  runId: string;
  seq: number;
  type: string;
  data: Record<string, unknown>;
  ts: string;
}

/** What `GET /runs` filters on; every field narrows the list. */
export interface RunFilter {
  groupId?: string;
  statuses?: RunStatus[];
  workflowId?: string;
  /** ISO 8601, inclusive. */
  createdAfter?: string;
  /** ISO 8601, exclusive. */
  createdBefore?: string;
  /** Only this project's runs; every project's when absent (an admin's view). */
  projectId?: string;
  /** Top-level metadata keys and the text their values must equal (see `metadataFilterSql`). */
  metadata?: Array<[key: string, value: string]>;
}

export interface RunListQuery extends RunFilter {
  sortBy: 'created_at' | 'started_at' | 'completed_at';
  sortOrder: 'asc' | 'desc';
  page: number;
  pageSize: number;
}

export interface FirstEvent {
  type: string;
  data: Record<string, unknown>;
}

export interface IdempotencyClaim {
  scope: string;
  key: string;
  requestHash: string;
}

/** A project's load at one instant, as the quotas see it. */
export interface ProjectLoad {
  queued: number;
  running: number;
  /** Runs created since the start of the UTC day. */
  created: number;
  /** Input bytes counted today (`usage_daily` metric `bytes_in`). */
  bytesIn: number;
}

/**
 * What is checked and counted with a run's insert, in its transaction: the check and the insert are
 * serialised per project (across replicas on Postgres), so concurrent submissions cannot all pass it.
 */
export interface RunAdmission {
  /** The UTC day (`YYYY-MM-DD`) the run is counted on, and its start (ISO time). */
  day: string;
  dayStart: string;
  /** Added to the project's usage of `day`, committed with the run. */
  usage: Record<string, number>;
  /** Throws to refuse the run, given the project's load just before it; absent when nothing is limited. */
  check?: (load: ProjectLoad) => void;
}

export type InsertRunResult =
  | { kind: 'created'; run: Run; event: RunEvent }
  | { kind: 'replayed'; run: Run }
  | { kind: 'conflict'; runId: string };

export interface OutputRecord {
  filename: string;
  name: string;
  runId: string;
  nodeId: string;
  contentType: string | null;
  size: number | null;
  storageKey: string | null;
  ready: boolean;
}
export interface WorkflowRecord {
  id: string;
  name: string;
  description: string;
  graph: ComfyGraph;
  manifest: unknown;
  inputsJson: string;
  outputsJson: string;
  source: 'folder' | 'api';
  createdAt: string;
  updatedAt: string;
  /** The projects that may see and run it; null: shared with every project. */
  projects: string[] | null;
}
export type KeyRole = 'admin' | 'member' | 'viewer';

export interface ApiKeyRecord {
  id: string;
  name: string;
  role: KeyRole;
  prefix: string;
  keyHash: string;
  source: 'generated' | 'config' | 'api';
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  projectId: string;
  expiresAt: string | null;
}

export interface ProjectRecord {
  id: string;
  name: string;
  /** Per-project quotas (src/quotas); null: none set. */
  limits: Record<string, number> | null;
  createdAt: string;
}

export interface AuditEntry {
  id: string;
  at: string;
  /** The key that acted (null: the server itself). */
  actorId: string | null;
  actorName: string | null;
  /** e.g. `key.create`, `project.create`, `workflow.deploy`. */
  action: string;
  /** What it acted on: a key, project or workflow id. */
  target: string | null;
  projectId: string | null;
  details: Record<string, unknown> | null;
}

export interface AuditQuery {
  limit: number;
  /** Entries strictly older than this ISO time (paging). */
  before?: string;
  action?: string;
}

export interface UsageRow {
  projectId: string;
  day: string;
  metric: string;
  value: number;
}
