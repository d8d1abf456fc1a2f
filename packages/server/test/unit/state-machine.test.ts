import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ComfyHistoryEntry, ComfyMessage } from '../../src/backends/comfy-types';
import {
  type EventDraft,
  initialState,
  type RunMessage,
  type RunState,
  step,
} from '../../src/runs/state-machine';
import type { RunOutput } from '../../src/storage/records';

// Recorded from a real ComfyUI 0.3.64 on a CPU (copied from the team's reference captures).
const CAPTURES = path.resolve(import.meta.dirname, '../fixtures/comfyui-0.3.64');

interface Recording {
  graph: Record<string, { class_type: string }>;
  messages: ComfyMessage[];
  history: ComfyHistoryEntry;
}

type CaptureRecord =
  | { kind: 'ws'; ws: string; msg: ComfyMessage }
  | { kind: 'http'; method: string; path: string; req: { prompt?: Recording['graph'] }; resp: unknown }
  | { kind: 'note' };

/** The `index`-th prompt of a transcript: its graph, socket A's messages about it, its history entry. */
function recording(file: string, index: number): Recording {
  const records = JSON.parse(fs.readFileSync(path.join(CAPTURES, file), 'utf8')) as CaptureRecord[];
  const posts = records.filter(
    (r): r is Extract<CaptureRecord, { kind: 'http' }> =>
      r.kind === 'http' && r.method === 'POST' && r.path === '/prompt' && !!r.req?.prompt,
  );
  const post = posts[index]!;
  const promptId = (post.resp as { prompt_id: string }).prompt_id;
  const messages = records
    .filter((r): r is Extract<CaptureRecord, { kind: 'ws' }> => r.kind === 'ws' && r.ws === 'A')
    .map((r) => r.msg)
    .filter((m) => m.data?.prompt_id === promptId);
  const historyRecord = records.find(
    (r): r is Extract<CaptureRecord, { kind: 'http' }> =>
      r.kind === 'http' && r.path === `/history/${promptId}`,
  );
  const history = (historyRecord!.resp as Record<string, ComfyHistoryEntry>)[promptId]!;
  return { graph: post.req.prompt!, messages, history };
}

const CTX = { now: '2026-01-01T00:00:00.000Z', backend: 'container #1' };

/**
 * Replays messages through the machine, answering its effects the way the run service does: a collect
 * stores one fake output per produced file, read_history answers with the recorded entry.
 */
function replay(state: RunState, messages: RunMessage[], history?: ComfyHistoryEntry, failCollect = false) {
  const events: EventDraft[] = [];
  const feed = (message: RunMessage): void => {
    const transition = step(state, message, CTX);
    state = transition.state;
    events.push(...transition.events);
    for (const effect of transition.effects) {
      if (effect.kind === 'read_history' && history) feed({ type: 'fs.history', data: { entry: history } });
      if (effect.kind === 'complete_after_collects') feed({ type: 'fs.complete', data: {} });
      if (effect.kind === 'collect') {
        if (failCollect) {
          feed({ type: 'fs.collect_failed', data: { message: 'disk full' } });
          continue;
        }
        for (const name of effect.names) {
          const output: RunOutput = {
            filename: `${name}.png`,
            name,
            content_type: 'image/png',
            size: 1,
            node_id: effect.nodeId,
          };
          feed({ type: 'fs.output_stored', data: { output } });
        }
      }
    }
  };
  for (const message of messages) feed(message);
  return { state, events, types: events.map((event) => event.type) };
}

const startState = (graph: Recording['graph'], outputNames: string[]): RunState =>
  initialState({ status: 'queued', progress: 0, graph, outputNames, outputs: [] });

