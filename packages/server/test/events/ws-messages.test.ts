import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/context';
import { EventBus } from '../../src/events/event-bus';
import { MAX_WS_SUBSCRIPTIONS, registerWebSocket, WS_PATH, wsRoutes } from '../../src/http/routes/ws';
import { createLogger } from '../../src/logging/logger';
import { RunAccess } from '../../src/projects/run-access';
import { openSqliteStores } from '../../src/storage/sqlite/open';
import type { Stores } from '../../src/storage/stores';
import { type ChildServer, killHard, spawnServer } from '../support/child-server';
import { TEST_KEY, tempDir } from '../support/harness';
import { WsClient as Client } from '../support/ws-client';

describe('WebSocket: malformed messages never crash the server (issue 12)', () => {
  let server: ChildServer;
  const dataDir = tempDir('ws-fuzz');
  beforeAll(async () => {
    server = await spawnServer(dataDir);
  });
  afterAll(async () => {
    // A server the test crashed has exited already; killHard would wait for an exit that never comes.
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      await killHard(server.child);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const bad = [
    'null',
    '[]',
    '[{"type":"client_event"}]',
    '42',
    '-1e400',
    '"text"',
    'true',
    '{}',
    '',
    'not json',
    '{"type":"client_event"',
    '{"type":"client_event"}',
    '{"type":"client_event","data":null}',
    '{"type":"client_event","data":[1]}',
    '{"type":"client_event","data":"subscribe"}',
    '{"type":"client_event","data":{}}',
    '{"type":"client_event","data":{"action":"subscribe"}}',
    '{"type":"client_event","data":{"action":"subscribe","runId":42}}',
    '{"type":"client_event","data":{"action":"subscribe","runId":null}}',
    '{"type":"client_event","data":{"action":"subscribe","runId":{"toString":1}}}',
    '{"type":"client_event","data":{"action":"subscribe","runId":["a"]}}',
    '{"type":"client_event","data":{"action":"subscribe","runId":""}}',
    '{"type":"client_event","data":{"action":"subscribe","runId":"../../etc"}}',
    `{"type":"client_event","data":{"action":"subscribe","runId":"${'a'.repeat(129)}"}}`,
    `{"type":"client_event","data":{"action":"subscribe","runId":"${'a'.repeat(60_000)}"}}`,
    '{"type":"client_event","data":{"action":"explode","runId":"abc"}}',
    '{"type":"client_event","data":{"action":null,"run_id":"abc"}}',
    '{"type":"other","data":{"action":"subscribe","runId":"abc"}}',
    '{"__proto__":{"type":"client_event"},"data":{"action":"subscribe","runId":"abc"}}',
  ];

  it('every bad frame gets an error frame; the process lives on and still serves', async () => {
    const client = new Client(`${server.url.replace(/^http/, 'ws')}${WS_PATH}`, { 'x-api-key': TEST_KEY });
    await client.opened();
    for (const frame of bad) {
      client.send(frame);
      const reply = await client.next();
      expect(reply.type, `reply to ${frame.slice(0, 80)}`).toBe('error');
      expect(typeof reply.data.message).toBe('string');
    }
    client.send(Buffer.from([0xff, 0xfe, 0x00, 0x7b]), true);
    expect((await client.next()).type).toBe('error');

    // The same socket still works for a valid message.
    client.command('subscribe', 'abc');
    expect(await client.next()).toEqual({ type: 'subscribed', data: { runId: 'abc' } });
    client.socket.close();

    // Over the frame size limit: the library closes that socket (1009); the server is unaffected.
    const big = new Client(`${server.url.replace(/^http/, 'ws')}${WS_PATH}`, { 'x-api-key': TEST_KEY });
    await big.opened();
    const closed = new Promise<number>((resolve) => big.socket.once('close', (code) => resolve(code)));
    big.send('x'.repeat(70 * 1024));
    expect(await closed).toBe(1009);

    expect(server.child.exitCode).toBeNull();
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(server.output()).not.toMatch(/TypeError|uncaught/i);
  });
});

describe('WebSocket subscriptions: bounded per socket, routed per run, freed on close', () => {
  let app: FastifyInstance;
  let stores: Stores;
  let url: string;
  const bus = new EventBus();
  const dataDir = tempDir('ws-bounds');

  beforeAll(async () => {
    // The WebSocket route on its own, with a real bus and store, so the test can look at the bus.
    stores = await openSqliteStores(dataDir);
    const access = new RunAccess(stores.runs);
    const ctx = {
      bus,
      stores,
      access,
      log: createLogger('error'),
      metrics: { registry: new Registry() },
    } as unknown as AppContext;
    app = Fastify();
    // No auth plugin here: every socket is an admin key's, which sees every project's runs.
    app.addHook('onRequest', (request, _reply, done) => {
      Object.assign(request, { apiKey: { role: 'admin', projectId: 'default' } });
      done();
    });
    await registerWebSocket(app);
    await app.register(async (scope) => wsRoutes(scope, ctx));
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}${WS_PATH}`;
  });
  afterAll(async () => {
    await app?.close();
    await stores?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const event = (runId: string, seq: number) => ({
    runId,
    seq,
    type: 'node.progress',
    ts: new Date().toISOString(),
    data: { status: 'running', progress: seq, seq, run_id: runId, type: 'node.progress' },
  });

  it(`accepts ${MAX_WS_SUBSCRIPTIONS} runs per socket, refuses one more, and frees them all on close`, async () => {
    const client = new Client(url);
    await client.opened();
    const runIds = Array.from({ length: MAX_WS_SUBSCRIPTIONS }, () => randomUUID());
    for (const runId of runIds) client.command('subscribe', runId);
    for (const runId of runIds) expect(await client.next()).toEqual({ type: 'subscribed', data: { runId } });
    expect(bus.stats()).toEqual({
      runs: MAX_WS_SUBSCRIPTIONS,
      listeners: MAX_WS_SUBSCRIPTIONS,
      allListeners: 0,
    });

    client.command('subscribe', randomUUID());
    const refused = await client.next();
    expect(refused.type).toBe('error');
    expect(String(refused.data.message)).toContain(String(MAX_WS_SUBSCRIPTIONS));
    expect(bus.stats().listeners).toBe(MAX_WS_SUBSCRIPTIONS);

    // Events reach the socket only for its runs, as the shared status message.
    bus.publish(event(randomUUID(), 1));
    bus.publish(event(runIds[7]!, 3));
    const update = await client.next();
    expect(update).toMatchObject({ type: 'run_status_update', data: { run_id: runIds[7], progress: 3 } });

    client.command('unsubscribe', runIds[0]!);
    expect(await client.next()).toEqual({ type: 'unsubscribed', data: { runId: runIds[0] } });
    const another = randomUUID();
    client.command('subscribe', another);
    expect(await client.next()).toEqual({ type: 'subscribed', data: { runId: another } });

    client.socket.close();
    for (let waited = 0; bus.stats().runs > 0 && waited < 5000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(bus.stats()).toEqual({ runs: 0, listeners: 0, allListeners: 0 });
  });

  it('a socket with no subscription gets every run; its all-runs listener is freed on close', async () => {
    const client = new Client(url);
    await client.opened();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(bus.stats().allListeners).toBe(1);
    const runId = randomUUID();
    bus.publish(event(runId, 1));
    expect(await client.next()).toMatchObject({ type: 'run_status_update', data: { run_id: runId } });
    client.socket.close();
    for (let waited = 0; bus.stats().allListeners > 0 && waited < 5000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(bus.stats()).toEqual({ runs: 0, listeners: 0, allListeners: 0 });
  });
});
