import { describe, expect, it } from 'vitest';
import { addDeadline, cancelDeadline } from '../src/core/deadlines';
import { linkSignal } from '../src/core/timing';
import { TimeoutError } from '../src/index';

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the shared deadline timer', () => {
  it('fires deadlines in time order, re-arming for an earlier one added later, and skips cancelled ones', async () => {
    const fired: string[] = [];
    const now = performance.now();
    const late = { at: now + 1000, fire: () => fired.push('late') };
    const cancelled = { at: now + 60, fire: () => fired.push('cancelled') };
    const early = { at: now + 30, fire: () => fired.push('early') };
    addDeadline(late);
    addDeadline(cancelled);
    addDeadline(early);
    cancelDeadline(cancelled);
    await wait(60);
    expect(fired).toEqual(['early']);
    while (fired.length < 2) await wait(20); // bounded by the test timeout
    expect(fired).toEqual(['early', 'late']);
  });
});

describe('linkSignal', () => {
  it('linkSignal aborts with a TimeoutError, follows its parent, and stops when disposed', async () => {
    const timed = linkSignal(undefined, 20, 'Request timed out after 20ms');
    await wait(80);
    expect(timed.signal.reason).toBeInstanceOf(TimeoutError);
    expect(timed.signal.reason.message).toBe('Request timed out after 20ms');

    const parent = new AbortController();
    const child = linkSignal(parent.signal, 0, '');
    parent.abort('why');
    expect(child.signal.reason).toBe('why');

    const disposed = linkSignal(undefined, 20, 'x');
    disposed.dispose();
    await wait(80);
    expect(disposed.signal.aborted).toBe(false);
  });
});
