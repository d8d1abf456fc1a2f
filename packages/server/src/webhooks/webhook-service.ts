import { randomUUID } from 'node:crypto';
import {
  InvalidWebhookSecret,
  InvalidWebhookUrl,
  WebhookDeliveryNotFound,
  WebhookDisabled,
  WebhookNotFound,
} from '../errors';
import { checkUrl, UrlInputError } from '../inputs/url-fetch';
import type { WebhookStore } from '../storage/stores';
import type {
  WebhookAttemptRecord,
  WebhookDeliveryRecord,
  WebhookEndpointRecord,
  WebhookEventType,
  WebhookSecret,
} from '../storage/webhook-records';
import { newDelivery } from './event-deliveries';
import { testEventBody } from './payload';
import { activeSecrets, newSecret, rotate, secretProblem } from './secrets';

/** What a `webhook_url` on a run is sent: the run's end, whichever way it ends. */
export const RUN_WEBHOOK_EVENTS: WebhookEventType[] = ['run.completed', 'run.failed', 'run.cancelled'];

export interface NewEndpoint {
  url: string;
  events: WebhookEventType[];
  description: string;
  projectId: string;
  secret?: string;
}

export interface EndpointChange {
  url?: string;
  events?: WebhookEventType[];
  description?: string;
  enabled?: boolean;
}

export interface DeliveryWithAttempts {
  delivery: WebhookDeliveryRecord;
  attempts: WebhookAttemptRecord[];
}

export interface ServiceDeps {
  store: WebhookStore;
  allowPrivate: boolean;
  /** Send due deliveries now. */
  wake(): void;
}

const MAX_URL_LENGTH = 2048;

/** Webhook endpoints, their secrets and their delivery logs, as the admin API and run submission use them. */
export class WebhookService {
  readonly #deps: ServiceDeps;

  constructor(deps: ServiceDeps) {
    this.#deps = deps;
  }

  /** The URL-input address policy: no private or loopback targets unless the setting allows them. */
  async checkUrl(url: string): Promise<void> {
    if (url.length > MAX_URL_LENGTH) throw new InvalidWebhookUrl(`longer than ${MAX_URL_LENGTH} characters`);
    try {
      await checkUrl(url, {
        allowPrivate: this.#deps.allowPrivate,
        idleTimeoutMs: 0,
        totalTimeoutMs: 0,
        limitBytes: 0,
      });
    } catch (error) {
      throw new InvalidWebhookUrl(error instanceof UrlInputError ? error.message : String(error));
    }
  }

  async create(input: NewEndpoint): Promise<{ endpoint: WebhookEndpointRecord; secret: string }> {
    await this.checkUrl(input.url);
    const secret = input.secret ?? newSecret();
    const problem = secretProblem(secret);
    if (problem) throw new InvalidWebhookSecret(problem);
    const at = new Date().toISOString();
    const endpoint: WebhookEndpointRecord = {
      id: `ep_${randomUUID().replaceAll('-', '')}`,
      projectId: input.projectId,
      url: input.url,
      description: input.description,
      events: input.events,
      secrets: [{ secret, createdAt: at, expiresAt: null }],
      runId: null,
      disabledAt: null,
      disabledReason: null,
      failingSince: null,
      createdAt: at,
      updatedAt: at,
    };
    await this.#deps.store.insertEndpoint(endpoint);
    return { endpoint, secret };
  }

