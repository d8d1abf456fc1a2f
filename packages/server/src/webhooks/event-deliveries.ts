import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { RunView } from '../runs/run-view';
import type { Run, RunEvent } from '../storage/records';
import type { RunStore, WebhookStore } from '../storage/stores';
import {
  isWebhookEventType,
  type WebhookDeliveryRecord,
  type WebhookEndpointRecord,
  type WebhookEventType,
} from '../storage/webhook-records';
import { runEventBody } from './payload';

export interface EventDeliveriesDeps {
  store: WebhookStore;
  runs: RunStore;
  viewRun(run: Run): Promise<RunView>;
  log: Logger;
  /** Called once deliveries were stored, to send them now rather than at the next poll. */
  wake(): void;
}

/** The project a run belongs to; runs recorded before projects existed belong to `default`. */
export const projectOf = (run: Run): string =>
  (run as Run & { projectId?: string | null }).projectId ?? 'default';

/** A message id as Standard Webhooks writes them. */
export const newMessageId = (): string => `msg_${randomUUID().replaceAll('-', '')}`;

export function newDelivery(
  endpoint: WebhookEndpointRecord,
  eventType: string,
  runId: string | null,
  payload: string,
  at: string,
  id: string = newMessageId(),
): WebhookDeliveryRecord {
  return {
    id,
    endpointId: endpoint.id,
    projectId: endpoint.projectId,
    eventType,
    runId,
    payload,
    status: 'pending',
    attempts: 0,
    step: 0,
    nextAttemptAt: at,
    lastStatusCode: null,
    lastError: null,
    createdAt: at,
    updatedAt: at,
    deliveredAt: null,
  };
}

/** Outbox rows this old are the live path's no longer: a sweep stores their deliveries. */
const SWEEP_AGE_MS = 10_000;
const SWEEP_BATCH = 100;

/**
 * Turns the run events this process persists into stored deliveries, one per endpoint that wants them.
 * The body is built once per event, from the run as stored when the deliveries are made.
 *
 * The event's commit wrote an outbox row (see migrations/webhook-outbox.ts) whenever an enabled endpoint
 * might want it; storing the deliveries takes the row. Should this process die in between, a sweep (at
 * start, then every so often, by any replica) finds the row and does it then: at least once, never lost.
 * Delivery ids are derived from the event and endpoint, so doing it twice stores nothing twice.
 */
export class EventDeliveries {
  readonly #deps: EventDeliveriesDeps;
  readonly #pending = new Set<Promise<void>>();

  constructor(deps: EventDeliveriesDeps) {
    this.#deps = deps;
  }

  /** For EventBus.onWritten: never throws, never blocks the event's other listeners. */
  readonly onEvent = (event: RunEvent): void => {
    if (!isWebhookEventType(event.type)) return;
    this.#track(this.#enqueue(event, false), event);
  };

  /** Resolves when every event handed over so far has its deliveries stored. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  /**
   * Stores the deliveries of outbox rows older than `ageMs` (0 at start: a row left then is a dead process's).
   * Returns how many events it handled.
   */
  async sweep(ageMs = SWEEP_AGE_MS): Promise<number> {
    const { store } = this.#deps;
    const before = new Date(Date.now() - ageMs).toISOString();
    let handled = 0;
    for (;;) {
      const events = await store.outboxEvents(before, SWEEP_BATCH);
      for (const event of events) await this.#enqueue(event, true);
      handled += events.length;
      if (events.length < SWEEP_BATCH) break;
    }
    await store.dropOrphanedOutbox(before);
    return handled;
  }

  #track(work: Promise<void>, event: RunEvent): void {
    const tracked = work
      .catch((error: unknown) =>
        this.#deps.log.error({ err: error, run: event.runId, type: event.type }, 'Webhook not enqueued'),
      )
      .finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  async #enqueue(event: RunEvent, swept: boolean): Promise<void> {
    const { store, runs } = this.#deps;
    const done = { runId: event.runId, seq: event.seq };
    const run = await runs.get(event.runId);
    const all = run ? await store.enabledEndpointsFor(projectOf(run), run.id) : [];
    // No endpoint now: an outbox row may still exist (one was disabled meanwhile); only a sweep, which
    // knows the row is there, spends a write on taking it.
    if (!run || all.length === 0) {
      if (swept) await store.insertDeliveries([], done);
      return;
    }
    const type = event.type as WebhookEventType;
    const endpoints = all.filter((endpoint) => endpoint.events.includes(type));
    const body =
      endpoints.length > 0 ? runEventBody(type, event.ts, await this.#deps.viewRun(run), event.data) : '';
    const at = new Date().toISOString();
    const records = endpoints.map((endpoint) =>
      newDelivery(endpoint, type, run.id, body, at, eventMessageId(event, endpoint.id)),
    );
    await store.insertDeliveries(records, done);
    if (records.length > 0) this.#deps.wake();
  }
}

/** The message id of an event's delivery to an endpoint: the same however often it is worked out. */
export const eventMessageId = (event: RunEvent, endpointId: string): string =>
  `msg_${createHash('sha256').update(`${event.runId}\n${event.seq}\n${endpointId}`).digest('hex').slice(0, 32)}`;
