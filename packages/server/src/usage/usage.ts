import { isTerminal, type ProjectLoad, type Run, type RunAdmission } from '../storage/records';

/**
 * What is counted per project and per UTC day (`usage_daily` metrics):
 * - `runs_created`, on the day the run was created, with `bytes_in`: the bytes of its file inputs
 *   (uploaded or fetched from a URL), each run counting its own files even when their content is shared;
 * - `runs_completed` / `runs_failed` / `runs_cancelled`, on the day the run ended, with `bytes_out` (the
 *   bytes of the output files stored for it) and `execution_seconds:<backend id>` (start to end).
 * Downloads are not counted: signed URLs may be served by the object store, which the server never sees.
 */
export const METRIC = {
  created: 'runs_created',
  bytesIn: 'bytes_in',
  bytesOut: 'bytes_out',
  executionPrefix: 'execution_seconds:',
} as const;

export interface UsageDay {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  /** Its first instant, ISO. */
  start: string;
  /** The next day's first instant, in ms since the epoch (when a daily quota frees up). */
  nextStartMs: number;
}

export function usageDay(at: Date): UsageDay {
  const startMs = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  const start = new Date(startMs).toISOString();
  return { day: start.slice(0, 10), start, nextStartMs: startMs + 86_400_000 };
}

/** The bytes of the run's file inputs. */
export const inputBytes = (run: Run): number =>
  run.inputs.reduce((sum, input) => sum + (input.file?.sha256 ? input.file.size : 0), 0);

/** Counted when the run is created, in the same transaction. */
export const creationUsage = (run: Run): Record<string, number> => ({
  [METRIC.created]: 1,
  [METRIC.bytesIn]: inputBytes(run),
});

/** Counted once when the run has ended; the day it ended on. */
export function endUsage(run: Run): { day: string; amounts: Record<string, number> } | undefined {
  if (!isTerminal(run.status)) return undefined;
  const endedAt = run.completedAt ?? run.updatedAt;
  const amounts: Record<string, number> = {
    [`runs_${run.status}`]: 1,
    [METRIC.bytesOut]: run.outputs.reduce((sum, output) => sum + (output.size || 0), 0),
  };
  if (run.startedAt && run.backendId) {
    const seconds = (Date.parse(endedAt) - Date.parse(run.startedAt)) / 1000;
    if (seconds > 0) amounts[`${METRIC.executionPrefix}${run.backendId}`] = seconds;
  }
  return { day: usageDay(new Date(endedAt)).day, amounts };
}

/** What the run's insert checks and counts: its creation, on the day it was created. */
export function admissionOf(run: Run, check: ((load: ProjectLoad) => void) | undefined): RunAdmission {
  const day = usageDay(new Date(run.createdAt));
  return { day: day.day, dayStart: day.start, usage: creationUsage(run), ...(check ? { check } : {}) };
}
