import type { EventBus } from '../events/event-bus';
import type { Run, RunError } from '../storage/records';
import type { Stores } from '../storage/stores';
import { WAITING_NONE_REACHABLE } from './run-view';

export interface WaitingRunsDeps {
  stores: Stores;
  bus: EventBus;
  /** A queued run fails after waiting this long, in ms; 0 waits forever. */
  queueTimeoutMs: number;
  /** Fences a run no replica placed and writes its end; false when it was placed or ended meanwhile. */
  endUnplaced(run: Run, error: RunError): Promise<boolean>;
}

/** The message of a run failed by FLOWSCALE_QUEUE_TIMEOUT (the same alone and with replicas). */
export const queueTimeoutMessage = (timeoutMs: number): string =>
  `No backend could take the run within ${timeoutMs} ms (FLOWSCALE_QUEUE_TIMEOUT): none reachable`;

/**
 * With several replicas: what happens to the shared queue while no backend is reachable from any of
 * them. No replica then takes runs from the queue, so none would ever say why they wait; the cluster's
 * sweeper (one replica at a time) calls `sweep` instead. Each queued run gets one `run.queued` event
 * saying so, and a run past FLOWSCALE_QUEUE_TIMEOUT fails; its end is fenced by the same claim that
 * places runs, so it fails exactly once however many replicas try, and never after it was placed.
 */
export class WaitingRuns {
  readonly #deps: WaitingRunsDeps;
  /** Runs this replica has told, or found told, while it swept (forgotten once they leave the queue). */
  readonly #told = new Set<string>();

  constructor(deps: WaitingRunsDeps) {
    this.#deps = deps;
  }

  async sweep(nowMs = Date.now()): Promise<void> {
    const { stores, queueTimeoutMs } = this.#deps;
    const queued = (await stores.runs.listUnfinished()).filter(
      (run) => run.status === 'queued' && run.backendId === null,
    );
    const ids = new Set(queued.map((run) => run.id));
    for (const id of this.#told) if (!ids.has(id)) this.#told.delete(id);
    for (const [position, run] of queued.entries()) {
      if (queueTimeoutMs > 0 && nowMs - Date.parse(run.createdAt) >= queueTimeoutMs) {
        await this.#deps.endUnplaced(run, { message: queueTimeoutMessage(queueTimeoutMs) });
        continue;
      }
      if (this.#told.has(run.id)) continue;
      this.#told.add(run.id);
      // Another replica may have swept before this one (the sweeper moved): say it once per run.
      if (await this.#alreadyTold(run.id)) continue;
      const event = await stores.events.append(
        run.id,
        'run.queued',
        { queue_position: position, waiting: WAITING_NONE_REACHABLE },
        {},
      );
      this.#deps.bus.publish(event);
    }
  }

  async #alreadyTold(runId: string): Promise<boolean> {
    const events = await this.#deps.stores.events.list(runId, 1);
    return events.some(
      (event) => event.type === 'run.queued' && event.data.waiting === WAITING_NONE_REACHABLE,
    );
  }
}
