import type { RunEvent } from 'flowscale';
import { describe, expect, it } from 'vitest';
import { reduceRunEvent } from '../src/core/reduce';
import { IDLE_RUN, type RunSnapshot } from '../src/core/types';

// Events as they arrive off the wire, whose fields the reducer must not trust blindly.
const ev = (seq: number, type: RunEvent['type'], extra: Record<string, unknown> = {}): RunEvent =>
  ({
    seq,
    run_id: 'r1',
    type,
    status: 'running',
    progress: 0,
    ts: new Date(0).toISOString(),
    ...extra,
  }) as RunEvent;

describe('reduceRunEvent', () => {
  it('folds a run into status, progress, node, outputs', () => {
    const events = [
      ev(1, 'run.queued', { status: 'queued', queue_position: 2 }),
      ev(2, 'run.started'),
      ev(3, 'node.executing', { node_id: '2', node_type: 'ImageInvert', progress: 40 }),
      ev(4, 'output.ready', {
        progress: 90,
        output: {
          filename: 'out_3_AB.png',
          name: 'out_3_AB',
          content_type: 'image/png',
          size: 10,
          node_id: '3',
        },
      }),
      ev(5, 'run.completed', {
        status: 'completed',
        progress: 100,
        outputs: [{ filename: 'out_3_AB.png', name: 'out_3_AB' }],
      }),
    ];
    const states: RunSnapshot[] = [{ ...IDLE_RUN, runId: 'r1' }];
    for (const e of events) states.push(reduceRunEvent(states.at(-1)!, e));
    expect(states[1]).toMatchObject({ status: 'queued', queuePosition: 2 });
    expect(states[3]).toMatchObject({
      status: 'running',
      progress: 40,
      currentNode: { id: '2', type: 'ImageInvert' },
    });
    expect(states[5]).toMatchObject({ status: 'completed', progress: 100, currentNode: null, lastSeq: 5 });
    expect(states[5]!.outputs).toEqual([
      { name: 'out_3_AB', filename: 'out_3_AB.png', contentType: 'image/png', size: 10, nodeId: '3' },
    ]);
  });

  it('ignores events it has already applied (replay overlap)', () => {
    const state = reduceRunEvent(IDLE_RUN, ev(3, 'node.executing', { node_id: '1', progress: 50 }));
    expect(reduceRunEvent(state, ev(2, 'run.started', { progress: 10 }))).toBe(state);
  });

  it('turns failures into an error and treats FlowScale "error" as failed', () => {
    const failed = reduceRunEvent(
      IDLE_RUN,
      ev(1, 'run.failed', { status: 'error', error: { message: 'boom' } }),
    );
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toBe('boom');
  });
});
