import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/event-bus';
import { readingWrittenRuns } from '../../src/events/written-runs';
import type { Run, RunEvent } from '../../src/storage/records';
import { makeRun, queued, useDatabase } from '../storage/databases';

const eventOf = (run: Run, seq: number, type: string): RunEvent => ({
  runId: run.id,
  seq,
  type,
  data: {},
  ts: new Date().toISOString(),
});

// Written listeners (metrics, webhook deliveries) get the run as the event left it from its writer, and
// must not read it back from the database.
describe('the run as an event left it, for written listeners', () => {
  const database = useDatabase('sqlite');

  it('is handed to each written listener, and answered by the store view during the publish only', async () => {
    const stores = await database.open();
    const bus = new EventBus();
    const runs = readingWrittenRuns(stores.runs, bus);
    const stored = makeRun();
    await stores.runs.insert(stored, queued);
    // A run the store never saw: answered all the same, it can only have come from the bus.
    const inMemory = makeRun({ status: 'running', progress: 40 });
    const heard: Array<{ type: string; handed?: Readonly<Run>; read?: Run }> = [];
    const kept: Array<Promise<Run | undefined>> = [];
    bus.onWritten((event, run) => {
      const entry: { type: string; handed?: Readonly<Run>; read?: Run } = { type: event.type };
      if (run) entry.handed = run;
      heard.push(entry);
      kept.push(runs.get(event.runId).then((read) => (entry.read = read)));
    });

    bus.publish(eventOf(inMemory, 2, 'run.started'), inMemory);
    inMemory.progress = 90; // the writer moves on; what the listener read must not change with it
    bus.publish(eventOf(stored, 2, 'run.started'));
    await Promise.all(kept);

    expect(heard[0]?.handed).toBe(inMemory);
    expect(heard[0]?.read).toEqual({ ...inMemory, progress: 40 });
    expect(heard[1]?.handed).toBeUndefined();
    expect(heard[1]?.read).toEqual(await stores.runs.get(stored.id));
    // Outside a publish, and for another run than the one published, the store answers.
    expect(await runs.get(inMemory.id)).toBeUndefined();
    expect(bus.writtenRun(inMemory.id)).toBeUndefined();
    const listed = await runs.list({ sortBy: 'created_at', sortOrder: 'asc', page: 1, pageSize: 10 });
    expect(listed.total).toBe(1);
  });
});
