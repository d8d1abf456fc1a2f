import type { RunStore } from '../storage/stores';
import type { EventBus } from './event-bus';

/**
 * The run store as a written listener (EventBus.onWritten) should read it: asked for the run of the event
 * being published, it answers with the run as that event left it, which its writer handed to the bus,
 * instead of reading it back (one statement per webhook event). Any other read goes to the store.
 */
export function readingWrittenRuns(runs: RunStore, bus: EventBus): RunStore {
  const get = (id: string) => {
    const written = bus.writtenRun(id);
    return written ? Promise.resolve(written) : runs.get(id);
  };
  return new Proxy(runs, {
    get(target, key) {
      if (key === 'get') return get;
      const value: unknown = Reflect.get(target, key, target);
      // Bound: the store's methods use its private fields, which only the store itself may reach.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
