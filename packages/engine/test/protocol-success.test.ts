import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describe as describeMessage,
  getJson,
  history,
  type PromptReply,
  postJson,
  startTestEngine,
  type TestEngine,
  WsClient,
} from './helpers';
import { httpRecords, loadTranscript, socketSequence } from './transcript';

const records = loadTranscript('transcript-success.json');
const prompts = httpRecords(records, 'POST', '/prompt');

describe('replay of transcript-success (fresh run, cached re-run, partial change, no client_id)', () => {
  let engine: TestEngine;
  let a: WsClient;
  let b: WsClient;
  let anon: WsClient;
  const replies: PromptReply[] = [];

  beforeAll(async () => {
    engine = await startTestEngine();
    a = await WsClient.connect(engine.url, 'client-A');
    b = await WsClient.connect(engine.url, 'client-B');
    anon = await WsClient.connect(engine.url);
    for (const record of prompts) {
      const res = await postJson<PromptReply>(`${engine.url}/prompt`, record.req);
      expect(res.status).toBe(record.status);
      replies.push(res.body);
      // Every socket sees the idle status broadcast at the end of each run, with or without a client_id.
      await anon.waitFor(() => anon.events.filter(isIdleStatus).length >= replies.length);
    }
    await a.waitFor(() => a.events.length >= socketSequence(records, 'A').length);
  });

  afterAll(async () => {
    for (const c of [a, b, anon]) c?.close();
    await engine?.stop();
  });

  it('greets each socket with status and its sid (a 32-hex id when none was given)', () => {
    expect(a.messages[0]).toEqual({
      type: 'status',
      data: { status: { exec_info: { queue_remaining: 0 } }, sid: 'client-A' },
    });
    expect(b.messages[0]?.data.sid).toBe('client-B');
    expect(anon.messages[0]?.data.sid).toMatch(/^[0-9a-f]{32}$/);
  });

  it('answers POST /prompt like ComfyUI (explicit prompt_id kept, numbers counting up)', () => {
    expect(replies[0]).toEqual({
      prompt_id: '11111111-2222-3333-4444-555555555555',
      number: 0,
      node_errors: {},
    });
    expect(replies.map((r) => r.number)).toEqual([0, 1, 2, 3]);
    expect(replies[1]?.prompt_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends each socket the same message sequence as the capture (order, types, nodes, cache lists)', () => {
    expect(socketSequence(records, 'A').length).toBeGreaterThan(40);
    expect(a.events.map(describeMessage)).toEqual(socketSequence(records, 'A'));
    expect(b.events.map(describeMessage)).toEqual(socketSequence(records, 'B'));
    expect(anon.events.map(describeMessage)).toEqual(socketSequence(records, 'anon'));
  });

  it('sends the same progress_state snapshots, in the same places, as the capture', () => {
    expect(a.withProgressState.map(describeMessage)).toEqual(socketSequence(records, 'A', true));
    expect(anon.withProgressState.map(describeMessage)).toEqual(socketSequence(records, 'anon', true));
  });

  it('re-sends cached UI outputs with the same file names', () => {
    const executed = a.events.filter((m) => m.type === 'executed' && m.data.node === '3');
    const names = executed.map((m) =>
      (m.data.output as { images: { filename: string }[] }).images.map((i) => i.filename),
    );
    expect(names).toEqual([
      ['inv_00001_.png', 'inv_00002_.png'],
      ['inv_00001_.png', 'inv_00002_.png'],
      ['inv_00003_.png', 'inv_00004_.png'],
    ]);
    const previews = a.events.filter((m) => m.type === 'executed' && m.data.node === '4');
    const first = (previews[0]!.data.output as { images: { filename: string; type: string }[] }).images;
    expect(first[0]?.filename).toMatch(/^ComfyUI_temp_[a-z]{5}_00001_\.png$/);
    expect(first[0]?.type).toBe('temp');
    expect((previews[1]!.data.output as { images: unknown[] }).images).toEqual(first);
  });

  it('writes the history entry with ComfyUI fields before the completion signal', async () => {
    const captured = httpRecords(records, 'GET', '/history/11111111-2222-3333-4444-555555555555')[0];
    const expected = (captured!.resp as Record<string, Record<string, unknown>>)[
      '11111111-2222-3333-4444-555555555555'
    ];
    const entry = await history(engine, '11111111-2222-3333-4444-555555555555');
    expect(entry.prompt).toEqual(expected?.prompt);
    expect(entry.outputs['3']).toEqual((expected!.outputs as Record<string, unknown>)['3']);
    expect(entry.outputs['6']).toEqual({ text: ['hello world'] });
    expect(Object.keys(entry.meta).sort()).toEqual(['3', '4', '6']);
    expect(entry.status.status_str).toBe('success');
    expect(entry.status.completed).toBe(true);
    expect(entry.status.messages.map((m) => m[0])).toEqual([
      'execution_start',
      'execution_cached',
      'execution_success',
    ]);
  });

  it('pages history like ComfyUI (newest N, or N from an offset)', async () => {
    const newest = await getJson(`${engine.url}/history?max_items=2`);
    expect(Object.keys(newest.body)).toEqual([replies[2]?.prompt_id, replies[3]?.prompt_id]);
    const first = await getJson(`${engine.url}/history?max_items=1&offset=0`);
    expect(Object.keys(first.body)).toEqual([replies[0]?.prompt_id]);
    expect((await getJson(`${engine.url}/history/unknown-id`)).body).toEqual({});
  });

  it('serves outputs through /view, with preview and channel variants', async () => {
    const base = `${engine.url}/view?filename=inv_00001_.png&subfolder=peer&type=output`;
    const png = await fetch(base);
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(png.headers.get('content-disposition')).toBe('filename="inv_00001_.png"');
    const webp = await fetch(`${base}&preview=webp;50`);
    expect(webp.headers.get('content-type')).toBe('image/webp');
    expect(
      Buffer.from(await webp.arrayBuffer())
        .subarray(0, 4)
        .toString(),
    ).toBe('RIFF');
    const alpha = await fetch(`${base}&channel=a`);
    expect(alpha.headers.get('content-type')).toBe('image/png');
    expect((await getJson(`${engine.url}/queue`)).body).toEqual({ queue_running: [], queue_pending: [] });
  });
});

function isIdle(m: { data: Record<string, unknown> }): boolean {
  return (m.data.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining === 0;
}

function isIdleStatus(m: { type: string; data: Record<string, unknown> }): boolean {
  return m.type === 'status' && !('sid' in m.data) && isIdle(m);
}