  /** Stores the endpoint of a run's `webhook_url` (already checked with checkUrl); answers its id. */
  async registerRun(runId: string, projectId: string, url: string): Promise<string> {
    const at = new Date().toISOString();
    const id = `ep_${randomUUID().replaceAll('-', '')}`;
    await this.#deps.store.insertEndpoint({
      id,
      projectId,
      url,
      description: `webhook_url of run ${runId}`,
      events: RUN_WEBHOOK_EVENTS,
      secrets: null,
      runId,
      disabledAt: null,
      disabledReason: null,
      failingSince: null,
      createdAt: at,
      updatedAt: at,
    });
    return id;
  }

  async get(id: string): Promise<WebhookEndpointRecord> {
    const endpoint = await this.#deps.store.getEndpoint(id);
    if (!endpoint) throw new WebhookNotFound(id);
    return endpoint;
  }

  list(filter: { projectId?: string; runId?: string }): Promise<WebhookEndpointRecord[]> {
    return this.#deps.store.listEndpoints(filter);
  }

  async update(id: string, change: EndpointChange): Promise<WebhookEndpointRecord> {
    await this.get(id);
    if (change.url !== undefined) await this.checkUrl(change.url);
    const { enabled, ...rest } = change;
    const at = new Date().toISOString();
    const toggle =
      enabled === undefined
        ? {}
        : enabled
          ? { disabledAt: null, disabledReason: null, failingSince: null }
          : { disabledAt: at, disabledReason: 'disabled by an admin' };
    await this.#deps.store.updateEndpoint(id, { ...rest, ...toggle }, at);
    if (enabled === false) await this.#deps.store.failPending(id, 'endpoint disabled by an admin', at);
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    if (!(await this.#deps.store.deleteEndpoint(id))) throw new WebhookNotFound(id);
  }

  async rotateSecret(
    id: string,
    overlapMs: number,
  ): Promise<{ endpoint: WebhookEndpointRecord; secret: string }> {
    const endpoint = await this.get(id);
    if (endpoint.secrets === null) {
      throw new InvalidWebhookSecret('of a run webhook is its project run secret: rotate that one instead');
    }
    const secret = newSecret();
    const secrets = rotate(endpoint.secrets, secret, Date.now(), overlapMs);
    await this.#deps.store.updateEndpoint(id, { secrets }, new Date().toISOString());
    return { endpoint: await this.get(id), secret };
  }

  /** The project's run-webhook secrets, made on first use (every replica agrees on the first). */
  async runSecrets(projectId: string): Promise<WebhookSecret[]> {
    const stored = await this.#deps.store.getSigningSecrets(projectId);
    if (stored) return stored;
    const at = new Date().toISOString();
    return this.#deps.store.initSigningSecrets(
      projectId,
      [{ secret: newSecret(), createdAt: at, expiresAt: null }],
      at,
    );
  }

  async rotateRunSecrets(projectId: string, overlapMs: number): Promise<WebhookSecret[]> {
    const current = await this.runSecrets(projectId);
    const secrets = rotate(current, newSecret(), Date.now(), overlapMs);
    await this.#deps.store.setSigningSecrets(projectId, secrets, new Date().toISOString());
    return secrets;
  }

  /** For the delivery worker: the secrets signing this endpoint's messages now. */
  readonly signingSecrets = async (endpoint: WebhookEndpointRecord): Promise<string[]> => {
    const secrets = endpoint.secrets ?? (await this.runSecrets(endpoint.projectId));
    return activeSecrets(secrets, Date.now()).map((s) => s.secret);
  };

  async deliveries(endpointId: string, limit: number): Promise<DeliveryWithAttempts[]> {
    await this.get(endpointId);
    const deliveries = await this.#deps.store.listDeliveries(endpointId, limit);
    const attempts = await this.#deps.store.listAttempts(deliveries.map((d) => d.id));
    return deliveries.map((delivery) => ({
      delivery,
      attempts: attempts.filter((attempt) => attempt.deliveryId === delivery.id),
    }));
  }

  async delivery(endpointId: string, deliveryId: string): Promise<DeliveryWithAttempts> {
    const delivery = await this.#deps.store.getDelivery(deliveryId);
    if (!delivery || delivery.endpointId !== endpointId)
      throw new WebhookDeliveryNotFound(deliveryId, endpointId);
    return { delivery, attempts: await this.#deps.store.listAttempts([deliveryId]) };
  }

  async redeliver(endpointId: string, deliveryId: string): Promise<DeliveryWithAttempts> {
    const endpoint = await this.get(endpointId);
    await this.delivery(endpointId, deliveryId);
    if (endpoint.disabledAt) throw new WebhookDisabled(endpointId);
    await this.#deps.store.redeliver(deliveryId, new Date().toISOString());
    this.#deps.wake();
    return this.delivery(endpointId, deliveryId);
  }

  /** Queues a `webhook.test` event for the endpoint, whatever its event filter. */
  async sendTest(endpointId: string): Promise<DeliveryWithAttempts> {
    const endpoint = await this.get(endpointId);
    if (endpoint.disabledAt) throw new WebhookDisabled(endpointId);
    const at = new Date().toISOString();
    const delivery = newDelivery(endpoint, 'webhook.test', null, testEventBody(at), at);
    await this.#deps.store.insertDeliveries([delivery]);
    this.#deps.wake();
    return { delivery, attempts: [] };
  }
}
