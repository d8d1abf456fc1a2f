import BetterSqlite3 from 'better-sqlite3';
import type { WebhookPayload } from 'flowscale/webhooks';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { sqliteFile } from '../../src/storage/sqlite/connection';
import {
  formOf,
  sleep,
  startTestServer,
  type TestServer,
  tempDir,
  testDatabase,
  waitFor,
} from '../support/harness';
import { createTestDatabase, queryDatabase, type TestDatabase } from '../support/postgres';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

let receiver: WebhookReceiver | undefined;
let database: TestDatabase | undefined;
const servers: TestServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.close().catch(() => undefined);
  await receiver?.close();
  await database?.drop();
});

/**
 * Makes every insert into webhook_deliveries fail, underneath the server: the state a kill -9 leaves
 * between committing a run's end and storing its deliveries (the event is in, the deliveries are not).
 */
async function blockDeliveries(dataDir: string, url: string | undefined, on: boolean): Promise<void> {
  if (url) {
    const sql = on
      ? `create function fail_deliveries() returns trigger language plpgsql as $$
         begin raise exception 'fault injected by the test'; end $$;
         create trigger fail_deliveries before insert on webhook_deliveries
         for each statement execute function fail_deliveries();`
      : 'drop trigger fail_deliveries on webhook_deliveries; drop function fail_deliveries();';
    await queryDatabase(url, sql);
    return;
  }
  const sqlite = new BetterSqlite3(sqliteFile(dataDir));
  try {
    sqlite.exec(
      on
        ? `CREATE TRIGGER fail_deliveries BEFORE INSERT ON webhook_deliveries
           BEGIN SELECT RAISE(ABORT, 'fault injected by the test'); END;`
        : 'DROP TRIGGER fail_deliveries;',
    );
  } finally {
    sqlite.close();
  }
}

describe('webhook outbox', () => {
  it("a run's end committed without its deliveries still reaches the receiver, once, after a restart", async () => {
    receiver = await startWebhookReceiver();
    const dataDir = tempDir('webhooks-outbox');
    database = testDatabase() === 'postgres' ? await createTestDatabase('outbox') : undefined;
    const options = {
      dataDir,
      allowPrivateUrls: true,
      webhookScheduleMs: [0, 200, 200, 200],
      webhookPollIntervalMs: 200,
      ...(database ? { databaseUrl: database.url } : {}),
    };
    const first = await startTestServer(options);
    servers.push(first);
    const { data: endpoint } = await first.api.createWebhook({
      url: receiver.url,
      events: ['run.completed'],
    });

    await blockDeliveries(dataDir, database?.url, true);
    const response = await first.request('/api/v1/runs?workflow_id=text-echo', {
      method: 'POST',
      body: formOf({ default_value_1: 'outbox' }),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    const runId = ((await response.json()) as { data: { run_id: string } }).data.run_id;
    await waitFor(
      async () => (await first.api.getRun(runId)).data.status,
      (status) => status === 'completed',
      60_000,
    );
    // The run ended, and its delivery could not be stored: nothing went out, nothing is queued.
    await sleep(500);
    expect(receiver.received).toEqual([]);
    expect((await first.api.listWebhookDeliveries(endpoint.id)).data).toEqual([]);

    // The server goes away before any sweep would look (rows younger than 10 s are the live path's).
    await blockDeliveries(dataDir, database?.url, false);
    await first.close();
    const second = await startTestServer(options);
    servers.push(second);
    const acked = await waitFor(
      async () => receiver!.acknowledged(),
      (map) => map.size >= 1,
      30_000,
    );
    // A second sweep has nothing left to do, and nothing is acknowledged twice.
    await sleep(1000);
    expect(acked.size).toBe(1);
    const [messages] = [...receiver.acknowledged().values()];
    expect(messages).toHaveLength(1);
    const payload = JSON.parse(messages![0]!.body) as WebhookPayload;
    expect(payload.type).toBe('run.completed');
    expect(payload.data.run?.id).toBe(runId);
    const deliveries = (await second.api.listWebhookDeliveries(endpoint.id)).data;
    expect(deliveries.map((d) => [d.run_id, d.status])).toEqual([[runId, 'delivered']]);
  });
});
