// The run-event union narrows on `type`, and the terminal guards narrow too (tsc over this file: every
// `@ts-expect-error` must really be an error).
import type { RunEvent, RunStatus } from 'flowscale';
import { isTerminalEvent, isTerminalStatus, type TerminalStatus } from 'flowscale/events';

export function describe(event: RunEvent): string {
  switch (event.type) {
    case 'run.queued':
      return `${event.queue_position} ahead`;
    case 'node.progress':
      return `${event.node_id} ${event.value}/${event.max}`;
    case 'output.ready':
      return event.output.filename;
    case 'run.completed':
      // @ts-expect-error only output.ready carries a single output
      return event.output.filename;
    case 'run.failed': {
      const failed: 'failed' = event.status;
      return `${failed}: ${event.error.message}`;
    }
    default:
      return event.type;
  }
}

export function end(events: RunEvent[], status: string): TerminalStatus | undefined {
  const last = events.at(-1);
  // @ts-expect-error a terminal event is never queued
  if (last && isTerminalEvent(last) && last.status === 'queued') return undefined;
  return isTerminalStatus(status) ? status : undefined;
}

// @ts-expect-error 'error' is FlowScale's hosted status, not one of this server's run statuses
export const hosted: RunStatus = 'error';
