import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness';

let server: TestServer;

interface SseFrame {
  id?: string;
  event?: string;
  data?: {
    seq: number;
    type: string;
    status: string;
    run_id: string;
    ts: string;
    progress: number;
    queue_position?: number;
    node_id?: string;
    value?: number;
    max?: number;
  };
  comment?: string;
}

function parseFrames(text: string): SseFrame[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const frame: SseFrame = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) frame.comment = line.slice(1).trim();
        else if (line.startsWith('id: ')) frame.id = line.slice(4);
        else if (line.startsWith('event: ')) frame.event = line.slice(7);
        else if (line.startsWith('data: ')) frame.data = JSON.parse(line.slice(6));
      }
      return frame;
    });
}

/** Reads an SSE response until it ends or `stopAfter` events arrived (then disconnects). */
async function readSse(
  path: string,
  headers: Record<string, string> = {},
  stopAfter = Number.POSITIVE_INFINITY,
): Promise<{ frames: SseFrame[]; ended: boolean }> {
  const controller = new AbortController();
  const response = await server.request(path, { headers, signal: controller.signal });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return { frames: parseFrames(text), ended: true };
    text += decoder.decode(value, { stream: true });
    const complete = text.slice(0, text.lastIndexOf('\n\n') + 2);
    const frames = parseFrames(complete);
    if (frames.filter((frame) => frame.data).length >= stopAfter) {
      controller.abort();
      // Several events may share a chunk; the client "saw" only the first stopAfter of them.
      let kept = 0;
      return { frames: frames.filter((frame) => !frame.data || ++kept <= stopAfter), ended: false };
    }
  }
}

/** Reads an SSE response to its end; gives up (ended: false) after `deadlineMs`. */
async function readToEnd(
  path: string,
  headers: Record<string, string>,
  deadlineMs: number,
): Promise<{ frames: SseFrame[]; ended: boolean; openMs: number }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), deadlineMs);
  const started = Date.now();
  const response = await server.request(path, { headers, signal: controller.signal });
  expect(response.status).toBe(200);
  const decoder = new TextDecoder();
  let text = '';
  try {
    const reader = response.body!.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      text += decoder.decode(read.value, { stream: true });
    }
    return { frames: parseFrames(text), ended: true, openMs: Date.now() - started };
  } catch {
    return { frames: parseFrames(text.slice(0, text.lastIndexOf('\n\n') + 2)), ended: false, openMs: 0 };
  } finally {
    clearTimeout(timer);
  }
}

const events = (frames: SseFrame[]) => frames.filter((frame) => frame.data);
const submitSlow = async (seconds: number): Promise<string> =>
  (await server.api.executeWorkflow('slow-delay', { default_value_1: 'sse', value_4: seconds })).data.run_id;

beforeAll(async () => {
  server = await startTestServer({ ssePingMs: 200 });
});
afterAll(async () => {
  await server?.close();
});

