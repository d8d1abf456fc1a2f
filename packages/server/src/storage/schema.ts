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
  project_id: string;
  metadata_json: string | null;
  priority: string;
  timeout_ms: number | null;
  trace_context: string | null;
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
  projects_json: string | null;
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
  project_id: string;
  expires_at: string | null;
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

export interface WebhookEndpointsTable {
  id: string;
  project_id: string;
  url: string;
  description: string;
  events_json: string;
  secrets_json: string | null;
  run_id: string | null;
  disabled_at: string | null;
  disabled_reason: string | null;
  failing_since: string | null;
  created_at: string;
  updated_at: string;
}

export interface WebhookSigningSecretsTable {
  project_id: string;
  secrets_json: string;
  updated_at: string;
}

export interface WebhookDeliveriesTable {
  id: string;
  endpoint_id: string;
  project_id: string;
  event_type: string;
  run_id: string | null;
  payload_json: string;
  status: string;
  attempts: number;
  step: number;
  next_attempt_at: string | null;
  claimed_until: string | null;
  claim_token: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
  /** When a claim that lapsed was made (its attempt's outcome was never recorded); set by the next claim. */
  lapsed_claim_at: string | null;
}

/** Run events whose webhook deliveries may not be stored yet (see migrations/webhook-outbox.ts). */
export interface WebhookOutboxTable {
  run_id: string;
  seq: number;
  created_at: string;
}

export interface WebhookAttemptsTable {
  delivery_id: string;
  attempt: number;
  endpoint_id: string;
  started_at: string;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

export interface ProjectsTable {
  id: string;
  name: string;
  limits_json: string | null;
  created_at: string;
}

export interface AuditLogTable {
  id: string;
  at: string;
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  target: string | null;
  project_id: string | null;
  details_json: string | null;
}

export interface UsageDailyTable {
  project_id: string;
  day: string;
  metric: string;
  value: number;
}

export interface UsageRunsTable {
  run_id: string;
  project_id: string;
  counted_at: string;
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
  webhook_endpoints: WebhookEndpointsTable;
  webhook_signing_secrets: WebhookSigningSecretsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  webhook_outbox: WebhookOutboxTable;
  projects: ProjectsTable;
  audit_log: AuditLogTable;
  usage_daily: UsageDailyTable;
  usage_runs: UsageRunsTable;
}
