import { describe, expect, it } from 'vitest';
import {
  isRunStatus,
  isTerminalEvent,
  isTerminalEventType,
  isTerminalStatus,
  RUN_STATUSES,
  type RunEvent,
  TERMINAL_EVENT_TYPES,
  TERMINAL_STATUSES,
} from '../src/events';

const base = { seq: 1, run_id: 'r', progress: 0, ts: '2026-01-01T00:00:00.000Z' };

describe('the run-event contract (flowscale/events)', () => {
  it('names three terminal statuses, each ended by the event run.<status>', () => {
    expect(TERMINAL_STATUSES).toEqual(['completed', 'failed', 'cancelled']);
    expect(TERMINAL_EVENT_TYPES).toEqual(TERMINAL_STATUSES.map((status) => `run.${status}`));
  });

  it('tells terminal statuses and event types from the others, and from strings off the wire', () => {
    expect(
      ['queued', 'running', 'completed', 'failed', 'cancelled', 'error', ''].map(isTerminalStatus),
    ).toEqual([false, false, true, true, true, false, false]);
    const types = ['run.queued', 'run.started', 'node.executing', 'node.progress', 'output.ready'];
    expect(types.map(isTerminalEventType)).toEqual([false, false, false, false, false]);
    expect(TERMINAL_EVENT_TYPES.map(isTerminalEventType)).toEqual([true, true, true]);
    expect(isTerminalEventType('run.completed ')).toBe(false);
    expect(RUN_STATUSES.filter(isTerminalStatus)).toEqual(TERMINAL_STATUSES);
    expect(['queued', 'cancelled', 'error', 'Queued'].map(isRunStatus)).toEqual([true, true, false, false]);
  });

  it('isTerminalEvent reads the event type', () => {
    const events: RunEvent[] = [
      { ...base, type: 'run.queued', status: 'queued', queue_position: 0 },
      { ...base, type: 'node.progress', status: 'running', node_id: '3', value: 1, max: 2 },
      { ...base, type: 'run.failed', status: 'failed', error: { message: 'boom' } },
      { ...base, type: 'run.cancelled', status: 'cancelled' },
    ];
    expect(events.map(isTerminalEvent)).toEqual([false, false, true, true]);
  });
});
