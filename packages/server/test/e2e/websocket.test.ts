import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_WS_SUBSCRIPTIONS, WS_PATH } from '../../src/http/routes/ws';
import { formOf, startTestServer, type TestServer, waitFor } from '../support/harness';
import { metricValue, WsClient } from '../support/ws-client';

// Issue 12, over real sockets against the real server and its engine: whatever a client sends on
// /api/v1/ws gets an error frame or is ignored, subscriptions are bounded, and a closed socket leaves
// nothing behind (its bus listeners and per-socket state are gone, as /metrics shows).
let server: TestServer;
let wsUrl: string;

beforeAll(async () => {
  server = await startTestServer();
  wsUrl = `${server.url.replace(/^http/, 'ws')}${WS_PATH}`;
});
afterAll(async () => {
  await server?.close();
});

async function connect(): Promise<WsClient> {
  const client = new WsClient(wsUrl, { 'x-api-key': server.key });
  await client.opened();
  return client;
}

interface Held {
  connections: number;
  subscriptions: number;
  runListeners: number;
  allListeners: number;
  channels: number;
}

async function held(): Promise<Held> {
  const text = await (await server.request('/metrics')).text();
  const read = (sample: string): number => {
    const value = metricValue(text, sample);
    if (value === undefined) throw new Error(`no ${sample} in /metrics`);
    return value;
  };
  return {
    connections: read('flowscale_websocket_connections'),
    subscriptions: read('flowscale_websocket_subscriptions'),
    runListeners: read('flowscale_event_bus_listeners{scope="run"}'),
    allListeners: read('flowscale_event_bus_listeners{scope="all"}'),
    channels: read('flowscale_event_bus_runs'),
  };
}

const subscribeFrame = (runId: unknown, action: unknown = 'subscribe'): string =>
  JSON.stringify({ type: 'client_event', data: { action, runId } });

