import { isTerminal, type RunPriority } from '../storage/records';
import type { ActiveRun } from './active-run';

/** Higher goes first; pg-boss uses the same numbers (it fetches higher priority first). */
export const PRIORITY_RANK: Record<RunPriority, number> = { low: 0, normal: 1, high: 2 };

/** Runs waiting for a backend, in the order they get one: high, normal, low; oldest first within a level. */
export function waitingInOrder(runs: Iterable<ActiveRun>): ActiveRun[] {
  const waiting = [...runs].filter(
    (active) => !active.submitted && active.run.backendId === null && !isTerminal(active.run.status),
  );
  return waiting.sort(
    (a, b) =>
      PRIORITY_RANK[b.run.priority] - PRIORITY_RANK[a.run.priority] ||
      a.run.createdAt.localeCompare(b.run.createdAt),
  );
}