describe('run state machine, on recorded ComfyUI 0.3.64 sequences', () => {
  it('a fresh run: started, each node executing in order, outputs stored from `executed`, completed once', () => {
    const rec = recording('transcript-success.json', 0);
    const { types, events, state } = replay(
      startState(rec.graph, ['images_3_TOKEN', 'text_6_TOKEN']),
      rec.messages,
      rec.history,
    );
    expect(types[0]).toBe('run.started');
    expect(events.filter((e) => e.type === 'node.executing').map((e) => e.data.node_id)).toEqual([
      '5',
      '6',
      '1',
      '4',
      '2',
      '3',
    ]);
    expect(types.filter((t) => t === 'output.ready')).toHaveLength(2);
    expect(types.at(-1)).toBe('run.completed');
    expect(types.filter((t) => t === 'run.completed')).toHaveLength(1);
    expect(state.status).toBe('completed');
    expect(events.at(-1)?.data.progress).toBe(100);
    const progresses = events.map((e) => e.data.progress as number);
    expect(progresses).toEqual([...progresses].sort((a, b) => a - b));
  });

  it('a fully cached re-run: no node.executing, outputs still stored, completes without history', () => {
    const rec = recording('transcript-success.json', 1);
    const { types } = replay(startState(rec.graph, ['images_3_TOKEN', 'text_6_TOKEN']), rec.messages);
    expect(types).not.toContain('node.executing');
    expect(types).toEqual(['run.started', 'output.ready', 'output.ready', 'run.completed']);
  });

  it('a runtime error: fails with the message, node id and class from the history entry', () => {
    const rec = recording('transcript-runtime-error.json', 0);
    const { state, events } = replay(startState(rec.graph, ['images_3_TOKEN']), rec.messages, rec.history);
    expect(state.status).toBe('failed');
    const failed = events.at(-1)!;
    expect(failed.type).toBe('run.failed');
    expect(failed.data.error).toMatchObject({ node_id: '3', node_type: 'SaveImage' });
    expect(String((failed.data.error as { message: string }).message)).toContain(
      'Saving image outside the output folder',
    );
  });

  it('an interrupt: the history says error with execution_interrupted and no exception, so the run fails as interrupted', () => {
    const graph = { '1': { class_type: 'EmptyImage' }, '2': { class_type: 'SaveImage' } };
    const prompt_id = 'p';
    const history: ComfyHistoryEntry = {
      outputs: {},
      status: {
        status_str: 'error',
        completed: false,
        messages: [['execution_interrupted', { prompt_id, node_id: '1' }]],
      },
    };
    const { types, events } = replay(
      startState(graph, ['images_2_T']),
      [
        { type: 'execution_start', data: { prompt_id } },
        { type: 'executing', data: { node: '1', prompt_id } },
        { type: 'execution_interrupted', data: { prompt_id, node_id: '1' } },
        { type: 'executing', data: { node: null, prompt_id } },
      ],
      history,
    );
    expect(types).toEqual(['run.started', 'node.executing', 'run.failed']);
    expect(events.at(-1)!.data.error).toEqual({ message: 'Interrupted on container #1' });
  });

  it('after a socket reconnect: repeated and missing messages still give one start, monotonic progress, and the history settles it', () => {
    const rec = recording('transcript-success.json', 0);
    const executingTwo = rec.messages.findIndex((m) => m.type === 'executing' && m.data.node === '2');
    // The socket dropped after node 2 started: the rest never arrived, and on reconnect ComfyUI resent
    // `executing 2` before the reconciler read the history entry.
    const seen = [...rec.messages.slice(0, executingTwo + 1), rec.messages[executingTwo]!];
    const { types, events } = replay(startState(rec.graph, ['images_3_TOKEN', 'text_6_TOKEN']), [
      ...seen,
      { type: 'fs.history', data: { entry: rec.history } },
    ]);
    expect(types.filter((t) => t === 'run.started')).toHaveLength(1);
    expect(types.filter((t) => t === 'output.ready')).toHaveLength(2); // node 6 from `executed`, node 3 from history
    expect(types.at(-1)).toBe('run.completed');
    const progresses = events.map((e) => e.data.progress as number);
    expect(progresses).toEqual([...progresses].sort((a, b) => a - b));
  });

  it('progress inside a node stays between its neighbours and never goes back', () => {
    const graph = { '1': { class_type: 'A' }, '2': { class_type: 'KSampler' } };
    const prompt_id = 'p';
    const { events } = replay(startState(graph, []), [
      { type: 'executing', data: { node: '1', prompt_id } },
      { type: 'executing', data: { node: '2', prompt_id } },
      { type: 'progress', data: { node: '2', value: 5, max: 10, prompt_id } },
      { type: 'progress', data: { node: '2', value: 10, max: 10, prompt_id } },
      { type: 'progress', data: { node: '9', value: 1, max: 10, prompt_id } }, // a node not seen starting
    ]);
    expect(events.map((e) => [e.type, e.data.progress])).toEqual([
      ['run.started', 0],
      ['node.executing', 0],
      ['node.executing', 50],
      ['node.progress', 75],
      ['node.progress', 99],
      ['node.progress', 50], // written as the log's progress; the service applies what it writes
    ]);
  });

  it('a failed collect fails the run naming the backend, and nothing follows a terminal event', () => {
    const rec = recording('transcript-success.json', 1);
    const { types, events, state } = replay(
      startState(rec.graph, ['images_3_TOKEN']),
      [...rec.messages, { type: 'fs.cancel', data: {} }],
      undefined,
      true,
    );
    expect(types).toEqual(['run.started', 'run.failed']);
    expect(events.at(-1)!.data.error).toEqual({
      message: 'Could not fetch outputs from container #1: disk full',
    });
    expect(step(state, { type: 'fs.complete', data: {} }, CTX).events).toEqual([]);
  });

  it('cancel of a queued run is one run.cancelled with its completion time', () => {
    const { events } = replay(startState({ '1': { class_type: 'A' } }, []), [
      { type: 'fs.cancel', data: {} },
    ]);
    expect(events).toEqual([
      {
        type: 'run.cancelled',
        data: { status: 'cancelled', progress: 0 },
        patch: { status: 'cancelled', completedAt: CTX.now, progress: 0 },
      },
    ]);
  });
});
