import { describe, expect, it } from 'vitest';
import type { RunEventMessage } from '../src/index';
import { sseMessages } from '../src/runs/events';
import { clientFor, contractServerPerTest } from './support/client';

const serve = contractServerPerTest();

/** A byte stream that delivers `chunks` one read at a time. */
function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
}

describe('SSE decoding (sseMessages)', () => {
  it('reassembles events split at every byte, with \r\n, \r and \n line ends and multi-byte text', async () => {
    const bytes = new TextEncoder().encode(
      ': ping\r\n\r\nid: 1\r\nevent: a\r\ndata: {"x":"é✓"}\r\n\r\nid: 2\rdata: line1\rdata: line2\r\rid:3\ndata:tight\n\n',
    );
    const expected = [
      { id: '1', event: 'a', data: '{"x":"é✓"}' },
      { id: '2', event: undefined, data: 'line1\nline2' },
      { id: '3', event: undefined, data: 'tight' },
    ];
    for (let cut = 0; cut <= bytes.length; cut++) {
      const got = [];
      for await (const m of sseMessages(streamOf([bytes.slice(0, cut), bytes.slice(cut)]))) got.push(m);
      expect(got, `cut at ${cut}`).toEqual(expected);
    }
  });
});

describe('subscribeRunEvents', () => {
  it('delivers every event in order and stops after the terminal event', async () => {
    const s = await serve();
    const api = clientFor(s);
    const { data } = await api.executeWorkflow('text-echo', { default_value_1: 'sse' });
    const events: RunEventMessage[] = [];
    let opened = 0;
    let closed = 0;
    const stream = api.subscribeRunEvents(data.run_id, {
      onOpen: () => opened++,
      onEvent: (e) => events.push(e),
      onClose: () => closed++,
    });
    await stream.done;
    expect(events.map((e) => e.data.type)).toEqual([
      'run.queued',
      'run.started',
      'node.executing',
      'output.ready',
      'run.completed',
    ]);
    expect(events.map((e) => e.id)).toEqual(['1', '2', '3', '4', '5']);
    expect(events[0]?.event).toBe('run.queued');
    expect(events[4]?.data).toMatchObject({ run_id: data.run_id, status: 'completed', progress: 100 });
    expect([opened, closed]).toEqual([1, 1]);
    expect(s.requests.find((r) => r.path.endsWith('/events'))?.headers['x-api-key']).toBe(s.apiKey);
  });

  it('replays from fromSeq', async () => {
    const s = await serve();
    const api = clientFor(s);
    const { data } = await api.executeWorkflow('text-echo', { default_value_1: 'replay' });
    await api.subscribeRunEvents(data.run_id).done;
    const events: RunEventMessage[] = [];
    await api.subscribeRunEvents(data.run_id, { fromSeq: 3, onEvent: (e) => events.push(e) }).done;
    expect(events.map((e) => e.data.seq)).toEqual([3, 4, 5]);
    const last = s.requests.filter((r) => r.path.endsWith('/events')).at(-1)!;
    expect(new URL(last.url, s.url).searchParams.get('from_seq')).toBe('3');
  });

  it('reconnects after a dropped connection and resumes with Last-Event-ID: no loss, no duplicates', async () => {
    const s = await serve({ dropSseAfter: 2, stepMs: 30 });
    const api = clientFor(s);
    const { data } = await api.executeWorkflow('two-outputs', { default_value_1: 'resume' });
    const seqs: number[] = [];
    const errors: unknown[] = [];
    await api.subscribeRunEvents(data.run_id, {
      onEvent: (e) => seqs.push(e.data.seq),
      onError: (e) => errors.push(e),
    }).done;
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);
    expect(errors).toEqual([]);
    const streams = s.requests.filter((r) => r.path.endsWith('/events'));
    expect(streams).toHaveLength(2);
    expect(streams[1]?.headers['last-event-id']).toBe('2');
    expect(new URL(streams[1]!.url, s.url).searchParams.get('from_seq')).toBe('3');
  });

  it('an exception in onEvent goes to onError and the stream goes on, without reconnecting', async () => {
    const s = await serve();
    const api = clientFor(s);
    const { data } = await api.executeWorkflow('text-echo', { default_value_1: 'oops' });
    const bug = new Error('handler bug');
    const seqs: number[] = [];
    const errors: unknown[] = [];
    await api.subscribeRunEvents(data.run_id, {
      onEvent: (e) => {
        seqs.push(e.data.seq);
        if (e.data.seq === 2) throw bug;
      },
      onError: (e) => errors.push(e),
    }).done;
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    expect(errors).toEqual([bug]);
    expect(s.requests.filter((r) => r.path.endsWith('/events'))).toHaveLength(1);
  });

  it('close() ends the stream and resolves done; an external signal does too', async () => {
    const s = await serve();
    const api = clientFor(s);
    const { data } = await api.executeWorkflow('hang', {});
    // Subscribe once three events exist, so the replay sends them back to back (usually one chunk).
    while ((s.runs.get(data.run_id)?.events.length ?? 0) < 3) await new Promise((r) => setTimeout(r, 5));
    let closed = false;
    const events: RunEventMessage[] = [];
    const stream = api.subscribeRunEvents(data.run_id, {
      onEvent: (e) => {
        events.push(e);
        if (e.data.type === 'run.started') stream.close();
      },
      onClose: () => {
        closed = true;
      },
    });
    await stream.done;
    expect(closed).toBe(true);
    // Nothing after close(), even events that arrived in the same chunk.
    expect(events.map((e) => e.data.type)).toEqual(['run.queued', 'run.started']);

    const controller = new AbortController();
    const second = api.subscribeRunEvents(data.run_id, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await second.done;
  });

  it('reports a final failure to onError (unknown run: 404)', async () => {
    const s = await serve();
    const errors: Array<{ status?: number }> = [];
    await clientFor(s).subscribeRunEvents('no-such-run', {
      onError: (e) => errors.push(e as { status?: number }),
    }).done;
    expect(errors).toHaveLength(1);
    expect(errors[0]?.status).toBe(404);
  });
});
