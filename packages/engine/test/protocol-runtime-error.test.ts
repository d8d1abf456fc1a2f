import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describe as describeMessage,
  history,
  runPrompt,
  startTestEngine,
  type TestEngine,
  WsClient,
} from './helpers';
import { httpRecords, loadTranscript } from './transcript';

const records = loadTranscript('transcript-runtime-error.json');
const failing = httpRecords(records, 'POST', '/prompt')[0]!.req as { prompt: Record<string, unknown> };

describe('replay of transcript-runtime-error (SaveImage with a prefix escaping output/)', () => {
  let engine: TestEngine;
  let a: WsClient;
  let b: WsClient;

  beforeAll(async () => {
    engine = await startTestEngine();
    a = await WsClient.connect(engine.url, 'client-A');
    b = await WsClient.connect(engine.url, 'client-B');
  });

  afterAll(async () => {
    a?.close();
    b?.close();
    await engine?.stop();
  });

  it('reports execution_error for the failing node after running the good branches, then status and executing null', async () => {
    const { prompt_id } = await runPrompt(engine, a, failing.prompt);
    const seq = a.events.map(describeMessage);
    expect(seq.slice(0, 4)).toEqual(['status:1', 'status:1', 'execution_start', 'execution_cached:[]']);
    expect(seq.slice(-3)).toEqual(['execution_error:3', 'status:0', 'executing:null']);
    expect(seq).not.toContain('execution_success');
    const error = a.events.find((m) => m.type === 'execution_error')?.data as Record<string, unknown>;
    expect(Object.keys(error)).toEqual([
      'prompt_id',
      'node_id',
      'node_type',
      'executed',
      'exception_message',
      'exception_type',
      'traceback',
      'current_inputs',
      'current_outputs',
      'timestamp',
    ]);
    expect(error).toMatchObject({
      prompt_id,
      node_id: '3',
      node_type: 'SaveImage',
      exception_type: 'Exception',
    });
    expect(error.exception_message).toContain('Saving image outside the output folder is not allowed.');
    expect(error.executed).toEqual(expect.arrayContaining(['6', '2', '1', '4', '5']));
    expect((error.current_inputs as Record<string, string[]>).filename_prefix).toEqual(['../../escape']);
    expect(b.events.map(describeMessage)).toEqual(['status:1', 'status:1', 'status:0']);

    const entry = await history(engine, prompt_id);
    expect(entry.status.status_str).toBe('error');
    expect(entry.status.completed).toBe(false);
    expect(entry.status.messages.at(-1)?.[0]).toBe('execution_error');
    expect(entry.outputs).toEqual({
      5: { images: [{ filename: 'side_00001_.png', subfolder: 'err', type: 'output' }] },
      6: { text: ['abc-def'] },
    });
  });

  it('re-runs only the failing node the second time; the rest is cached and re-sent', async () => {
    a.clear();
    await runPrompt(engine, a, failing.prompt);
    const seq = a.events.map(describeMessage);
    expect(seq).toEqual([
      'status:1',
      'status:1',
      'execution_start',
      // ComfyUI lists 1,2,6,4,5 (submission order); JavaScript objects order integer keys numerically.
      'execution_cached:[1,2,4,5,6]',
      'executed:6',
      'executed:5',
      'executing:3',
      'execution_error:3',
      'status:0',
      'executing:null',
    ]);
    expect(a.events.find((m) => m.type === 'execution_error')?.data.executed).toEqual([]);
  });
});
