import type { ComfyGraph } from '../workflows/types';

export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set(['completed', 'failed', 'cancelled']);
export const isTerminal = (status: RunStatus): boolean => TERMINAL_STATUSES.has(status);

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
  node_id?: string;
  node_type?: string;
}

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

export interface RunListQuery {
  groupId?: string;
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

export interface RunStore {
  /**
   * Inserts the run, its expected output names and its first event (seq 1) atomically; with a claim,
   * returns the earlier run instead when the key was used.
   */
  insertRun(run: Run, firstEvent: FirstEvent, claim?: IdempotencyClaim): Promise<InsertRunResult>;
  getRun(id: string): Promise<Run | undefined>;
  listRuns(query: RunListQuery): Promise<{ runs: Run[]; total: number }>;
  listUnfinishedRuns(): Promise<Run[]>;
  updateRun(id: string, patch: RunPatch): Promise<void>;
  /** Appends the next event (seq = last + 1) and applies the patch to the run, atomically. */
  appendEvent(runId: string, type: string, data: Record<string, unknown>, patch: RunPatch): Promise<RunEvent>;
  listEvents(runId: string, fromSeq: number): Promise<RunEvent[]>;
  countRunsByStatus(): Promise<Record<string, number>>;
}

export interface OutputStore {
  saveOutputFile(record: OutputRecord): Promise<void>;
  findOutput(filenameOrName: string): Promise<OutputRecord | undefined>;
  /** Ready output files of finished runs, recorded before `cutoff` (ISO time), oldest first. */
  listExpiredOutputs(cutoff: string, limit: number): Promise<OutputRecord[]>;
  /** Forgets these output files and the still-pending placeholders of their runs. */
  deleteOutputRecords(outputs: OutputRecord[]): Promise<void>;
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
}

export interface WorkflowStore {
  upsertWorkflow(record: WorkflowRecord): Promise<WorkflowRecord>;
  getWorkflow(id: string): Promise<WorkflowRecord | undefined>;
  getWorkflowByName(name: string): Promise<WorkflowRecord | undefined>;
  listWorkflows(): Promise<WorkflowRecord[]>;
  deleteWorkflow(id: string): Promise<boolean>;
}

export type KeyRole = 'admin' | 'user';

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
}

export interface KeyStore {
  insertKey(record: ApiKeyRecord): Promise<void>;
  findKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  listKeys(): Promise<ApiKeyRecord[]>;
  revokeKey(id: string, at: string): Promise<boolean>;
  revokeConfigKeysExcept(keepHashes: string[], at: string): Promise<void>;
  touchKey(id: string, at: string): Promise<void>;
  countUsableKeys(): Promise<number>;
}

export interface InputFileStore {
  recordInputFile(file: StoredFileRef): Promise<void>;
  deleteInputFileRecord(sha256: string): Promise<void>;
}

export interface SettingsStore {
  getSetting(key: string): Promise<string | undefined>;
  setSettingIfAbsent(key: string, value: string): Promise<string>;
}

/** Everything the server persists. SQLite implements it today; a Postgres implementation can satisfy it later. */
export interface Storage
  extends RunStore,
    OutputStore,
    WorkflowStore,
    KeyStore,
    InputFileStore,
    SettingsStore {
  close(): Promise<void>;
}
