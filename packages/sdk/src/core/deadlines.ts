// One timer for every pending deadline instead of a setTimeout/clearTimeout pair per request. Most
// requests finish long before their timeout, and with a timer per request the SDK's overhead over bare
// fetch was 1.09-1.10x against 1.07x with this (bench/sdk-overhead.ts, alternating runs).

export interface Deadline {
  /** In `performance.now()` ms: a monotonic clock, so a wall-clock jump cannot move a deadline. */
  at: number;
  fire(): void;
}

const pending = new Set<Deadline>();
let timer: ReturnType<typeof setTimeout> | undefined;
let armedAt = Infinity;

/** Calls `deadline.fire()` at `deadline.at` unless it is deleted from the set first (`cancelDeadline`). */
export function addDeadline(deadline: Deadline): void {
  pending.add(deadline);
  arm(deadline.at);
}

// The armed timer is left alone: when it fires it finds nothing due and re-arms for the next deadline.
export const cancelDeadline = (deadline: Deadline): boolean => pending.delete(deadline);

/** Arms the timer for `at` unless it is already armed for something earlier. */
function arm(at: number): void {
  if (at >= armedAt) return;
  clearTimeout(timer);
  armedAt = at;
  timer = setTimeout(sweep, at - performance.now());
  // A deadline alone must not keep a Node process alive; the request it guards does that.
  (timer as { unref?: () => void }).unref?.();
}

function sweep(): void {
  armedAt = Infinity;
  for (const deadline of pending) {
    if (deadline.at > performance.now()) arm(deadline.at);
    else {
      pending.delete(deadline);
      deadline.fire();
    }
  }
}
