import pg from 'pg';
import { guardPoolErrors } from '../storage/postgres/connection';
import type { RunEvent } from '../storage/records';
import type { EventStore } from '../storage/stores';
import { Announcer } from './announcer';
import type { EventBus, EventFeed } from './event-bus';
import { ListenConnection } from './listen-connection';
import { parseNotices } from './notices';

export const EVENTS_CHANNEL = 'flowscale_events';

export interface PgEventRelayOptions {
  /** This replica's bus: its own events are announced from it, the others' are delivered to it. */
  bus: EventBus;
  /** The shared event log; only `list` is used. */
  store: Pick<EventStore, 'list'>;
  /** Postgres itself or a session-mode pool: the LISTEN session breaks behind a transaction-mode pooler. */
  connectionString: string;
  /** Where NOTIFY statements go (e.g. the app's pool); by default a pool of one connection of the relay's own. */
  notifyPool?: pg.Pool;
  channel?: string;
  /** Runs with local subscribers are read this often even without a notification (lost ones, dead LISTEN). */
  pollIntervalMs?: number;
  /** Announcements are gathered this long into one NOTIFY statement. */
  notifyWindowMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  heartbeatMs?: number;
  /** At most this many reads of the log in flight (polls of many runs must not empty the store's pool). */
  maxConcurrentReads?: number;
  applicationName?: string;
  log?: { warn(details: object, message: string): void };
}

/**
 * Carries run events between the replicas sharing one Postgres.
 *
 * - Publishing: every event this replica persists (EventBus.publish) is announced as `runId:seq` in one
 *   coalesced `SELECT pg_notify(...)` per window, sent after the event's own transaction, never inside it.
 * - Listening: one dedicated LISTEN session. A notice for a run with local subscribers makes the relay
 *   read the run's log from its cursor (`list(runId, cursor + 1)`) and deliver what it finds to the bus,
 *   which drops what it already had (e.g. this replica's own events) and orders the rest.
 * - Polling: every run with local subscribers is read every `pollIntervalMs` anyway, and all of them right
 *   after each (re)connection, so a lost notice or a dead session only delays events, never loses them.
 *
 * Lifecycle: `await relay.start()` before the server listens; `await relay.stop()` on shutdown; `healthy`
 * (the LISTEN session is up) is for readiness.
 */
export class PgEventRelay implements EventFeed {
  readonly #bus: EventBus;
  readonly #store: Pick<EventStore, 'list'>;
  readonly #pollIntervalMs: number;
  readonly #maxReads: number;
  readonly #log: PgEventRelayOptions['log'];
  readonly #ownPool: pg.Pool | undefined;
  readonly #announcer: Announcer;
  readonly #listen: ListenConnection;
  /** Per run, the last queued read: reads of one run never overlap, so deliveries keep their order. */
  readonly #chains = new Map<string, Promise<void>>();
  /** Runs with a catch-up read queued and not started: more notices for them need no other read. */
  readonly #queued = new Set<string>();
  #reads = 0;
  readonly #waitingReads: Array<() => void> = [];
  #poll: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #running = false;

