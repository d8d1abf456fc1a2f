import { invalidInputs, PayloadTooLarge, tooManyRequests } from '../errors';
import type { ProjectLoad } from '../storage/records';
import type { RunStore } from '../storage/stores';
import { type UsageDay, usageDay } from '../usage/usage';

/** The per-project limits an admin may set; absent means no limit. */
export const QUOTA_NAMES = [
  'concurrent_runs',
  'queued_runs',
  'runs_per_day',
  'bytes_uploaded_per_day',
  'max_input_bytes',
] as const;
export type QuotaName = (typeof QUOTA_NAMES)[number];

/** The quotas that depend on the project's load, checked atomically with the run's insert. */
const COUNTED: readonly QuotaName[] = [
  'concurrent_runs',
  'queued_runs',
  'runs_per_day',
  'bytes_uploaded_per_day',
];
/** How soon a slot for an unfinished run is worth asking for again. */
const SLOT_RETRY_MS = 5_000;

/** A limits object with known names and non-negative integers, or a 422 naming the bad field. */
export function checkLimits(body: Record<string, unknown>): Record<string, number> {
  const problems = Object.entries(body).flatMap(([name, value]) => {
    if (!(QUOTA_NAMES as readonly string[]).includes(name))
      return [{ field: name, message: `unknown quota; known: ${QUOTA_NAMES.join(', ')}` }];
    return Number.isSafeInteger(value) && (value as number) >= 0
      ? []
      : [{ field: name, message: 'must be a non-negative integer' }];
  });
  if (problems.length > 0) throw invalidInputs(problems);
  return body as Record<string, number>;
}

/** The 413 for a body past the project's `max_input_bytes`, declared or counted as it streams. */
export const inputQuotaExceeded = (limit: number): Error =>
  new PayloadTooLarge(`The request is larger than this project's max_input_bytes quota (${limit})`);

/**
 * Refuses a run its project has no room for, before its body is read: 413 for an input larger than
 * `max_input_bytes` by Content-Length (the bytes read are counted too: `readSubmission`), else 429 with a code naming the quota and when to retry. A
 * cheap early answer only: the binding check is `quotaCheck`, made again with the run's insert.
 */
export async function admitRun(
  runs: RunStore,
  projectId: string,
  limits: Record<string, number>,
  declaredBytes: number,
  now = new Date(),
): Promise<void> {
  const maxInput = limits.max_input_bytes;
  if (maxInput !== undefined && declaredBytes > maxInput) {
    throw inputQuotaExceeded(maxInput);
  }
  const check = quotaCheck(limits, 0, now);
  if (!check) return;
  const day = usageDay(now);
  check(await runs.projectLoad(projectId, day.start, day.day));
}

/**
 * The check a run's insert makes against its project's load (undefined when nothing counted is limited):
 * it throws the 429 of the first quota the run would pass. `incomingBytes` are the run's input bytes.
 */
export function quotaCheck(
  limits: Record<string, number>,
  incomingBytes: number,
  now = new Date(),
): ((load: ProjectLoad) => void) | undefined {
  if (!COUNTED.some((name) => name in limits)) return undefined;
  const day = usageDay(now);
  return (load) => refuseOver(limits, load, incomingBytes, day, now);
}

function refuseOver(
  limits: Record<string, number>,
  load: ProjectLoad,
  incomingBytes: number,
  day: UsageDay,
  now: Date,
): void {
  const over = (name: QuotaName, value: number) => limits[name] !== undefined && value >= limits[name];
  const untilTomorrow = day.nextStartMs - now.getTime();
  if (over('runs_per_day', load.created)) {
    throw tooManyRequests(
      'QUOTA_RUNS_PER_DAY',
      `This project's runs_per_day quota (${limits.runs_per_day}) is used up`,
      untilTomorrow,
    );
  }
  const bytesLimit = limits.bytes_uploaded_per_day;
  if (bytesLimit !== undefined && (load.bytesIn >= bytesLimit || load.bytesIn + incomingBytes > bytesLimit)) {
    throw tooManyRequests(
      'QUOTA_BYTES_PER_DAY',
      `This project's bytes_uploaded_per_day quota (${bytesLimit}) has ${Math.max(0, bytesLimit - load.bytesIn)} bytes left today; this run uploads ${incomingBytes}`,
      untilTomorrow,
    );
  }
  if (over('concurrent_runs', load.queued + load.running)) {
    throw tooManyRequests(
      'QUOTA_CONCURRENT_RUNS',
      `This project already has ${load.queued + load.running} unfinished runs (concurrent_runs quota ${limits.concurrent_runs})`,
      SLOT_RETRY_MS,
    );
  }
  if (over('queued_runs', load.queued)) {
    throw tooManyRequests(
      'QUOTA_QUEUED_RUNS',
      `This project's queued_runs quota (${limits.queued_runs}) is full`,
      SLOT_RETRY_MS,
    );
  }
}
