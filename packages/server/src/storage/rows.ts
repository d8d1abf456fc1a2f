import type { Selectable } from 'kysely';
import type { ComfyGraph } from '../workflows/types';
import type {
  ApiKeyRecord,
  KeyRole,
  OutputRecord,
  Run,
  RunEvent,
  RunPatch,
  RunPriority,
  RunStatus,
  WorkflowRecord,
} from './records';
import type { ApiKeysTable, OutputsTable, RunEventsTable, RunsTable, WorkflowsTable } from './schema';

// Conversions between records and rows, shared by both databases: Postgres is read with type parsers that
// hand back the same shapes SQLite stores (ISO time text, JSON text, numbers), so one mapping serves both.

export const RUN_COLUMNS: Array<keyof RunsTable> = [
  'id',
  'workflow_id',
  'group_id',
  'status',
  'inputs_json',
  'output_names_json',
  'outputs_json',
  'progress',
  'error_json',
  'graph_json',
  'prompt_id',
  'backend_id',
  'submitted_at',
  'created_at',
  'started_at',
  'completed_at',
  'updated_at',
  'project_id',
  'metadata_json',
  'priority',
  'timeout_ms',
  'trace_context',
];

export const toRun = (row: Selectable<RunsTable>): Run => ({
  id: row.id,
  workflowId: row.workflow_id,
  groupId: row.group_id,
  status: row.status as RunStatus,
  inputs: JSON.parse(row.inputs_json),
  outputNames: JSON.parse(row.output_names_json),
  outputs: JSON.parse(row.outputs_json),
  progress: row.progress,
  error: row.error_json ? JSON.parse(row.error_json) : null,
  graph: JSON.parse(row.graph_json) as ComfyGraph,
  promptId: row.prompt_id,
  backendId: row.backend_id,
  submittedAt: row.submitted_at,
  createdAt: row.created_at,
  startedAt: row.started_at,
  completedAt: row.completed_at,
  updatedAt: row.updated_at,
  projectId: row.project_id,
  metadata: row.metadata_json ? JSON.parse(row.metadata_json) : null,
  priority: (row.priority ?? 'normal') as RunPriority,
  timeoutMs: row.timeout_ms ?? null,
  traceContext: row.trace_context ?? null,
});

export const toRunRow = (run: Run): RunsTable => ({
  id: run.id,
  workflow_id: run.workflowId,
  group_id: run.groupId,
  status: run.status,
  inputs_json: JSON.stringify(run.inputs),
  output_names_json: JSON.stringify(run.outputNames),
  outputs_json: JSON.stringify(run.outputs),
  progress: run.progress,
  error_json: run.error ? JSON.stringify(run.error) : null,
  graph_json: JSON.stringify(run.graph),
  prompt_id: run.promptId,
  backend_id: run.backendId,
  submitted_at: run.submittedAt,
  created_at: run.createdAt,
  started_at: run.startedAt,
  completed_at: run.completedAt,
  updated_at: run.updatedAt,
  project_id: run.projectId,
  metadata_json: run.metadata ? JSON.stringify(run.metadata) : null,
  priority: run.priority,
  timeout_ms: run.timeoutMs,
  trace_context: run.traceContext ?? null,
});

/** The changed columns of a patch, plus `updated_at`. */
export const toPatchRow = (patch: RunPatch, now: string): Partial<RunsTable> => {
  const row: Partial<RunsTable> = { updated_at: now };
  if (patch.status !== undefined) row.status = patch.status;
  if (patch.outputs !== undefined) row.outputs_json = JSON.stringify(patch.outputs);
  if (patch.progress !== undefined) row.progress = patch.progress;
  if (patch.error !== undefined) row.error_json = patch.error ? JSON.stringify(patch.error) : null;
  if (patch.backendId !== undefined) row.backend_id = patch.backendId;
  if (patch.submittedAt !== undefined) row.submitted_at = patch.submittedAt;
  if (patch.startedAt !== undefined) row.started_at = patch.startedAt;
  if (patch.completedAt !== undefined) row.completed_at = patch.completedAt;
  if (patch.promptId !== undefined) row.prompt_id = patch.promptId;
  return row;
};

/** The node id inside an expected output name (`<param>_<nodeId>_<token>`), for its placeholder row. */
export const nodeIdOfPlaceholder = (name: string): string => name.split('_').at(-2) ?? '';

/** An event as stored and sent: its data repeats seq, run id, type and time so a client needs nothing else. */
export const newEvent = (
  runId: string,
  seq: number,
  type: string,
  data: Record<string, unknown>,
  ts: string,
): RunEvent => ({ runId, seq, type, ts, data: { ...data, seq, run_id: runId, type, ts } });

export const toEvent = (row: Selectable<RunEventsTable>): RunEvent => ({
  runId: row.run_id,
  seq: row.seq,
  type: row.type,
  ts: row.ts,
  data: JSON.parse(row.data_json),
});

export const toWorkflowRow = (record: WorkflowRecord): WorkflowsTable => ({
  id: record.id,
  name: record.name,
  description: record.description,
  graph_json: JSON.stringify(record.graph),
  manifest_json: record.manifest == null ? null : JSON.stringify(record.manifest),
  inputs_json: record.inputsJson,
  outputs_json: record.outputsJson,
  source: record.source,
  created_at: record.createdAt,
  updated_at: record.updatedAt,
  projects_json: record.projects ? JSON.stringify(record.projects) : null,
});

export const toWorkflow = (row: Selectable<WorkflowsTable>): WorkflowRecord => ({
  id: row.id,
  name: row.name,
  description: row.description,
  graph: JSON.parse(row.graph_json),
  manifest: row.manifest_json ? JSON.parse(row.manifest_json) : null,
  inputsJson: row.inputs_json,
  outputsJson: row.outputs_json,
  source: row.source as WorkflowRecord['source'],
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  projects: row.projects_json ? JSON.parse(row.projects_json) : null,
});

export const toKeyRow = (record: ApiKeyRecord): ApiKeysTable => ({
  id: record.id,
  name: record.name,
  role: record.role,
  prefix: record.prefix,
  key_hash: record.keyHash,
  source: record.source,
  created_at: record.createdAt,
  last_used_at: record.lastUsedAt,
  revoked_at: record.revokedAt,
  project_id: record.projectId,
  expires_at: record.expiresAt,
});

export const toKey = (row: Selectable<ApiKeysTable>): ApiKeyRecord => ({
  id: row.id,
  name: row.name,
  role: row.role as KeyRole,
  prefix: row.prefix,
  keyHash: row.key_hash,
  source: row.source as ApiKeyRecord['source'],
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
  projectId: row.project_id,
  expiresAt: row.expires_at,
});

export const toOutputRow = (record: OutputRecord, now: string): OutputsTable => ({
  filename: record.filename,
  name: record.name,
  run_id: record.runId,
  node_id: record.nodeId,
  content_type: record.contentType,
  size: record.size,
  storage_key: record.storageKey,
  ready: record.ready ? 1 : 0,
  created_at: now,
});

export const toOutput = (row: Selectable<OutputsTable>): OutputRecord => ({
  filename: row.filename,
  name: row.name,
  runId: row.run_id,
  nodeId: row.node_id,
  contentType: row.content_type,
  size: row.size,
  storageKey: row.storage_key,
  ready: row.ready === 1,
});
