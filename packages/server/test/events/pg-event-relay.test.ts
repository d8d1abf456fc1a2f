import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/event-bus';
import { MAX_PAYLOAD_BYTES, parseNotices } from '../../src/events/notices';
import { EVENTS_CHANNEL, PgEventRelay, type PgEventRelayOptions } from '../../src/events/pg-event-relay';
import type { SharedEvent } from '../../src/events/shared-event';
import { createTestDatabase, PgTestEventStore, type TestDatabase } from './support/pg';

// Two replicas (a bus and a relay each) on one real Postgres database of this file's own.
let db: TestDatabase;
let store: PgTestEventStore;
const started: PgEventRelay[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  store = await PgTestEventStore.open(db.url);
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((relay) => relay.stop()));
});
afterAll(async () => {
  await store?.close();
  await db?.drop();
});

const NO_POLL = 600_000;

async function replica(name: string, options: Partial<PgEventRelayOptions> = {}) {
  const bus = new EventBus();
  const relay = new PgEventRelay({
    bus,
    store,
    connectionString: db.url,
    applicationName: `relay-${name}`,
    pollIntervalMs: NO_POLL,
    ...options,
  });
  await relay.start();
  started.push(relay);
  expect(relay.healthy).toBe(true);
  return {
    bus,
    relay,
    /** What the run service does: persist, then publish on this replica's bus. */
    async write(runId: string, type = 'node.progress') {
      const event = await store.append(runId, type, { status: 'running' });
      bus.publish(event);
      return event;
    },
  };
}

/** A subscriber: the seqs it got, in the order it got them. */
async function follow(bus: EventBus, runId: string): Promise<number[]> {
  const seqs: number[] = [];
  bus.subscribe(runId, (event: SharedEvent) => seqs.push(event.seq));
  await bus.ready(runId);
  return seqs;
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const settle = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));

async function notify(payload: string): Promise<void> {
  await store.pool.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, payload]);
}

