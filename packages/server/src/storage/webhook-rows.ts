import type { Selectable } from 'kysely';
import type { WebhookAttemptsTable, WebhookDeliveriesTable, WebhookEndpointsTable } from './schema';
import type {
  WebhookAttemptRecord,
  WebhookDeliveryRecord,
  WebhookDeliveryStatus,
  WebhookEndpointPatch,
  WebhookEndpointRecord,
  WebhookEventType,
  WebhookSecret,
} from './webhook-records';

// Records <-> rows for the webhook tables, shared by both databases (see rows.ts for why one mapping fits).

interface SecretJson {
  secret: string;
  created_at: string;
  expires_at: string | null;
}

export const secretsToJson = (secrets: WebhookSecret[]): string =>
  JSON.stringify(
    secrets.map((s): SecretJson => ({ secret: s.secret, created_at: s.createdAt, expires_at: s.expiresAt })),
  );

export const secretsFromJson = (text: string): WebhookSecret[] =>
  (JSON.parse(text) as SecretJson[]).map((s) => ({
    secret: s.secret,
    createdAt: s.created_at,
    expiresAt: s.expires_at,
  }));

export const toEndpoint = (row: Selectable<WebhookEndpointsTable>): WebhookEndpointRecord => ({
  id: row.id,
  projectId: row.project_id,
  url: row.url,
  description: row.description,
  events: JSON.parse(row.events_json) as WebhookEventType[],
  secrets: row.secrets_json === null ? null : secretsFromJson(row.secrets_json),
  runId: row.run_id,
  disabledAt: row.disabled_at,
  disabledReason: row.disabled_reason,
  failingSince: row.failing_since,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export const toEndpointRow = (record: WebhookEndpointRecord): WebhookEndpointsTable => ({
  id: record.id,
  project_id: record.projectId,
  url: record.url,
  description: record.description,
  events_json: JSON.stringify(record.events),
  secrets_json: record.secrets === null ? null : secretsToJson(record.secrets),
  run_id: record.runId,
  disabled_at: record.disabledAt,
  disabled_reason: record.disabledReason,
  failing_since: record.failingSince,
  created_at: record.createdAt,
  updated_at: record.updatedAt,
});

export function toEndpointPatchRow(patch: WebhookEndpointPatch): Partial<WebhookEndpointsTable> {
  const row: Partial<WebhookEndpointsTable> = {};
  if (patch.url !== undefined) row.url = patch.url;
  if (patch.description !== undefined) row.description = patch.description;
  if (patch.events !== undefined) row.events_json = JSON.stringify(patch.events);
  if (patch.secrets !== undefined) row.secrets_json = patch.secrets ? secretsToJson(patch.secrets) : null;
  if (patch.disabledAt !== undefined) row.disabled_at = patch.disabledAt;
  if (patch.disabledReason !== undefined) row.disabled_reason = patch.disabledReason;
  if (patch.failingSince !== undefined) row.failing_since = patch.failingSince;
  return row;
}

export const toDelivery = (row: Selectable<WebhookDeliveriesTable>): WebhookDeliveryRecord => ({
  id: row.id,
  endpointId: row.endpoint_id,
  projectId: row.project_id,
  eventType: row.event_type,
  runId: row.run_id,
  payload: row.payload_json,
  status: row.status as WebhookDeliveryStatus,
  attempts: Number(row.attempts),
  step: Number(row.step),
  nextAttemptAt: row.next_attempt_at,
  lastStatusCode: row.last_status_code,
  lastError: row.last_error,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  deliveredAt: row.delivered_at,
});

export const toDeliveryRow = (record: WebhookDeliveryRecord): WebhookDeliveriesTable => ({
  id: record.id,
  endpoint_id: record.endpointId,
  project_id: record.projectId,
  event_type: record.eventType,
  run_id: record.runId,
  payload_json: record.payload,
  status: record.status,
  attempts: record.attempts,
  step: record.step,
  next_attempt_at: record.nextAttemptAt,
  claimed_until: null,
  claim_token: null,
  last_status_code: record.lastStatusCode,
  last_error: record.lastError,
  created_at: record.createdAt,
  updated_at: record.updatedAt,
  delivered_at: record.deliveredAt,
  lapsed_claim_at: null,
});

export const toAttempt = (row: Selectable<WebhookAttemptsTable>): WebhookAttemptRecord => ({
  deliveryId: row.delivery_id,
  attempt: Number(row.attempt),
  endpointId: row.endpoint_id,
  startedAt: row.started_at,
  statusCode: row.status_code,
  latencyMs: Number(row.latency_ms),
  error: row.error,
});

export const toAttemptRow = (record: WebhookAttemptRecord): WebhookAttemptsTable => ({
  delivery_id: record.deliveryId,
  attempt: record.attempt,
  endpoint_id: record.endpointId,
  started_at: record.startedAt,
  status_code: record.statusCode,
  latency_ms: Math.round(record.latencyMs),
  error: record.error,
});