  constructor(options: PgEventRelayOptions) {
    const channel = options.channel ?? EVENTS_CHANNEL;
    const applicationName = options.applicationName ?? 'flowscale-event-relay';
    this.#bus = options.bus;
    this.#store = options.store;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.#maxReads = options.maxConcurrentReads ?? 8;
    this.#log = options.log;
    if (!options.notifyPool) {
      this.#ownPool = new pg.Pool({
        connectionString: options.connectionString,
        max: 1,
        application_name: `${applicationName}-notify`,
      });
      guardPoolErrors(this.#ownPool, (error) => this.#warn(error, 'event relay: NOTIFY connection failed'));
    }
    const pool = (options.notifyPool ?? this.#ownPool) as pg.Pool;
    this.#announcer = new Announcer({
      windowMs: options.notifyWindowMs ?? 2,
      retryMs: 1000,
      send: async (payloads) => {
        if (payloads.length === 0) return;
        await pool.query(
          'SELECT pg_notify($1, payload) FROM unnest($2::text[]) WITH ORDINALITY AS t(payload, n) ORDER BY n',
          [channel, payloads],
        );
      },
      onError: (error) => this.#warn(error, 'event relay: NOTIFY failed; other replicas will poll'),
    });
    this.#listen = new ListenConnection({
      connectionString: options.connectionString,
      channel,
      applicationName,
      reconnectMinMs: options.reconnectMinMs ?? 100,
      reconnectMaxMs: options.reconnectMaxMs ?? 5000,
      heartbeatMs: options.heartbeatMs ?? 10_000,
      onNotice: (payload) => this.#onNotice(payload),
      onListening: () => this.#pollAll(),
      onError: (error) => this.#warn(error, 'event relay: LISTEN connection lost; reconnecting'),
    });
  }

  /** Whether the LISTEN session is up. While it is not, events still arrive, by polling. */
  get healthy(): boolean {
    return this.#listen.healthy;
  }

  /** Another channel on the relay's LISTEN session (the replica keeps one such session in all). */
  listenAlso(channel: string, onNotice: (payload: string) => void, onListening: () => void): Promise<void> {
    return this.#listen.listenAlso(channel, onNotice, onListening);
  }

  async start(): Promise<void> {
    this.#running = true;
    this.#bus.attachFeed(this);
    this.#unsubscribe = this.#bus.onWritten((event) => this.#announcer.announce(event.runId, event.seq));
    this.#poll = setInterval(() => this.#pollAll(), this.#pollIntervalMs);
    this.#poll.unref();
    await this.#listen.start();
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearInterval(this.#poll);
    this.#unsubscribe?.();
    this.#bus.detachFeed();
    await this.#listen.stop();
    await this.#announcer.stop();
    await Promise.all(this.#chains.values());
    await this.#ownPool?.end();
  }

  // ---- EventFeed ----

  follow(runId: string): Promise<void> {
    return this.#enqueue(runId, () => this.#sync(runId));
  }

  unfollow(): void {
    // Nothing to release: reads already queued for the run find it unfollowed and do nothing.
  }

  fillGap(runId: string): void {
    this.#catchUp(runId);
  }

  // ---- reading ----

  #onNotice(payload: string): void {
    for (const [runId, seq] of parseNotices(payload)) {
      this.#bus.changed(runId);
      if (this.#bus.isFollowed(runId)) {
        const cursor = this.#bus.cursorOf(runId);
        if (cursor !== undefined && seq <= cursor) continue; // e.g. this replica's own events
      } else if (!this.#bus.startForAll(runId, seq - 1)) {
        continue;
      }
      this.#catchUp(runId);
    }
  }

  #pollAll(): void {
    for (const [runId] of this.#bus.followed()) this.#catchUp(runId);
  }

  #catchUp(runId: string): void {
    if (!this.#running || this.#queued.has(runId)) return;
    this.#queued.add(runId);
    void this.#enqueue(runId, () => {
      this.#queued.delete(runId);
      return this.#sync(runId);
    });
  }

  /** Brings the run's subscribers up to the log. A run seen for the first time starts at the log's end. */
  async #sync(runId: string): Promise<void> {
    if (!this.#bus.isFollowed(runId)) return;
    const cursor = this.#bus.cursorOf(runId);
    const events = await this.#read(runId, (cursor ?? 0) + 1);
    if (cursor === undefined) {
      // Its subscribers read their replay or snapshot after this: they have everything up to here.
      this.#bus.startAt(runId, events.at(-1)?.seq ?? 0);
      return;
    }
    for (const event of events) this.#bus.deliver(event);
  }

  #enqueue(runId: string, job: () => Promise<void>): Promise<void> {
    const next = (this.#chains.get(runId) ?? Promise.resolve())
      .then(job)
      .catch((error: unknown) => this.#warn(error, 'event relay: reading run events failed; will retry'));
    this.#chains.set(runId, next);
    void next.then(() => {
      if (this.#chains.get(runId) === next) this.#chains.delete(runId);
    });
    return next;
  }

  async #read(runId: string, fromSeq: number): Promise<RunEvent[]> {
    if (this.#reads >= this.#maxReads) await new Promise<void>((resolve) => this.#waitingReads.push(resolve));
    else this.#reads++;
    try {
      return await this.#store.list(runId, fromSeq);
    } finally {
      // The slot passes straight to the next waiting read, if any.
      const next = this.#waitingReads.shift();
      if (next) next();
      else this.#reads--;
    }
  }

  #warn(error: unknown, message: string): void {
    this.#log?.warn({ err: error }, message);
  }
}
