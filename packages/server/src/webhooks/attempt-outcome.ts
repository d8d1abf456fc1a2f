import type { ClaimedDelivery, DeliveryOutcome, WebhookAttemptRecord } from '../storage/webhook-records';
import { dueAt } from './schedule';
import type { SendResult } from './sender';

/** What the log says of an attempt whose claim lapsed before its outcome was recorded. */
const LOST_ATTEMPT =
  'no outcome recorded: the attempt was cut short (the server stopped) or not recorded within its claim';

const iso = (ms: number): string => new Date(ms).toISOString();

/** What an attempt's result makes of its delivery: delivered, due again on the schedule, or failed. */
export function outcomeOf(
  delivery: ClaimedDelivery,
  result: SendResult,
  now: number,
  scheduleMs: readonly number[],
): DeliveryOutcome {
  const code = result.statusCode;
  const base = { lastStatusCode: code, lastError: result.error };
  if (code !== null && code >= 200 && code < 300) {
    return { ...base, status: 'delivered', step: delivery.step, nextAttemptAt: null, deliveredAt: iso(now) };
  }
  const step = delivery.step + 1;
  const next = code === 410 ? undefined : dueAt(scheduleMs, step, now);
  if (next === undefined) return { ...base, status: 'failed', step, nextAttemptAt: null, deliveredAt: null };
  return { ...base, status: 'pending', step, nextAttemptAt: iso(next), deliveredAt: null };
}

/** The attempt before this claim, when its claim lapsed unrecorded: logged, so the log has no gap. */
export const lostAttempt = (delivery: ClaimedDelivery, endpointId: string): WebhookAttemptRecord[] =>
  delivery.lapsedClaimAt && delivery.attempts > 1
    ? [
        {
          deliveryId: delivery.id,
          attempt: delivery.attempts - 1,
          endpointId,
          startedAt: delivery.lapsedClaimAt,
          statusCode: null,
          latencyMs: 0,
          error: LOST_ATTEMPT,
        },
      ]
    : [];
