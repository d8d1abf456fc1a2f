import { encodeNotices } from './notices';

/** Sends the payloads as notifications, in order, in one statement; rejects if they were not sent. */
export type SendNotices = (payloads: string[]) => Promise<void>;

export interface AnnouncerOptions {
  send: SendNotices;
  /** How long announcements are gathered into one NOTIFY statement. */
  windowMs: number;
  /** After a failed send, the announcements are retried this much later (the poll covers the gap). */
  retryMs: number;
  onError(error: unknown): void;
}

/**
 * The publishing side of the relay: gathers `runId:seq` announcements of freshly persisted events and sends
 * them as one coalesced `pg_notify` statement per window, outside any event-write transaction (a NOTIFY
 * inside it would take Postgres's global notify lock at its commit). One statement is in flight at a time,
 * so notices leave in order, and under load the windows grow by themselves.
 */
export class Announcer {
  readonly #options: AnnouncerOptions;
  #pending = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> | undefined;
  #stopped = false;

  constructor(options: AnnouncerOptions) {
    this.#options = options;
  }

  announce(runId: string, seq: number): void {
    if (this.#stopped) return;
    this.#pending.set(runId, Math.max(seq, this.#pending.get(runId) ?? 0));
    this.#schedule(this.#options.windowMs);
  }

  /** Sends what is pending now and stops announcing. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#sending?.catch(() => undefined);
    await this.#send().catch((error: unknown) => this.#options.onError(error));
  }

  #schedule(delayMs: number): void {
    if (this.#timer || this.#sending || this.#stopped || this.#pending.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, delayMs);
  }

  async #flush(): Promise<void> {
    let next = this.#options.windowMs;
    this.#sending = this.#send();
    try {
      await this.#sending;
    } catch (error) {
      this.#options.onError(error);
      next = this.#options.retryMs;
    }
    this.#sending = undefined;
    this.#schedule(next);
  }

  async #send(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    try {
      await this.#options.send(encodeNotices(batch));
    } catch (error) {
      // Put them back under the newer ones: a notice only says "up to seq", so the highest one wins.
      for (const [runId, seq] of batch)
        this.#pending.set(runId, Math.max(seq, this.#pending.get(runId) ?? 0));
      throw error;
    }
  }
}