describe('SSE run events', () => {
  it('resumes after a disconnect with Last-Event-ID: no gap, no duplicate, closed after the terminal event', async () => {
    const runId = await submitSlow(1);
    const first = await readSse(`/api/v1/runs/${runId}/events`, {}, 2);
    expect(first.ended).toBe(false);
    expect(events(first.frames).map((frame) => frame.id)).toEqual(['1', '2']);

    const rest = await readSse(`/api/v1/runs/${runId}/events`, { 'last-event-id': '2' });
    expect(rest.ended).toBe(true);
    const seqs = events(rest.frames).map((frame) => frame.data!.seq);
    expect(seqs[0]).toBe(3);
    expect(seqs).toEqual(seqs.map((_, index) => index + 3));
    const last = events(rest.frames).at(-1)!;
    expect(last.event).toBe('run.completed');
    expect(last.data).toMatchObject({
      run_id: runId,
      type: 'run.completed',
      status: 'completed',
      progress: 100,
    });
    expect(Number.isNaN(Date.parse(last.data!.ts))).toBe(false);
    // Keep-alive comments were sent while the slow node ran.
    expect(rest.frames.some((frame) => frame.comment === 'ping')).toBe(true);
  });

  it('replays from ?from_seq=N inclusive on a finished run, and from past the end closes at once', async () => {
    const runId = await submitSlow(0);
    const all = await readSse(`/api/v1/runs/${runId}/events`);
    const total = events(all.frames).length;
    expect(events(all.frames)[0]?.data).toMatchObject({ type: 'run.queued', status: 'queued', progress: 0 });
    expect(events(all.frames)[0]?.data?.queue_position).toBeGreaterThanOrEqual(0);
    expect(total).toBeGreaterThanOrEqual(4);
    const fromThree = await readSse(`/api/v1/runs/${runId}/events?from_seq=3`);
    expect(events(fromThree.frames).map((frame) => frame.data!.seq)).toEqual(
      Array.from({ length: total - 2 }, (_, index) => index + 3),
    );
    const pastEnd = await readSse(`/api/v1/runs/${runId}/events?from_seq=${total + 5}`);
    expect(pastEnd.ended).toBe(true);
    expect(events(pastEnd.frames)).toEqual([]);
  });

  it('a stream opened past the end of a run in flight ends when the run does (from_seq=99, Last-Event-ID: 99)', async () => {
    const runId = await submitSlow(1.5);
    expect((await server.api.getRun(runId)).data.status).not.toMatch(/completed|failed|cancelled/);
    const [byQuery, byHeader] = await Promise.all([
      readToEnd(`/api/v1/runs/${runId}/events?from_seq=99`, {}, 15_000),
      readToEnd(`/api/v1/runs/${runId}/events`, { 'last-event-id': '99' }, 15_000),
    ]);
    for (const stream of [byQuery, byHeader]) {
      // Issue 12: the terminal event (seq < 99) was dropped as already seen and the stream pinged forever.
      expect(stream.ended).toBe(true);
      expect(events(stream.frames)).toEqual([]);
      // It stayed open while the run ran (closing at once would be wrong too).
      expect(stream.openMs).toBeGreaterThan(500);
    }
    expect((await server.api.getRun(runId)).data.status).toBe('completed');
  });

  it('an open stream is ended when the server shuts down', async () => {
    const other = await startTestServer();
    const runId = (await other.api.executeWorkflow('slow-delay', { default_value_1: 'x', value_4: 30 })).data
      .run_id;
    const response = await other.request(`/api/v1/runs/${runId}/events`);
    const reader = response.body!.getReader();
    await reader.read();
    await other.close();
    let ended = false;
    for (;;) {
      const { done } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
    }
    expect(ended).toBe(true);
  });

  it('progress moves inside a long node: rising steps between its node.executing and the next, 100 at the end', async () => {
    const runId = await submitSlow(1.5);
    const all = events((await readSse(`/api/v1/runs/${runId}/events`)).frames).map((frame) => frame.data!);
    const delayStart = all.findIndex((event) => event.type === 'node.executing' && event.node_id === '2');
    const nextStart = all.findIndex((event, index) => index > delayStart && event.type === 'node.executing');
    expect(delayStart).toBeGreaterThan(-1);
    expect(nextStart).toBeGreaterThan(delayStart);
    const before = all[delayStart]!.progress;
    const after = all[nextStart]!.progress;
    const inside = all.slice(delayStart + 1, nextStart).filter((event) => event.type === 'node.progress');
    const values = inside.map((event) => event.progress);
    // The FSDelay node (one of four) reports ~15 steps; the run's progress must follow them.
    expect(new Set(values).size).toBeGreaterThan(2);
    for (const [index, value] of values.entries()) {
      expect(value).toBeGreaterThan(index === 0 ? before : values[index - 1]!);
      expect(value).toBeLessThan(after);
    }
    // node.progress keeps its own fields, and its last step (value === max) is never coalesced away.
    expect(inside.at(-1)).toMatchObject({ node_id: '2', value: inside.at(-1)!.max });
    const progresses = all.map((event) => event.progress);
    expect(progresses).toEqual([...progresses].sort((a, b) => a - b));
    expect(all.at(-1)).toMatchObject({ type: 'run.completed', progress: 100 });
  });

  it('the SDK resumes with fromSeq', async () => {
    const runId = await submitSlow(0);
    const seen: number[] = [];
    await server.api.subscribeRunEvents(runId, { fromSeq: 2, onEvent: (event) => seen.push(event.data.seq) })
      .done;
    expect(seen[0]).toBe(2);
    expect(seen).toEqual(seen.map((_, index) => index + 2));
  });
});
