// One timer for every pending deadline instead of a setTimeout/clearTimeout pair per request: most
// requests finish long before their timeout, and on Node arming and clearing a timer next to an
// AbortSignal costs more than the rest of the SDK's per-request work (see bench/sdk-overhead.ts).

export interface Deadline {
  at: number;
  fire(): void;
}

const pending = new Set<Deadline>();
let timer: ReturnType<typeof setTimeout> | undefined;
let armedAt = Infinity;

/** Calls `deadline.fire()` at `deadline.at` (epoch ms) unless `cancelDeadline` comes first. */
export function addDeadline(deadline: Deadline): void {
  pending.add(deadline);
  if (deadline.at < armedAt) arm(deadline.at);
}

export function cancelDeadline(deadline: Deadline): void {
  // The armed timer is left alone: when it fires it finds nothing due and re-arms for the next one.
  pending.delete(deadline);
}

function arm(at: number): void {
  clearTimeout(timer);
  armedAt = at;
  timer = setTimeout(sweep, Math.max(0, at - Date.now()));
  // A deadline alone must not keep a Node process alive; the request it guards does that.
  (timer as { unref?: () => void }).unref?.();
}

function sweep(): void {
  armedAt = Infinity;
  const now = Date.now();
  let next = Infinity;
  for (const deadline of pending) {
    if (deadline.at <= now) {
      pending.delete(deadline);
      deadline.fire();
    } else if (deadline.at < next) next = deadline.at;
  }
  if (pending.size > 0) arm(next);
}
