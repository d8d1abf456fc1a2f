/** The run events a webhook subscription can ask for. */
export const WEBHOOK_EVENT_TYPES = [
  'run.started',
  'run.completed',
  'run.failed',
  'run.cancelled',
  'output.ready',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const EVENT_TYPES = new Set<string>(WEBHOOK_EVENT_TYPES);
export const isWebhookEventType = (type: string): type is WebhookEventType => EVENT_TYPES.has(type);

/** One signing secret (`whsec_…`); while several are active every message carries a signature of each. */
export interface WebhookSecret {
  secret: string;
  createdAt: string;
  /** Null: active until rotated out. */
  expiresAt: string | null;
}

export interface WebhookEndpointRecord {
  id: string;
  projectId: string;
  url: string;
  description: string;
  events: WebhookEventType[];
  /** Null for a per-run endpoint: it is signed with its project's run-webhook secrets. */
  secrets: WebhookSecret[] | null;
  /** Set for the endpoint of one run's `webhook_url`; null for a project subscription. */
  runId: string | null;
  disabledAt: string | null;
  disabledReason: string | null;
  /** When the current streak of failed attempts began; null after a success. */
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

export type WebhookEndpointPatch = Partial<
  Pick<
    WebhookEndpointRecord,
    'url' | 'description' | 'events' | 'secrets' | 'disabledAt' | 'disabledReason' | 'failingSince'
  >
>;

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveryRecord {
  /** Also the `webhook-id` header: the same on every attempt, so receivers can drop duplicates. */
  id: string;
  endpointId: string;
  projectId: string;
  eventType: string;
  runId: string | null;
  /** The exact body sent (and signed) on every attempt. */
  payload: string;
  status: WebhookDeliveryStatus;
  /** Attempts claimed so far (an attempt is counted when it is claimed, before it is sent). */
  attempts: number;
  /** Position in the retry schedule; manual redelivery starts it again. */
  step: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
}

/** A delivery this process has claimed: only the holder of `claimToken` may record its outcome. */
export interface ClaimedDelivery extends WebhookDeliveryRecord {
  claimToken: string;
  /**
   * Set when this claim replaced one that lapsed: when that claim was made. Its attempt (number
   * `attempts - 1`) went out or not, but its outcome was never recorded; the log records it as lost.
   */
  lapsedClaimAt: string | null;
}

export interface WebhookAttemptRecord {
  deliveryId: string;
  attempt: number;
  endpointId: string;
  startedAt: string;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

/** What an attempt changed on its delivery. */
export interface DeliveryOutcome {
  status: WebhookDeliveryStatus;
  step: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: string | null;
}

/** A run event's row in the webhook outbox: its deliveries may not be stored yet. */
export interface OutboxKey {
  runId: string;
  seq: number;
}

/** The start (a time) or end (null) of an endpoint's failure streak. */
export interface EndpointStreak {
  endpointId: string;
  failingSince: string | null;
}

/** A finished attempt to record: the attempts to log (a lost one first, if any), and what comes next. */
export interface AttemptToRecord {
  token: string;
  attempts: WebhookAttemptRecord[];
  outcome: DeliveryOutcome;
  /** Written in the same transaction, whether or not the attempt still held its claim. */
  streak?: EndpointStreak;
}
