/** A writer with frames waiting to go out. */
export interface Flushable {
  flush(): void;
}

/**
 * Frames are not written to sockets when they are published but once per turn of the event loop, by one
 * `setImmediate` shared by every writer (not a callback per socket): a writer with one frame waiting makes
 * one write, one with several makes one writev. When the server keeps up, a turn carries one event and
 * nothing is merged. When it falls behind (thousands of subscribers, events queueing), a turn carries
 * several events and each socket still gets one syscall, so the cost per event drops as the load grows
 * instead of the delay growing without bound.
 */
class FlushQueue {
  #dirty: Flushable[] = [];
  #scheduled = false;

  readonly #run = (): void => {
    this.#scheduled = false;
    const dirty = this.#dirty;
    this.#dirty = [];
    for (const writer of dirty) writer.flush();
  };

  /** The writer has frames waiting (call once until its next flush). */
  add(writer: Flushable): void {
    this.#dirty.push(writer);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#run);
    }
  }
}

export const flushQueue = new FlushQueue();