const MALFORMED: string[] = [
  'null',
  '[]',
  '[null]',
  '[{"type":"client_event","data":{"action":"subscribe","runId":"a"}}]',
  '0',
  '42',
  '-1e400',
  '1e309',
  '"subscribe"',
  '""',
  'true',
  'false',
  '{}',
  '',
  ' ',
  'not json',
  '{"type":"client_event"',
  '{"type":"client_event"}',
  '{"type":null,"data":{"action":"subscribe","runId":"a"}}',
  '{"type":"client_event","data":null}',
  '{"type":"client_event","data":0}',
  '{"type":"client_event","data":[1]}',
  '{"type":"client_event","data":"subscribe"}',
  '{"type":"client_event","data":{}}',
  '{"type":["client_event"],"data":{"action":"subscribe","runId":"a"}}',
  subscribeFrame(undefined),
  subscribeFrame(42),
  subscribeFrame(1e308),
  '{"type":"client_event","data":{"action":"subscribe","runId":12345678901234567890123}}',
  '{"type":"client_event","data":{"action":"subscribe","runId":1e400}}',
  subscribeFrame(null),
  subscribeFrame(true),
  subscribeFrame({ toString: 'x' }),
  subscribeFrame(['a']),
  subscribeFrame(''),
  subscribeFrame(' '),
  subscribeFrame('../../etc/passwd'),
  subscribeFrame('a/b'),
  subscribeFrame('a%2fb'),
  subscribeFrame('a\u0000b'),
  subscribeFrame('ünïcödé'),
  subscribeFrame('🙂'),
  subscribeFrame('a'.repeat(129)),
  subscribeFrame('9'.repeat(60_000)),
  subscribeFrame('abc', 'explode'),
  subscribeFrame('abc', null),
  subscribeFrame('abc', ['subscribe']),
  subscribeFrame('abc', 'SUBSCRIBE'),
  '{"type":"other","data":{"action":"subscribe","runId":"abc"}}',
  '{"__proto__":{"type":"client_event"},"data":{"action":"subscribe","runId":"abc"}}',
  '{"type":"client_event","data":{"__proto__":{"action":"subscribe","runId":"abc"}}}',
  '{"type":"client_event","data":{"constructor":{"prototype":{"runId":"x"}}}}',
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`,
  '\uFEFF{"type":"client_event"}',
  '\u0000',
];

describe('WebSocket frames a client may send (issue 12)', () => {
  it('every malformed text frame gets an error frame; the socket and the server keep working', async () => {
    const client = await connect();
    for (const frame of MALFORMED) {
      client.send(frame);
      const reply = await client.next();
      expect(reply.type, `reply to ${JSON.stringify(frame.slice(0, 80))}`).toBe('error');
      expect(typeof reply.data.message).toBe('string');
    }
    client.command('subscribe', 'a'.repeat(128));
    expect(await client.nextOf('subscribed')).toEqual({
      type: 'subscribed',
      data: { runId: 'a'.repeat(128) },
    });
    client.socket.close();
    await client.closed();
    expect((await server.request('/healthz', { key: null })).status).toBe(200);
  });

  it('binary frames (invalid UTF-8, random bytes, JSON) and fragmented frames are answered, never thrown on', async () => {
    const client = await connect();
    const binaries = [
      Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
      Buffer.from([0xc3]),
      Buffer.alloc(0),
      Buffer.alloc(1024, 0xa5),
      Buffer.from(subscribeFrame(null)),
    ];
    for (const bytes of binaries) {
      client.send(bytes, true);
      expect((await client.next()).type, `reply to ${bytes.toString('hex').slice(0, 20)}`).toBe('error');
    }
    // A valid command sent as one binary frame is treated like text.
    client.send(Buffer.from(subscribeFrame('bin-run')), true);
    expect(await client.nextOf('subscribed')).toEqual({ type: 'subscribed', data: { runId: 'bin-run' } });
    // A message split over fragments is reassembled before it is parsed.
    const split = subscribeFrame('fragmented');
    client.socket.send(split.slice(0, 10), { fin: false });
    client.socket.send(split.slice(10), { fin: true });
    expect(await client.nextOf('subscribed')).toEqual({ type: 'subscribed', data: { runId: 'fragmented' } });
    // Control frames are no commands: a ping gets a pong, nothing else.
    const pong = new Promise<void>((resolve) => client.socket.once('pong', () => resolve()));
    client.socket.ping(Buffer.from('x'));
    await pong;
    client.socket.close();
    await client.closed();
  });

  it('a valid subscription still follows a real run to its end', async () => {
    const client = await connect();
    const submitted = await server.request('/api/v1/runs?workflow_id=text-echo', {
      method: 'POST',
      body: formOf({ default_value_1: 'ws' }),
    });
    const runId = (await submitted.json()).data.run_id as string;
    client.command('subscribe', runId);
    expect(await client.nextOf('subscribed')).toEqual({ type: 'subscribed', data: { runId } });
    for (;;) {
      const update = await client.nextOf('run_status_update', 20_000);
      expect(update.data.run_id).toBe(runId);
      if (update.data.status === 'completed') break;
    }
    client.socket.close();
    await client.closed();
  });
});

describe('WebSocket subscriptions: bounded, and freed when the socket goes (issue 12)', () => {
  it(`${MAX_WS_SUBSCRIPTIONS} runs per socket, a clear error past that, all freed on close`, async () => {
    const baseline = await waitFor(held, (now) => now.connections === 0);
    const client = await connect();
    const runIds = Array.from({ length: MAX_WS_SUBSCRIPTIONS }, () => randomUUID());
    for (const runId of runIds) client.command('subscribe', runId);
    for (const runId of runIds)
      expect(await client.nextOf('subscribed')).toEqual({ type: 'subscribed', data: { runId } });

    let now = await held();
    expect(now.connections).toBe(1);
    expect(now.subscriptions).toBe(MAX_WS_SUBSCRIPTIONS);
    expect(now.runListeners - baseline.runListeners).toBe(MAX_WS_SUBSCRIPTIONS);

    client.command('subscribe', randomUUID());
    const refused = await client.nextOf('error');
    expect(String(refused.data.message)).toContain(String(MAX_WS_SUBSCRIPTIONS));
    // Subscribing again to a run it follows is no new subscription.
    client.command('subscribe', runIds[3]!);
    expect(await client.nextOf('subscribed')).toEqual({ type: 'subscribed', data: { runId: runIds[3] } });
    // Unsubscribing from one it does not follow changes nothing.
    client.command('unsubscribe', randomUUID());
    await client.nextOf('unsubscribed');
    expect((await held()).subscriptions).toBe(MAX_WS_SUBSCRIPTIONS);

    client.command('unsubscribe', runIds[0]!);
    expect(await client.nextOf('unsubscribed')).toEqual({ type: 'unsubscribed', data: { runId: runIds[0] } });
    const another = randomUUID();
    client.command('subscribe', another);
    expect(await client.nextOf('subscribed')).toEqual({ type: 'subscribed', data: { runId: another } });

    client.socket.close();
    await client.closed();
    now = await waitFor(held, (state) => state.connections === 0 && state.subscriptions === 0);
    expect(now).toEqual(baseline);
  });

  it('many sockets full of subscriptions, dropped without a close handshake, leave nothing behind', async () => {
    const baseline = await waitFor(held, (now) => now.connections === 0);
    const clients = await Promise.all(Array.from({ length: 8 }, () => connect()));
    await Promise.all(
      clients.map(async (client) => {
        for (let i = 0; i < MAX_WS_SUBSCRIPTIONS; i++)
          client.command('subscribe', `run-${i}-${randomUUID()}`);
        for (let i = 0; i < MAX_WS_SUBSCRIPTIONS; i++) await client.nextOf('subscribed');
      }),
    );
    const full = await held();
    expect(full.connections).toBe(8);
    expect(full.subscriptions).toBe(8 * MAX_WS_SUBSCRIPTIONS);
    expect(full.channels - baseline.channels).toBe(8 * MAX_WS_SUBSCRIPTIONS);
    // Half leave with a proper close, half vanish (TCP reset, no close frame).
    for (const [i, client] of clients.entries()) {
      if (i % 2) client.socket.close();
      else client.socket.terminate();
    }
    const after = await waitFor(held, (state) => state.connections === 0 && state.subscriptions === 0);
    expect(after).toEqual(baseline);
  });

  it('a client that stops reading is cut off instead of buffering without end', async () => {
    const baseline = await waitFor(held, (now) => now.connections === 0);
    const client = await connect();
    // Stop reading: what the server sends piles up in its buffers.
    const raw = (client.socket as unknown as { _socket: { pause(): void } })._socket;
    raw.pause();
    // Every unsubscribe is answered (about 180 bytes here). Loopback TCP buffers take ~10 MB before the
    // server's own send buffer grows at all; 400,000 answers (~70 MB) are far past that plus the 4 MiB bound.
    const frame = subscribeFrame('x'.repeat(128), 'unsubscribe');
    for (let sent = 0; sent < 400_000 && client.socket.readyState === client.socket.OPEN; sent++) {
      client.send(frame);
      if (sent % 5000 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const after = await waitFor(held, (state) => state.connections === baseline.connections, 60_000);
    expect(after).toEqual(baseline);
    client.socket.terminate();
    expect((await server.request('/healthz', { key: null })).status).toBe(200);
  }, 120_000);
});
