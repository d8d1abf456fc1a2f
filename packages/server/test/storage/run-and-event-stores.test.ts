import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/storage/records';
import { DATABASES, makeRun, nextTime, queued, useDatabase } from './databases';

// One suite, run against SQLite and against Postgres: both must behave exactly alike.
describe.each(DATABASES)('run and event stores on %s', (kind) => {
  const database = useDatabase(kind);

  it('insert stores the run, its first event, its output placeholders and its idempotency claim', async () => {
    const stores = await database.open();
    const run = makeRun();
    const claim = { scope: 'key-1', key: 'idem-1', requestHash: 'hash-a' };
    const result = await stores.runs.insert(run, queued, claim);
    if (result.kind !== 'created') throw new Error(`expected created, got ${result.kind}`);
    expect(result.event).toMatchObject({ runId: run.id, seq: 1, type: 'run.queued' });
    expect(result.event.data).toEqual({
      status: 'queued',
      progress: 0,
      queue_position: 0,
      seq: 1,
      run_id: run.id,
      type: 'run.queued',
      ts: result.event.ts,
    });
    expect(result.run).toEqual({ ...run, updatedAt: result.event.ts });

    // Read back exactly as written, including JSON key order and unicode.
    const stored = await stores.runs.get(run.id);
    expect(stored).toEqual(result.run);
    expect(JSON.stringify(stored?.graph)).toBe(JSON.stringify(run.graph));
    expect(await stores.events.list(run.id, 1)).toEqual([result.event]);
    const outputName = run.outputNames[0]!;
    expect(await stores.outputs.find(outputName)).toEqual({
      filename: outputName,
      name: outputName,
      runId: run.id,
      nodeId: '3',
      contentType: null,
      size: null,
      storageKey: null,
      ready: false,
    });
    expect(await stores.idempotency.find('key-1', 'idem-1')).toEqual({
      requestHash: 'hash-a',
      runId: run.id,
    });
  });

  it('an idempotency key replays the same request and refuses a different one', async () => {
    const stores = await database.open();
    const first = makeRun();
    const claim = { scope: 'key-1', key: 'idem-2', requestHash: 'hash-a' };
    const created = await stores.runs.insert(first, queued, claim);
    expect(created.kind).toBe('created');

    const again = makeRun();
    const replayed = await stores.runs.insert(again, queued, claim);
    expect(replayed).toEqual({ kind: 'replayed', run: await stores.runs.get(first.id) });

    const different = makeRun();
    const conflict = await stores.runs.insert(different, queued, { ...claim, requestHash: 'hash-b' });
    expect(conflict).toEqual({ kind: 'conflict', runId: first.id });

    // Neither the replay nor the conflict stored anything of its own.
    expect(await stores.runs.get(again.id)).toBeUndefined();
    expect(await stores.runs.get(different.id)).toBeUndefined();
    expect(await stores.events.list(again.id, 1)).toEqual([]);
    expect(await stores.outputs.find(again.outputNames[0]!)).toBeUndefined();
    expect(await stores.runs.countByStatus()).toEqual({ queued: 1 });
    // The same key in another scope (another API key) is another key.
    const other = await stores.runs.insert(makeRun(), queued, { ...claim, scope: 'key-2' });
    expect(other.kind).toBe('created');
  });

  it('a failing insert leaves nothing behind: no run, no claim, no event, no placeholder', async () => {
    const stores = await database.open();
    const first = makeRun();
    await stores.runs.insert(first, queued);
    // The second run's placeholder collides with the first's output row, after its run row went in.
    const second = makeRun({ outputNames: [`text_3_${'x'.repeat(8)}`, first.outputNames[0]!] });
    const claim = { scope: 'key-1', key: 'idem-3', requestHash: 'hash-a' };
    await expect(stores.runs.insert(second, queued, claim)).rejects.toThrow();
    expect(await stores.runs.get(second.id)).toBeUndefined();
    expect(await stores.idempotency.find('key-1', 'idem-3')).toBeUndefined();
    expect(await stores.events.list(second.id, 1)).toEqual([]);
    expect(await stores.outputs.find(second.outputNames[0]!)).toBeUndefined();

    // The same run id inserted properly afterwards starts its events at 1 (no stale seq kept).
    const retried = await stores.runs.insert(
      { ...second, outputNames: [second.outputNames[0]!] },
      queued,
      claim,
    );
    expect(retried.kind === 'created' && retried.event.seq).toBe(1);
  });

  it('get answers undefined for an unknown run', async () => {
    const stores = await database.open();
    expect(await stores.runs.get('no-such-run')).toBeUndefined();
  });

  it('update changes only the given fields and stamps updatedAt', async () => {
    const stores = await database.open();
    const run = makeRun();
    const created = await stores.runs.insert(run, queued);
    const before = created.kind === 'created' ? created.run : run;
    const submittedAt = nextTime();
    await stores.runs.update(run.id, { backendId: 'embedded', submittedAt });
    const after = await stores.runs.get(run.id);
    expect(after).toEqual({ ...before, backendId: 'embedded', submittedAt, updatedAt: after?.updatedAt });
    expect(after!.updatedAt >= before.updatedAt).toBe(true);
    // null clears a field.
    await stores.runs.update(run.id, { backendId: null, submittedAt: null, error: null });
    expect(await stores.runs.get(run.id)).toMatchObject({ backendId: null, submittedAt: null, error: null });
  });

  it('append numbers each run 1, 2, 3…, applies the patch with the event, and list reads from a seq', async () => {
    const stores = await database.open();
    const run = makeRun();
    await stores.runs.insert(run, queued);
    const startedAt = nextTime();
    const started = await stores.events.append(
      run.id,
      'run.started',
      { status: 'running' },
      { status: 'running', startedAt, backendId: 'embedded' },
    );
    expect(started).toMatchObject({ runId: run.id, seq: 2, type: 'run.started' });
    expect(started.data).toEqual({
      status: 'running',
      seq: 2,
      run_id: run.id,
      type: 'run.started',
      ts: started.ts,
    });
    const completedAt = nextTime();
    const error = { message: 'boom ✗', node_id: '3', node_type: 'FSSaveText' };
    const failed = await stores.events.append(
      run.id,
      'run.failed',
      { status: 'failed', error },
      { status: 'failed', error, completedAt, progress: 40 },
    );
    expect(failed.seq).toBe(3);
    expect(await stores.runs.get(run.id)).toMatchObject({
      status: 'failed',
      startedAt,
      completedAt,
      backendId: 'embedded',
      error,
      progress: 40,
      updatedAt: failed.ts,
    });
    expect((await stores.events.list(run.id, 2)).map((event) => event.seq)).toEqual([2, 3]);
    expect(await stores.events.list(run.id, 3)).toEqual([failed]);
    expect(await stores.events.list(run.id, 4)).toEqual([]);
    expect(await stores.events.list('no-such-run', 1)).toEqual([]);
  });

  it('claim places an unplaced unfinished run once, and never a placed or finished one', async () => {
    const stores = await database.open();
    const run = makeRun();
    await stores.runs.insert(run, queued);
    expect(await stores.runs.claim(run.id, 'b1')).toBe(true);
    expect(await stores.runs.claim(run.id, 'b2')).toBe(false);
    expect(await stores.runs.get(run.id)).toMatchObject({ backendId: 'b1', submittedAt: null });
    await stores.runs.update(run.id, { backendId: null, submittedAt: nextTime() });
    expect(await stores.runs.claim(run.id, 'b2')).toBe(true);
    expect(await stores.runs.get(run.id)).toMatchObject({ backendId: 'b2', submittedAt: null });
    expect(await stores.runs.claim('no-such-run', 'b1')).toBe(false);
    const done = makeRun();
    await stores.runs.insert(done, queued);
    await stores.events.append(done.id, 'run.cancelled', {}, { status: 'cancelled' });
    expect(await stores.runs.claim(done.id, 'b1')).toBe(false);
  });

  it('an append whose run patch fails stores no event, and the next append takes its seq', async () => {
    const stores = await database.open();
    const run = makeRun();
    await stores.runs.insert(run, queued);
    // A lone append (SQLite writes it as one statement, without BEGIN and COMMIT): the run's status is NOT
    // NULL, so the patch fails after the event row went in, and the event must go with it.
    const broken = { status: null } as unknown as Parameters<typeof stores.events.append>[3];
    await expect(stores.events.append(run.id, 'run.started', {}, broken)).rejects.toThrow();
    expect((await stores.events.list(run.id, 1)).map((event) => event.seq)).toEqual([1]);
    expect(await stores.runs.get(run.id)).toMatchObject({ status: 'queued' });
    const started = await stores.events.append(run.id, 'run.started', {}, { status: 'running' });
    expect(started.seq).toBe(2);
    expect(await stores.runs.get(run.id)).toMatchObject({ status: 'running', updatedAt: started.ts });
    expect((await stores.events.list(run.id, 1)).map((event) => event.seq)).toEqual([1, 2]);
  });

  it('appends requested together keep request order within each run and number runs separately', async () => {
    const stores = await database.open();
    const a = makeRun();
    const b = makeRun();
    await stores.runs.insert(a, queued);
    await stores.runs.insert(b, queued);
    const pending: Array<Promise<RunEvent>> = [];
    for (let index = 1; index <= 40; index++) {
      const run = index % 3 === 0 ? b : a;
      pending.push(stores.events.append(run.id, 'node.progress', { step: index }, { progress: index }));
    }
    const events = await Promise.all(pending);
    const seqsOf = (runId: string) =>
      events.filter((event) => event.runId === runId).map((event) => event.seq);
    const countA = events.filter((event) => event.runId === a.id).length;
    expect(seqsOf(a.id)).toEqual(Array.from({ length: countA }, (_, index) => index + 2));
    expect(seqsOf(b.id)).toEqual(Array.from({ length: 40 - countA }, (_, index) => index + 2));
    // Each run's last patch in request order won.
    expect((await stores.runs.get(a.id))?.progress).toBe(40);
    expect((await stores.runs.get(b.id))?.progress).toBe(39);
    const stored = await stores.events.list(a.id, 2);
    expect(stored.map((event) => event.data.step)).toEqual(
      events.filter((event) => event.runId === a.id).map((event) => event.data.step),
    );

    // Patches of several runs in one batch: JSON, times, and null clearing a field set earlier in the batch.
    const outputs = [
      { filename: 'f.png', name: 'image_9_x', content_type: 'image/png', size: 3, node_id: '9' },
    ];
    const completedAt = nextTime();
    await Promise.all([
      stores.events.append(a.id, 'output.ready', {}, { outputs, backendId: 'b1', error: { message: 'm' } }),
      stores.events.append(b.id, 'run.completed', {}, { status: 'completed', completedAt }),
      stores.events.append(a.id, 'node.executing', {}, { error: null }),
    ]);
    expect(await stores.runs.get(a.id)).toMatchObject({
      outputs,
      backendId: 'b1',
      error: null,
      progress: 40,
    });
    expect(await stores.runs.get(b.id)).toMatchObject({ status: 'completed', completedAt, progress: 39 });
  });

  it('list filters by group, sorts unstarted runs first ascending and last descending, and pages', async () => {
    const stores = await database.open();
    const r1 = makeRun({ groupId: 'g', startedAt: nextTime(), status: 'running' });
    const r2 = makeRun({ groupId: 'g' });
    const r3 = makeRun({ groupId: 'g', startedAt: nextTime(), status: 'running' });
    const r4 = makeRun({ groupId: 'other' });
    for (const run of [r1, r2, r3, r4]) await stores.runs.insert(run, queued);
    const ids = async (query: Partial<Parameters<typeof stores.runs.list>[0]>) => {
      const { runs, total } = await stores.runs.list({
        sortBy: 'created_at',
        sortOrder: 'desc',
        page: 1,
        pageSize: 10,
        ...query,
      });
      return { ids: runs.map((run) => run.id), total };
    };
    expect(await ids({ groupId: 'g', sortBy: 'started_at', sortOrder: 'asc' })).toEqual({
      ids: [r2.id, r1.id, r3.id],
      total: 3,
    });
    expect(await ids({ groupId: 'g', sortBy: 'started_at', sortOrder: 'desc' })).toEqual({
      ids: [r3.id, r1.id, r2.id],
      total: 3,
    });
    expect(await ids({ groupId: 'g', sortBy: 'started_at', sortOrder: 'asc', page: 2, pageSize: 2 })).toEqual(
      {
        ids: [r3.id],
        total: 3,
      },
    );
    expect(await ids({})).toEqual({ ids: [r4.id, r3.id, r2.id, r1.id], total: 4 });
    expect(await ids({ sortOrder: 'asc', pageSize: 1 })).toEqual({ ids: [r1.id], total: 4 });
    expect(await ids({ groupId: 'none' })).toEqual({ ids: [], total: 0 });
  });

  it('listUnfinished answers queued and running runs oldest first, optionally only those on given backends', async () => {
    const stores = await database.open();
    const old = makeRun({ status: 'running', backendId: 'b1' });
    const mid = makeRun({ status: 'queued' });
    const done = makeRun({ status: 'completed', backendId: 'b1' });
    const recent = makeRun({ status: 'running', backendId: 'b2' });
    for (const run of [recent, done, mid, old]) await stores.runs.insert(run, queued);
    expect((await stores.runs.listUnfinished()).map((run) => run.id)).toEqual([old.id, mid.id, recent.id]);
    expect((await stores.runs.listUnfinished(['b1'])).map((run) => run.id)).toEqual([old.id]);
    expect((await stores.runs.listUnfinished(['b1', 'b2'])).map((run) => run.id)).toEqual([
      old.id,
      recent.id,
    ]);
    expect(await stores.runs.listUnfinished([])).toEqual([]);
  });

  it('countByStatus counts runs per status', async () => {
    const stores = await database.open();
    expect(await stores.runs.countByStatus()).toEqual({});
    for (const status of ['queued', 'queued', 'running', 'failed'] as const) {
      await stores.runs.insert(makeRun({ status }), queued);
    }
    expect(await stores.runs.countByStatus()).toEqual({ queued: 2, running: 1, failed: 1 });
  });
});