describe('PgEventRelay across two replicas on one Postgres', () => {
  it('a subscriber on B gets every event written via A, in order, once; A and all-runs listeners too', async () => {
    // Notices and a fast poll race each other on both replicas, so most events reach each bus twice.
    const a = await replica('a', { pollIntervalMs: 20 });
    const b = await replica('b', { pollIntervalMs: 20 });
    const runId = randomUUID();
    const onA = await follow(a.bus, runId);
    const onB = await follow(b.bus, runId);
    const allOnB: number[] = [];
    b.bus.subscribeAll((event) => {
      if (event.runId === runId) allOnB.push(event.seq);
    });
    // Bursts and pauses, so notices are coalesced sometimes and not others.
    for (let i = 0; i < 200; i++) {
      await a.write(runId);
      if (i % 25 === 0) await settle(20);
    }
    await a.write(runId, 'run.completed');
    await waitFor(() => onB.length >= 201, 'B to get 201 events');
    await settle();
    expect(onB).toEqual(range(1, 201));
    // A also hears its own notices: its subscriber must still get each event once.
    expect(onA).toEqual(range(1, 201));
    expect(allOnB).toEqual(range(1, 201));
  });

  it('events persisted with no notice at all arrive by the poll fallback', async () => {
    const b = await replica('b', { pollIntervalMs: 200 });
    const runId = randomUUID();
    await store.append(runId, 'run.queued', {});
    const onB = await follow(b.bus, runId);
    for (let i = 0; i < 30; i++) await store.append(runId, 'node.progress', {}); // no NOTIFY sent
    await waitFor(() => onB.length >= 30, 'the poll to deliver 30 events', 5000);
    await settle();
    expect(onB).toEqual(range(2, 31)); // seq 1 was in the log before the subscriber came
  });

  it('notices out of order, repeated or for seqs not yet seen deliver each event once, in order', async () => {
    const b = await replica('b');
    const runId = randomUUID();
    const onB = await follow(b.bus, runId);
    for (let i = 0; i < 10; i++) await store.append(runId, 'node.progress', {});
    await notify(`${runId}:10`);
    await notify(`${runId}:4`);
    await notify(`${runId}:10,${runId}:7`);
    await notify('garbage,:,x:y,:5');
    await waitFor(() => onB.length >= 10, 'B to get 10 events');
    await settle();
    expect(onB).toEqual(range(1, 10));
  });

  it('after its LISTEN session is killed, B reconnects, catches up, and is healthy again', async () => {
    const a = await replica('a');
    const b = await replica('b', { reconnectMinMs: 1000 });
    const runId = randomUUID();
    const onB = await follow(b.bus, runId);
    for (let i = 0; i < 5; i++) await a.write(runId);
    await waitFor(() => onB.length >= 5, 'the first 5 events');

    const killed = await store.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = $1 AND application_name = 'relay-b'`,
      [db.name],
    );
    expect(killed.rowCount).toBe(1);
    await waitFor(() => !b.relay.healthy, 'B to notice its session is gone');
    // Written while B listens to nothing: their notices are lost to B.
    for (let i = 0; i < 5; i++) await a.write(runId);
    await waitFor(() => b.relay.healthy, 'B to listen again', 10_000);
    await waitFor(() => onB.length >= 10, 'B to catch up');
    await a.write(runId); // and notices work again
    await waitFor(() => onB.length >= 11, 'the event after the reconnection');
    expect(onB).toEqual(range(1, 11));
  });

  it('an event past a gap waits for the gap: B writes seq 6 of a run whose 4 and 5 it never heard of', async () => {
    const a = await replica('a');
    const b = await replica('b');
    const runId = randomUUID();
    const onB = await follow(b.bus, runId);
    for (let i = 0; i < 3; i++) await a.write(runId);
    await waitFor(() => onB.length >= 3, 'the first 3 events');
    // A persisted 4 and 5, then died before announcing them; B took the run over and wrote 6.
    await store.append(runId, 'node.progress', {});
    await store.append(runId, 'node.progress', {});
    await b.write(runId, 'run.completed');
    await waitFor(() => onB.length >= 6, 'B to fill the gap');
    await settle();
    expect(onB).toEqual(range(1, 6));
  });

  it('many runs in one window: the notices are split into payloads under 8000 bytes, and all arrive', async () => {
    const a = await replica('a', { notifyWindowMs: 50 });
    const b = await replica('b');
    const runIds = Array.from({ length: 500 }, () => randomUUID());
    const received = new Map<string, number[]>();
    for (const runId of runIds) received.set(runId, await follow(b.bus, runId));

    // Listen next to the relays, to see the payloads themselves.
    const spy = new pg.Client({ connectionString: db.url });
    await spy.connect();
    const payloads: string[] = [];
    spy.on('notification', (message) => payloads.push(message.payload ?? ''));
    await spy.query(`LISTEN ${EVENTS_CHANNEL}`);
    try {
      const events = await Promise.all(runIds.map((runId) => store.append(runId, 'run.queued', {})));
      for (const event of events) a.bus.publish(event); // in one tick: one window
      await waitFor(() => runIds.every((runId) => received.get(runId)!.length === 1), 'all 500 runs on B');
      expect(payloads.length).toBeGreaterThanOrEqual(3); // 500 × ~38 bytes do not fit in one
      for (const payload of payloads)
        expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
      const announced = new Set(payloads.flatMap((payload) => parseNotices(payload).map(([runId]) => runId)));
      expect(runIds.every((runId) => announced.has(runId))).toBe(true);
      for (const runId of runIds) expect(received.get(runId)).toEqual([1]);
    } finally {
      await spy.end();
    }
  });

  it('a run nobody on B follows costs B no read; B only hears that it changed', async () => {
    const a = await replica('a');
    const b = await replica('b');
    const changed: string[] = [];
    b.bus.watchChanges((runId) => changed.push(runId));
    const runId = randomUUID();
    await a.write(runId);
    await waitFor(() => changed.includes(runId), 'B to hear of the change');
    expect(b.bus.stats()).toEqual({ runs: 0, listeners: 0, allListeners: 0 });
  });
});
