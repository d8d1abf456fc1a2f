import type {
  RunWebhookSecret,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookSecretInfo,
} from 'flowscale/webhooks';
import type { WebhookEndpointRecord, WebhookSecret } from '../storage/webhook-records';
import { activeSecrets, secretPrefix } from './secrets';
import type { DeliveryWithAttempts } from './webhook-service';

const secretInfo = (secrets: readonly WebhookSecret[]): WebhookSecretInfo[] =>
  activeSecrets(secrets, Date.now()).map((s) => ({
    prefix: secretPrefix(s.secret),
    created_at: s.createdAt,
    expires_at: s.expiresAt,
  }));

/** An endpoint as the admin API shows it: its secrets by prefix only. */
export const toEndpointView = (endpoint: WebhookEndpointRecord): WebhookEndpoint => ({
  id: endpoint.id,
  project_id: endpoint.projectId,
  url: endpoint.url,
  description: endpoint.description,
  events: endpoint.events,
  run_id: endpoint.runId,
  enabled: endpoint.disabledAt === null,
  disabled_at: endpoint.disabledAt,
  disabled_reason: endpoint.disabledReason,
  failing_since: endpoint.failingSince,
  secrets: endpoint.secrets ? secretInfo(endpoint.secrets) : [],
  created_at: endpoint.createdAt,
  updated_at: endpoint.updatedAt,
});

export const toDeliveryView = ({ delivery, attempts }: DeliveryWithAttempts): WebhookDelivery => ({
  id: delivery.id,
  endpoint_id: delivery.endpointId,
  event_type: delivery.eventType,
  run_id: delivery.runId,
  status: delivery.status,
  attempts: attempts.length,
  next_attempt_at: delivery.status === 'pending' ? delivery.nextAttemptAt : null,
  last_status_code: delivery.lastStatusCode,
  last_error: delivery.lastError,
  created_at: delivery.createdAt,
  delivered_at: delivery.deliveredAt,
  attempt_log: attempts.map((attempt) => ({
    attempt: attempt.attempt,
    started_at: attempt.startedAt,
    status_code: attempt.statusCode,
    latency_ms: attempt.latencyMs,
    error: attempt.error,
  })),
});

export const toRunSecretView = (
  projectId: string,
  secrets: readonly WebhookSecret[],
  reveal: boolean,
): RunWebhookSecret => {
  const active = activeSecrets(secrets, Date.now());
  return {
    project_id: projectId,
    secrets: secretInfo(secrets),
    ...(reveal && active[0] ? { secret: active[0].secret } : {}),
  };
};
