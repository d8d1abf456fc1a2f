import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { WebhookStore } from '../storage/stores';
import type { ClaimedDelivery, EndpointStreak, WebhookEndpointRecord } from '../storage/webhook-records';
import { lostAttempt, outcomeOf } from './attempt-outcome';
import { AttemptRecorder } from './attempt-recorder';
import { signatureHeader } from './secrets';
import { type SendResult, sendWebhook } from './sender';

export interface DeliverySettings {
  /** The delay before each attempt, in ms; its length is the number of attempts. */
  scheduleMs: readonly number[];
  timeoutMs: number;
  disableAfterMs: number;
  pollIntervalMs: number;
  allowPrivate: boolean;
}

export interface WorkerDeps {
  store: WebhookStore;
  log: Logger;
  settings: DeliverySettings;
  /** The secrets that sign the endpoint's messages now (a per-run endpoint's are its project's). */
  signingSecrets(endpoint: WebhookEndpointRecord): Promise<string[]>;
}

/** Attempts in flight per process: enough to keep slow receivers from holding up the rest. */
const MAX_IN_FLIGHT = 64;
/**
 * A claim lasts this long and is renewed every third of it while its attempt is in flight, however long the
 * attempt's timeout: a process that dies mid-attempt holds its deliveries for at most this long.
 */
const LEASE_MS = 10_000;
/** On shutdown, how long attempts in flight may take to finish and be recorded. */
const STOP_GRACE_MS = 2000;
/** Retry wake-ups are gathered into slots this long: at most this much later, far fewer claims. */
const WAKE_SLOT_MS = 10;
/** Endpoints are read once per this long, not once per attempt; a change reaches sending within it. */
const ENDPOINT_CACHE_MS = 1000;

/**
 * Sends due deliveries: claims them from the store (so any number of processes can share the queue), signs
 * and POSTs each, and records the attempt and what comes next. Woken at once when this process enqueues,
 * by a timer when a retry is due soon, and by a poll for work other processes left or scheduled.
 */
export class DeliveryWorker {
  readonly #deps: WorkerDeps;
  #inFlight = 0;
  #pumping = false;
  #again = false;
  #stopped = true;
  #poll: NodeJS.Timeout | undefined;
  #renew: NodeJS.Timeout | undefined;
  /** The claims of the attempts in flight, by delivery id, kept alive by #renewClaims. */
  readonly #held = new Map<string, string>();
  readonly #recorder: AttemptRecorder;
  /** Retry timers by the slot they fire at. */
  readonly #timers = new Map<number, NodeJS.Timeout>();
  readonly #attempts = new Set<Promise<void>>();
  readonly #endpoints = new Map<string, { endpoint: WebhookEndpointRecord | undefined; readAt: number }>();
  readonly #reading = new Map<string, Promise<WebhookEndpointRecord | undefined>>();

  constructor(deps: WorkerDeps) {
    this.#deps = deps;
    this.#recorder = new AttemptRecorder(deps.store);
  }

