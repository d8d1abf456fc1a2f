import type { WebhookPayload } from 'flowscale/webhooks';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { children, killHard, spawnServer } from '../support/child-server';
import { sdkClient, sleep, TEST_KEY, tempDir, waitFor } from '../support/harness';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 120_000 });

let receiver: WebhookReceiver | undefined;
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await receiver?.close();
});

// Short retries so the test is quick; loopback allowed only because the URL-input setting is on.
const ENV = {
  FLOWSCALE_ALLOW_PRIVATE_URLS: 'true',
  FLOWSCALE_WEBHOOK_SCHEDULE: '0,1500ms,1500ms,1500ms,1500ms,1500ms,1500ms,1500ms,1500ms,1500ms',
  FLOWSCALE_WEBHOOK_POLL_MS: '200',
};

describe('webhook deliveries survive kill -9', () => {
  it('deliveries pending when the server is killed arrive after the restart, each acknowledged once', async () => {
    let up = false;
    receiver = await startWebhookReceiver(() => (up ? 200 : 503));
    const dataDir = tempDir('webhooks-restart');
    const first = await spawnServer(dataDir, undefined, undefined, ENV);
    const api = sdkClient(first.url, TEST_KEY);
    const { data: endpoint } = await api.createWebhook({ url: receiver.url, events: ['run.completed'] });
    const runIds: string[] = [];
    for (let index = 0; index < 3; index++) {
      runIds.push((await api.executeWorkflow('text-echo', { default_value_1: `k${index}` })).data.run_id);
    }
    // Every run's completion was attempted at least once, and refused: all three are pending now.
    const refused = await waitFor(
      async () => new Set(receiver!.received.map((each) => each.id)),
      (ids) => ids.size >= 3,
      60_000,
    );
    // The receiver answers before the server records the attempt: wait until the log shows each refusal,
    // so the kill lands with every delivery pending and its 503 on record.
    await waitFor(
      async () => (await api.listWebhookDeliveries(endpoint.id)).data,
      (deliveries) =>
        deliveries.length === 3 && deliveries.every((d) => d.attempt_log[0]?.status_code === 503),
      60_000,
    );
    await killHard(first.child);

    up = true;
    const second = await spawnServer(dataDir, undefined, undefined, ENV);
    const acknowledged = await waitFor(
      async () => receiver!.acknowledged(),
      (acked) => [...refused].every((id) => acked.has(id)),
      // A delivery claimed at the moment of the kill is taken back at once on SQLite (one writer per data
      // dir); on Postgres once its 10 s claim, no longer renewed, has lapsed.
      120_000,
    );
    // Give a duplicate the time to show up: a retry period and more.
    await sleep(2500);
    for (const id of refused) expect(receiver.acknowledged().get(id), id).toHaveLength(1);
    const runsAcked = [...acknowledged.values()].map(
      ([message]) => (JSON.parse(message!.body) as WebhookPayload).data.run?.id,
    );
    expect(runsAcked.sort()).toEqual([...runIds].sort());

    const api2 = sdkClient(second.url, TEST_KEY);
    const deliveries = (await api2.listWebhookDeliveries(endpoint.id)).data;
    expect(deliveries.map((d) => d.status)).toEqual(['delivered', 'delivered', 'delivered']);
    for (const delivery of deliveries) {
      expect(delivery.attempt_log[0]?.status_code).toBe(503);
      expect(delivery.attempt_log.at(-1)?.status_code).toBe(200);
      // Every attempt made is in the log, one cut short by the kill too (with no status code): no gaps.
      expect(delivery.attempt_log.map((a) => a.attempt)).toEqual(
        delivery.attempt_log.map((_, index) => index + 1),
      );
    }
    await killHard(second.child);
  });

  it('an attempt cut short by kill -9 is sent again and shows in the log, with no outcome', async () => {
    let hang = true;
    await receiver?.close();
    receiver = await startWebhookReceiver(() => (hang ? 0 : 200));
    const dataDir = tempDir('webhooks-cut-short');
    const first = await spawnServer(dataDir, undefined, undefined, ENV);
    const api = sdkClient(first.url, TEST_KEY);
    const { data: endpoint } = await api.createWebhook({ url: receiver.url, events: ['run.completed'] });
    const runId = (await api.executeWorkflow('text-echo', { default_value_1: 'cut' })).data.run_id;
    // The receiver holds the first attempt open: the server dies in the middle of it.
    const [held] = await waitFor(
      async () => receiver!.received,
      (list) => list.length >= 1,
      60_000,
    );
    await killHard(first.child);

    hang = false;
    const second = await spawnServer(dataDir, undefined, undefined, ENV);
    await waitFor(
      async () => receiver!.acknowledged(),
      (acked) => acked.has(held!.id),
      // SQLite takes the claim back at start; Postgres once the 10 s claim has lapsed.
      60_000,
    );
    const api2 = sdkClient(second.url, TEST_KEY);
    const [delivery] = (await api2.listWebhookDeliveries(endpoint.id)).data;
    expect(delivery?.run_id).toBe(runId);
    expect(delivery?.status).toBe('delivered');
    expect(delivery?.attempt_log.map((a) => [a.attempt, a.status_code])).toEqual([
      [1, null],
      [2, 200],
    ]);
    expect(delivery?.attempt_log[0]?.error).toMatch(/no outcome recorded/);
    await killHard(second.child);
  });
});
