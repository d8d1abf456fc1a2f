// The terminal sets and their guards: the only runtime part of the contract that the SDK core ships to
// browsers (runs/events.ts), so it stays in a file of its own, apart from what the core does not need.
import type { RunEvent, TerminalEventType, TerminalRunEvent, TerminalStatus } from './types';

// Arrays rather than sets: every byte of the core counts, and a query builder takes an array as it is
// (`status IN (...)`).
export const TERMINAL_STATUSES: readonly TerminalStatus[] = ['completed', 'failed', 'cancelled'];

export const TERMINAL_EVENT_TYPES: readonly TerminalEventType[] = [
  'run.completed',
  'run.failed',
  'run.cancelled',
];

// The arrays hold the narrow types; the guards take any string, so a status or type read off the wire can
// be tested before it is trusted.
export const isTerminalStatus = (status: string): status is TerminalStatus =>
  (TERMINAL_STATUSES as readonly string[]).includes(status);

export const isTerminalEventType = (type: string): type is TerminalEventType =>
  (TERMINAL_EVENT_TYPES as readonly string[]).includes(type);

export const isTerminalEvent = (event: RunEvent): event is TerminalRunEvent =>
  isTerminalEventType(event.type);
