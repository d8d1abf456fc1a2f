import { describe, expect, it } from 'vitest';
import { linkSignal } from '../src/core/timing';
import { TimeoutError } from '../src/index';

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
