import { tooManyRequests } from '../errors';

/** Clients are asked to come back after this long; a queued run usually moves within seconds. */
export const QUEUE_FULL_RETRY_AFTER_MS = 2000;

/**
 * Caps how many runs may wait for a backend. A submission reserves a place before its body is read and
 * keeps it until its run is recorded (and so counted as queued) or refused, so concurrent uploads cannot
 * overshoot the cap between the check and the insert.
 */
export class QueueAdmission {
  readonly #max: number;
  readonly #queued: () => number;
  #reserved = 0;

  /** `max` 0 admits everything. `queued` counts runs recorded and not yet running. */
  constructor(max: number, queued: () => number) {
    this.#max = max;
    this.#queued = queued;
  }

  /** Reserves a place or throws a 429 QUEUE_FULL; call the returned function exactly once when done. */
  reserve(): () => void {
    if (this.#max === 0) return () => undefined;
    if (this.#queued() + this.#reserved >= this.#max) {
      throw tooManyRequests(
        'QUEUE_FULL',
        `The run queue is full (${this.#max} runs waiting); try again shortly`,
        QUEUE_FULL_RETRY_AFTER_MS,
      );
    }
    this.#reserved++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#reserved--;
    };
  }
}
