import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describe as describeMessage,
  getJson,
  postJson,
  startTestEngine,
  type TestEngine,
  WsClient,
} from './helpers';
import { type HttpRecord, httpRecords, loadTranscript, socketSequence } from './transcript';

const records = loadTranscript('transcript-invalid-prompts.json');
const prompts = httpRecords(records, 'POST', '/prompt');

interface ErrorItem {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

/** Error bodies without what legitimately differs: Python tracebacks, ids, numbers and error order. */
function normalize(body: unknown): unknown {
  const b = structuredClone(body) as Record<string, unknown>;
  delete b.prompt_id;
  delete b.number;
  const nodeErrors = (b.node_errors ?? {}) as Record<string, { errors: ErrorItem[] }>;
  for (const entry of Object.values(nodeErrors)) {
    for (const e of entry.errors) delete e.extra_info.traceback;
    entry.errors.sort((x, y) => x.details.localeCompare(y.details));
  }
  return b;
}

/** Cases where the engine answers better than ComfyUI's bare 500 (documented in the README). */
const DELIBERATE_400 = new Set(['"{not json"', '{"prompt":[1,2,3]}']);

describe('replay of transcript-invalid-prompts', () => {
  let engine: TestEngine;
  let a: WsClient;
  const results: { record: HttpRecord; status: number; body: unknown }[] = [];

  beforeAll(async () => {
    engine = await startTestEngine();
    a = await WsClient.connect(engine.url, 'client-A');
    for (const record of prompts) {
      const res = await postJson(`${engine.url}/prompt`, record.req);
      results.push({ record, status: res.status, body: res.body });
      if (res.status === 200) await a.done((res.body as { prompt_id: string }).prompt_id);
    }
  });

  afterAll(async () => {
    a?.close();
    await engine?.stop();
  });

  it('answers every captured invalid prompt with the same status, error type and node_errors', () => {
    expect(results.length).toBe(prompts.length);
    for (const { record, status, body } of results) {
      if (DELIBERATE_400.has(JSON.stringify(record.req))) continue;
      expect({ req: record.req, status }).toEqual({ req: record.req, status: record.status });
      expect({ req: record.req, body: normalize(body) }).toEqual({
        req: record.req,
        body: normalize(record.resp),
      });
    }
  });

  it('answers malformed JSON and a non-object prompt with a JSON 400 naming the problem (ComfyUI: bare 500)', () => {
    const bad = results.filter((r) => DELIBERATE_400.has(JSON.stringify(r.record.req)));
    expect(bad.map((r) => r.status)).toEqual([400, 400]);
    expect((bad[0]!.body as { error: { type: string } }).error.type).toBe('invalid_json');
    expect((bad[1]!.body as { error: { type: string; message: string } }).error).toMatchObject({
      type: 'invalid_prompt',
      message: expect.stringContaining('JSON object'),
    });
  });

  it('sends nothing on the socket for rejected prompts, and runs the valid part of partly valid ones', () => {
    expect(a.events.map(describeMessage)).toEqual(socketSequence(records, 'A'));
    expect(a.withProgressState.map(describeMessage)).toEqual(socketSequence(records, 'A', true));
  });

  it('stays up after all of it', async () => {
    expect((await getJson(`${engine.url}/queue`)).status).toBe(200);
  });
});
