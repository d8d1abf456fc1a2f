/** Row shapes as stored in SQL. JSON columns hold serialized text so any SQL database can store them. */
export interface RunsTable {
  id: string;
  workflow_id: string;
  group_id: string | null;
  status: string;
  inputs_json: string;
  output_names_json: string;
  outputs_json: string;
  progress: number;
  error_json: string | null;
  graph_json: string;
  prompt_id: string;
  backend_id: string | null;
  submitted_at: string | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  updated_at: string;
}

export interface RunEventsTable {
  run_id: string;
  seq: number;
  type: string;
  data_json: string;
  ts: string;
}

export interface WorkflowsTable {
  id: string;
  name: string;
  description: string;
  graph_json: string;
  manifest_json: string | null;
  inputs_json: string;
  outputs_json: string;
  source: string;
  created_at: string;
  updated_at: string;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  role: string;
  prefix: string;
  key_hash: string;
  source: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  request_hash: string;
  run_id: string;
  created_at: string;
}

export interface OutputsTable {
  filename: string;
  name: string;
  run_id: string;
  node_id: string;
  content_type: string | null;
  size: number | null;
  storage_key: string | null;
  ready: number;
  created_at: string;
}

export interface InputFilesTable {
  sha256: string;
  size: number;
  content_type: string;
  original_name: string;
  created_at: string;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface Database {
  runs: RunsTable;
  run_events: RunEventsTable;
  workflows: WorkflowsTable;
  api_keys: ApiKeysTable;
  idempotency_keys: IdempotencyKeysTable;
  outputs: OutputsTable;
  input_files: InputFilesTable;
  settings: SettingsTable;
}
