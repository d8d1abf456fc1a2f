/** Up to this share of a retry delay is added or taken off at random, so failures do not retry in step. */
const JITTER = 0.1;

/**
 * When the attempt at `step` of the schedule is due, or undefined once the schedule is used up.
 * `schedule[0]` is the first attempt's delay (0: at once); each later entry the wait after a failure.
 */
export function dueAt(
  schedule: readonly number[],
  step: number,
  fromMs: number,
  random: () => number = Math.random,
): number | undefined {
  const delay = schedule[step];
  if (delay === undefined) return undefined;
  const jitter = step === 0 ? 0 : delay * JITTER * (random() * 2 - 1);
  return fromMs + Math.max(0, Math.round(delay + jitter));
}
