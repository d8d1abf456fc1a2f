import type { RunOutputFile, RunRecord } from '../types/api';

// The webhook wire contract: what the server sends, and what its admin API answers. The server imports
// these instead of declaring its own.

/** The run events a subscription can filter on. */
export type WebhookEventType =
  | 'run.started'
  | 'run.completed'
  | 'run.failed'
  | 'run.cancelled'
  | 'output.ready';

/** A file output in a webhook body: `download_url` is signed and expires (like `url`). */
export interface WebhookRunOutput extends RunOutputFile {
  download_url: string;
}

/** The run record as a webhook carries it. */
export interface WebhookRun extends RunRecord {
  outputs: WebhookRunOutput[];
}

/** The JSON body of every webhook (Standard Webhooks envelope: type, timestamp, data). */
export interface WebhookPayload {
  /** A run event type, or `webhook.test` for a test event. */
  type: WebhookEventType | 'webhook.test';
  /** When the event happened (ISO 8601). */
  timestamp: string;
  data: {
    /** Absent only in a test event. */
    run?: WebhookRun;
    /** The file that became ready (`output.ready` only). */
    output?: WebhookRunOutput;
    message?: string;
  };
}

/** A signing secret as the admin API lists it: never the secret itself after creation. */
export interface WebhookSecretInfo {
  prefix: string;
  created_at: string;
  /** Null: active until rotated out; otherwise the end of its overlap with the newer secret. */
  expires_at: string | null;
}

export interface WebhookEndpoint {
  id: string;
  project_id: string;
  url: string;
  description: string;
  events: WebhookEventType[];
  /** The run this endpoint belongs to (a `webhook_url` given at submission); null for a subscription. */
  run_id: string | null;
  enabled: boolean;
  disabled_at: string | null;
  disabled_reason: string | null;
  /** Since when every attempt has failed; null while it is healthy. */
  failing_since: string | null;
  secrets: WebhookSecretInfo[];
  created_at: string;
  updated_at: string;
}

/** The answer to creating an endpoint or rotating its secret: the new secret, shown this once. */
export interface WebhookEndpointWithSecret extends WebhookEndpoint {
  secret: string;
}

export interface CreateWebhookBody {
  url: string;
  events?: WebhookEventType[];
  description?: string;
  /** Defaults to the `default` project. */
  project?: string;
  /** Your own `whsec_…` secret; one is generated when absent. */
  secret?: string;
}

export interface UpdateWebhookBody {
  url?: string;
  events?: WebhookEventType[];
  description?: string;
  /** true re-enables a disabled endpoint; false disables it. */
  enabled?: boolean;
}

export interface WebhookAttempt {
  attempt: number;
  started_at: string;
  /**
   * Null when no HTTP answer came (refused, timed out, unreachable), or none was recorded: the server
   * stopped mid-attempt (`error` then starts `no outcome recorded`), and the next attempt sent it again.
   */
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

export interface WebhookDelivery {
  /** Also the `webhook-id` header of every attempt. */
  id: string;
  endpoint_id: string;
  event_type: string;
  run_id: string | null;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
  attempt_log: WebhookAttempt[];
}

/** The project's secret for per-run `webhook_url` deliveries. */
export interface RunWebhookSecret {
  project_id: string;
  secrets: WebhookSecretInfo[];
  /** Present right after a rotation or on first creation only. */
  secret?: string;
}
