import type { WebhookStore } from '../storage/stores';
import type { AttemptToRecord } from '../storage/webhook-records';

interface Pending {
  item: AttemptToRecord;
  resolve(recorded: boolean): void;
  reject(error: unknown): void;
}

/** Keeps a batch's statements well within one short transaction. */
const MAX_BATCH = 256;

/**
 * Records finished attempts with group commit: those finishing while a batch is being written go together
 * in the next transaction. One commit (one fsync on Postgres) then covers many attempts instead of one,
 * which is most of an attempt's cost against a fast receiver.
 */
export class AttemptRecorder {
  readonly #store: WebhookStore;
  #pending: Pending[] = [];
  #draining: Promise<void> | undefined;

  constructor(store: WebhookStore) {
    this.#store = store;
  }

  /** Resolves with whether the attempt was recorded (false: its claim was lost meanwhile). */
  record(item: AttemptToRecord): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      this.#draining ??= this.#drain();
    });
  }

  async #drain(): Promise<void> {
    // Let the attempts whose answers came in the same turn of the event loop join the first batch: with
    // SQLite a batch commits before the next answer is read, so waiting only for a microtask made batches
    // of one.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, MAX_BATCH);
        try {
          const recorded = await this.#store.finishAttempts(
            batch.map((pending) => pending.item),
            new Date().toISOString(),
          );
          for (const [index, pending] of batch.entries()) pending.resolve(recorded[index] === true);
        } catch (error) {
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }
}
