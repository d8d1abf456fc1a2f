import type { Logger } from 'pino';
import type { EventBus } from '../events/event-bus';
import type { RunView } from '../runs/run-view';
import type { Run } from '../storage/records';
import type { RunStore, WebhookStore } from '../storage/stores';
import { type DeliverySettings, DeliveryWorker } from './delivery-worker';
import { EventDeliveries } from './event-deliveries';
import { WebhookService } from './webhook-service';

export interface WebhooksDeps {
  store: WebhookStore;
  runs: RunStore;
  viewRun(run: Run): Promise<RunView>;
  log: Logger;
  settings: DeliverySettings;
  /**
   * The only process using this store (SQLite): a claim found at start is its dead predecessor's and is
   * taken back at once. With Postgres, another replica may hold it; it lapses within a short lease.
   */
  soleWriter: boolean;
}

/** How often outbox rows the live path left behind (its process died, or the store failed) are swept. */
const SWEEP_EVERY_MS = 5000;

/** Webhooks as the server runs them: the admin-facing service, the event hook and the delivery worker. */
export class Webhooks {
  readonly service: WebhookService;
  readonly #worker: DeliveryWorker;
  readonly #events: EventDeliveries;
  readonly #log: Logger;
  readonly #soleWriter: boolean;
  #unsubscribe: (() => void) | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;

  readonly #deps: WebhooksDeps;

  constructor(deps: WebhooksDeps) {
    this.#deps = deps;
    const wake = (): void => this.#worker.kick();
    this.#log = deps.log;
    this.#soleWriter = deps.soleWriter;
    this.service = new WebhookService({ store: deps.store, allowPrivate: deps.settings.allowPrivate, wake });
    this.#worker = new DeliveryWorker({
      store: deps.store,
      log: deps.log,
      settings: deps.settings,
      signingSecrets: this.service.signingSecrets,
    });
    this.#events = new EventDeliveries({
      store: deps.store,
      runs: deps.runs,
      viewRun: deps.viewRun,
      log: deps.log,
      wake,
    });
  }

  /**
   * Listens to the events this process persists and starts sending: pending deliveries from before too,
   * and those of events whose deliveries a dead process never stored (swept now, then every few seconds).
   */
  async start(bus: EventBus): Promise<void> {
    this.#unsubscribe = bus.onWritten(this.#events.onEvent);
    if (this.#soleWriter) {
      const taken = await this.#deps.store.expireClaims(new Date().toISOString());
      if (taken > 0)
        this.#log.warn({ deliveries: taken }, 'Webhook attempts cut short by a stop are sent again');
    }
    this.#worker.start();
    this.#sweep(0);
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_EVERY_MS);
    this.#sweeper.unref();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    clearInterval(this.#sweeper);
    await this.#sweeping;
    await this.#events.settled();
    await this.#worker.stop();
  }

  #sweep(ageMs?: number): void {
    if (this.#sweeping) return;
    this.#sweeping = this.#events
      .sweep(ageMs)
      .then((handled) => {
        if (handled > 0) this.#log.info({ events: handled }, 'Webhook deliveries stored from the outbox');
      })
      .catch((error: unknown) => this.#log.warn({ err: error }, 'Webhook outbox sweep failed'))
      .finally(() => {
        this.#sweeping = undefined;
      });
  }
}
