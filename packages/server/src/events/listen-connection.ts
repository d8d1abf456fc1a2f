import pg from 'pg';

export interface ListenConnectionOptions {
  connectionString: string;
  channel: string;
  /** Shown in pg_stat_activity, so an operator can tell the relay's session apart. */
  applicationName: string;
  /** Reconnect backoff: doubles from min to max after each failed attempt. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** A `SELECT 1` this often proves the session is alive; one that fails or stalls drops it. */
  heartbeatMs: number;
  onNotice(payload: string): void;
  /** Called on each (re)connection: notifications sent while no session listened are lost. */
  onListening(): void;
  onError(error: unknown): void;
}

/**
 * ONE dedicated session per replica that LISTENs on the relay's channel: a `pg.Client` of its own, never a
 * pooled connection, because LISTEN belongs to a session and a pool hands sessions around. For the same
 * reason it must not go through a transaction-mode pooler (PgBouncer `pool_mode = transaction` drops LISTEN
 * between transactions): point its connection string at Postgres itself or at a session-mode pool.
 * It reconnects with backoff for as long as it runs; `healthy` says whether it listens right now.
 */
export class ListenConnection {
  readonly #options: ListenConnectionOptions;
  #client: pg.Client | undefined;
  #healthy = false;
  #running = false;
  #backoffMs: number;
  #retry: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  /** Other channels on the same session (the replica's other doorbells), re-listened on reconnect. */
  readonly #others = new Map<string, { onNotice(payload: string): void; onListening(): void }>();

  constructor(options: ListenConnectionOptions) {
    this.#options = options;
    this.#backoffMs = options.reconnectMinMs;
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  /** Resolves after the first attempt, listening or not (it keeps trying in the background). */
  async start(): Promise<void> {
    this.#running = true;
    await this.#connect();
  }

  /**
   * Follows another channel on this same session, so a replica holds one LISTEN connection whatever it
   * listens for. `onListening` runs now if the session is up, and after every reconnection.
   */
  async listenAlso(
    channel: string,
    onNotice: (payload: string) => void,
    onListening: () => void,
  ): Promise<void> {
    this.#others.set(channel, { onNotice, onListening });
    const client = this.#client;
    if (!client || !this.#healthy) return;
    await client
      .query(`LISTEN ${pg.escapeIdentifier(channel)}`)
      .catch((error: unknown) => this.#lost(client, error));
    onListening();
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#retry);
    clearInterval(this.#heartbeat);
    this.#healthy = false;
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#options.connectionString,
      application_name: this.#options.applicationName,
      keepAlive: true,
    });
    this.#client = client;
    client.on('notification', (message) => {
      if (message.channel === this.#options.channel && message.payload)
        this.#options.onNotice(message.payload);
      else this.#others.get(message.channel)?.onNotice(message.payload ?? '');
    });
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, new Error('LISTEN connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.#options.channel)}`);
      for (const channel of this.#others.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      this.#lost(client, error);
      return;
    }
    if (this.#client !== client) return;
    this.#healthy = true;
    this.#backoffMs = this.#options.reconnectMinMs;
    this.#heartbeat = setInterval(() => this.#beat(client), this.#options.heartbeatMs);
    this.#heartbeat.unref();
    this.#options.onListening();
    for (const other of this.#others.values()) other.onListening();
  }

  #beat(client: pg.Client): void {
    const stalled = setTimeout(
      () => this.#lost(client, new Error('LISTEN connection stopped answering')),
      this.#options.heartbeatMs,
    );
    client.query('SELECT 1').then(
      () => clearTimeout(stalled),
      (error: unknown) => {
        clearTimeout(stalled);
        this.#lost(client, error);
      },
    );
  }

  /** Drops a session that failed (once, whichever of error/end/heartbeat saw it first) and retries later. */
  #lost(client: pg.Client, error: unknown): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#healthy = false;
    clearInterval(this.#heartbeat);
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    if (!this.#running) return;
    this.#options.onError(error);
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#options.reconnectMaxMs, this.#backoffMs * 2);
    this.#retry = setTimeout(() => void this.#connect(), delay);
    this.#retry.unref();
  }
}