  start(): void {
    this.#stopped = false;
    this.#poll = setInterval(() => this.kick(), this.#deps.settings.pollIntervalMs);
    this.#poll.unref();
    this.#renew = setInterval(() => void this.#renewClaims(), LEASE_MS / 3);
    this.#renew.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#poll);
    clearInterval(this.#renew);
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    // Attempts still waiting on a slow receiver are not waited for long: their claims lapse and another
    // process (or the next start) sends them again, with the same webhook-id.
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise((resolve) => {
      timer = setTimeout(resolve, STOP_GRACE_MS);
    });
    await Promise.race([Promise.allSettled([...this.#attempts]), grace]);
    clearTimeout(timer);
  }

  /** Look for due deliveries now. */
  kick(): void {
    if (this.#stopped) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    void this.#pump()
      .catch((error: unknown) => this.#deps.log.warn({ err: error }, 'Webhook delivery queue unavailable'))
      .finally(() => {
        this.#pumping = false;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  async #pump(): Promise<void> {
    const { store } = this.#deps;
    while (!this.#stopped && this.#inFlight < MAX_IN_FLIGHT) {
      const now = Date.now();
      const claimed = await store.claimDue(
        new Date(now).toISOString(),
        MAX_IN_FLIGHT - this.#inFlight,
        new Date(now + LEASE_MS).toISOString(),
        randomUUID(),
      );
      if (claimed.length === 0) return;
      for (const delivery of claimed) this.#track(delivery);
    }
  }

  #track(delivery: ClaimedDelivery): void {
    this.#inFlight++;
    this.#held.set(delivery.id, delivery.claimToken);
    const attempt = this.#attempt(delivery)
      .catch((error: unknown) =>
        this.#deps.log.warn({ err: error, delivery: delivery.id }, 'Webhook attempt not recorded'),
      )
      .finally(() => {
        this.#inFlight--;
        this.#held.delete(delivery.id);
        this.#attempts.delete(attempt);
        // Claims go in batches: look again once half the slots are free (or all, for a lone attempt).
        if (this.#inFlight <= MAX_IN_FLIGHT / 2) this.kick();
      });
    this.#attempts.add(attempt);
  }

  async #attempt(delivery: ClaimedDelivery): Promise<void> {
    const endpoint = await this.#endpoint(delivery.endpointId);
    // A deleted endpoint took its deliveries with it.
    if (!endpoint) return;
    const startedAt = new Date();
    // A disabled endpoint gets nothing; the attempt is recorded as refused, so the log says why.
    const result: SendResult = endpoint.disabledAt
      ? { statusCode: null, latencyMs: 0, error: `endpoint disabled: ${endpoint.disabledReason}` }
      : await this.#send(endpoint, delivery, startedAt);
    const now = Date.now();
    const outcome = endpoint.disabledAt
      ? {
          ...outcomeOf(delivery, result, now, this.#deps.settings.scheduleMs),
          status: 'failed' as const,
          nextAttemptAt: null,
        }
      : outcomeOf(delivery, result, now, this.#deps.settings.scheduleMs);
    const current = {
      deliveryId: delivery.id,
      attempt: delivery.attempts,
      endpointId: endpoint.id,
      startedAt: startedAt.toISOString(),
      statusCode: result.statusCode,
      latencyMs: result.latencyMs,
      error: result.error,
    };
    const streak = endpoint.disabledAt ? undefined : this.#streak(endpoint, result, now);
    const recorded = await this.#recorder.record({
      token: delivery.claimToken,
      attempts: [...lostAttempt(delivery, endpoint.id), current],
      outcome,
      ...(streak ? { streak } : {}),
    });
    if (!recorded || endpoint.disabledAt) return;
    await this.#disableIfDead(endpoint, result, now);
    if (outcome.nextAttemptAt) this.#wakeAt(Date.parse(outcome.nextAttemptAt));
  }

  /** Keeps the claims of attempts in flight; one that lapses anyway is sent again (at least once). */
  async #renewClaims(): Promise<void> {
    if (this.#held.size === 0) return;
    const claims = [...this.#held].map(([id, token]) => ({ id, token }));
    try {
      await this.#deps.store.extendClaims(claims, new Date(Date.now() + LEASE_MS).toISOString());
    } catch (error) {
      this.#deps.log.warn({ err: error }, 'Webhook claims not renewed');
    }
  }

  async #endpoint(id: string): Promise<WebhookEndpointRecord | undefined> {
    const cached = this.#endpoints.get(id);
    // Only a usable endpoint is taken from the cache: one re-enabled a moment ago must not be refused.
    const usable = cached?.endpoint && !cached.endpoint.disabledAt;
    if (cached && usable && Date.now() - cached.readAt < ENDPOINT_CACHE_MS) return cached.endpoint;
    // The attempts to one endpoint that find its copy stale together share one read.
    let reading = this.#reading.get(id);
    if (!reading) {
      reading = this.#deps.store.getEndpoint(id).finally(() => this.#reading.delete(id));
      this.#reading.set(id, reading);
    }
    const endpoint = await reading;
    if (this.#endpoints.size > 10_000) this.#endpoints.clear();
    this.#endpoints.set(id, { endpoint, readAt: Date.now() });
    return endpoint;
  }

  /** Applies what this process wrote to its cached copy, so the next attempt does not write it again. */
  #remember(endpoint: WebhookEndpointRecord, patch: Partial<WebhookEndpointRecord>): void {
    const cached = this.#endpoints.get(endpoint.id);
    if (cached?.endpoint) cached.endpoint = { ...cached.endpoint, ...patch };
  }

  async #send(endpoint: WebhookEndpointRecord, delivery: ClaimedDelivery, at: Date): Promise<SendResult> {
    const secrets = await this.#deps.signingSecrets(endpoint);
    const headers = {
      'webhook-id': delivery.id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signatureHeader(secrets, delivery.id, at, delivery.payload),
    };
    const { allowPrivate, timeoutMs } = this.#deps.settings;
    return sendWebhook(endpoint.url, headers, delivery.payload, { allowPrivate, timeoutMs });
  }

  /**
   * A success ends the endpoint's failure streak, a first failure starts one: the change is written with
   * the attempt's record (same transaction), not on its own.
   */
  #streak(endpoint: WebhookEndpointRecord, result: SendResult, now: number): EndpointStreak | undefined {
    const code = result.statusCode;
    if (code !== null && code >= 200 && code < 300) {
      if (!endpoint.failingSince) return undefined;
      this.#remember(endpoint, { failingSince: null });
      return { endpointId: endpoint.id, failingSince: null };
    }
    if (endpoint.failingSince || code === 410) return undefined;
    this.#remember(endpoint, { failingSince: iso(now) });
    return { endpointId: endpoint.id, failingSince: iso(now) };
  }

  /** A 410, or failing for too long, disables the endpoint and gives up its pending deliveries. */
  async #disableIfDead(endpoint: WebhookEndpointRecord, result: SendResult, now: number): Promise<void> {
    const { store, settings, log } = this.#deps;
    const code = result.statusCode;
    if (code !== null && code >= 200 && code < 300) return;
    let reason: string | undefined;
    if (code === 410) reason = 'the endpoint answered 410 Gone';
    else if (endpoint.failingSince && now - Date.parse(endpoint.failingSince) >= settings.disableAfterMs)
      reason = `every attempt failed since ${endpoint.failingSince}`;
    if (!reason) return;
    this.#remember(endpoint, { disabledAt: iso(now), disabledReason: reason });
    await store.updateEndpoint(endpoint.id, { disabledAt: iso(now), disabledReason: reason }, iso(now));
    await store.failPending(endpoint.id, `endpoint disabled: ${reason}`, iso(now));
    log.warn({ endpoint: endpoint.id, reason }, 'Webhook endpoint disabled');
  }

  /** Retries due before the next poll get a timer of their own, so short schedules are kept. */
  #wakeAt(atMs: number): void {
    if (this.#stopped || atMs - Date.now() >= this.#deps.settings.pollIntervalMs) return;
    // Retries due within one slot share a timer (and a claim) at the slot's end, rather than one each.
    const slot = Math.ceil(atMs / WAKE_SLOT_MS) * WAKE_SLOT_MS;
    if (this.#timers.has(slot)) return;
    const timer = setTimeout(
      () => {
        this.#timers.delete(slot);
        this.kick();
      },
      Math.max(0, slot - Date.now()),
    );
    timer.unref();
    this.#timers.set(slot, timer);
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();
