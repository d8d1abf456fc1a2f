import type { Logger } from 'pino';
import type { Run } from '../storage/records';
import type { Stores } from '../storage/stores';
import { endUsage } from './usage';

/** How far back a start looks for run ends a process died before counting (runs created since). */
const MISSED_ENDS_WINDOW_MS = 3 * 86_400_000;
const MISSED_ENDS_LIMIT = 10_000;

/** Adds ended runs to their project's usage, once per run whichever replica, retry or start gets there. */
export class RunEndCounter {
  readonly #stores: Stores;
  readonly #log: Logger;

  constructor(stores: Stores, log: Logger) {
    this.#stores = stores;
    this.#log = log;
  }

  /** A database fault loses this run's end counts until the next start (logged), never the run. */
  async countEnd(run: Run): Promise<void> {
    const ended = endUsage(run);
    if (!ended) return;
    try {
      await this.#stores.usage.addOnce(run.id, run.projectId, ended.day, ended.amounts);
    } catch (error) {
      this.#log.warn({ err: error, run: run.id }, 'could not count the run in usage');
    }
  }

  /** A process killed between writing a run's end and counting it: its end is counted at the next start. */
  async countMissedEnds(stopped: () => boolean): Promise<void> {
    try {
      const since = new Date(Date.now() - MISSED_ENDS_WINDOW_MS).toISOString();
      const missed = await this.#stores.runs.listEndedUncounted(since, MISSED_ENDS_LIMIT);
      for (const run of missed) if (!stopped()) await this.countEnd(run);
      if (missed.length > 0) this.#log.info({ runs: missed.length }, 'counted run ends missed in usage');
    } catch (error) {
      this.#log.warn({ err: error }, 'could not look for run ends missed in usage');
    }
  }
}
