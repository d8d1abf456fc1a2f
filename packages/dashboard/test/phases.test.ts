import type { RunEvent, RunRecord } from 'flowscale';
import { describe, expect, it } from 'vitest';
import { looksLikeLoader, runPhases } from '../src/phases';

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ms)).toISOString();
let seq = 0;
const event = (type: string, ms: number, extra: Record<string, unknown> = {}) =>
  ({ type, ts: at(ms), seq: ++seq, run_id: 'r', status: 'running', progress: 0, ...extra }) as RunEvent;
const executing = (ms: number, id: string, type: string) =>
  event('node.executing', ms, { node_id: id, node_type: type });

const run = { _id: 'r', status: 'completed', created_at: at(0), started_at: at(200), completed_at: at(3200) };

describe('runPhases', () => {
  const events = [
    event('run.queued', 0),
    event('run.started', 200),
    executing(210, '1', 'CheckpointLoaderSimple'),
    executing(1710, '2', 'LoraLoader'),
    executing(2010, '3', 'KSampler'),
    event('output.ready', 3000),
    executing(3010, '4', 'SaveImage'),
    event('run.completed', 3200),
  ];

  it('splits queue, model-load (time in loader nodes) and the rest of the run', () => {
    const phases = runPhases(run as RunRecord, events, looksLikeLoader);
    expect(phases).toMatchObject({ queue: 200, load: 1800, run: 1200 });
    expect(phases.loaders).toEqual([
      { nodeId: '1', nodeType: 'CheckpointLoaderSimple', ms: 1500 },
      { nodeId: '2', nodeType: 'LoraLoader', ms: 300 },
    ]);
  });

  it('counts only the classes the rule names, and counts a loader still going up to now', () => {
    const onlyCheckpoints = (type: string) => type === 'CheckpointLoaderSimple';
    expect(runPhases(run as RunRecord, events, onlyCheckpoints).load).toBe(1500);
    const running = { ...run, status: 'running', completed_at: null } as RunRecord;
    const phases = runPhases(running, events.slice(0, 3), looksLikeLoader, Date.parse(at(1000)));
    expect(phases).toMatchObject({ queue: 200, load: 790, run: 10 });
  });

  it('has no run or load time before the run starts', () => {
    const queued = { ...run, status: 'queued', started_at: null, completed_at: null } as RunRecord;
    expect(runPhases(queued, events.slice(0, 1), looksLikeLoader, Date.parse(at(500)))).toMatchObject({
      queue: 500,
      load: null,
      run: null,
    });
  });
});
