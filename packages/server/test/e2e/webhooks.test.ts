import BetterSqlite3 from 'better-sqlite3';
import { verifyWebhook, type WebhookDelivery, type WebhookPayload } from 'flowscale/webhooks';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sqliteFile } from '../../src/storage/sqlite/connection';
import { formOf, startTestServer, type TestServer, waitFor } from '../support/harness';
import { queryDatabase } from '../support/postgres';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

// A real server (real engine) sending to a real receiver on a loopback port; the address policy lets
// loopback through only because the test turns the URL-input setting on.
let server: TestServer;
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  server = await startTestServer({
    allowPrivateUrls: true,
    webhookScheduleMs: [0, 100, 100, 100, 100, 100],
    webhookPollIntervalMs: 200,
  });
});
afterAll(async () => {
  await server?.close();
  await receiver?.close();
});

const json = (body: unknown) => ({
  method: 'POST',
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json' },
});

async function submitEcho(text: string, extra: Record<string, string> = {}): Promise<string> {
  const response = await server.request('/api/v1/runs?workflow_id=text-echo', {
    method: 'POST',
    body: formOf({ default_value_1: text, ...extra }),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return ((await response.json()) as { data: { run_id: string } }).data.run_id;
}

/** What one endpoint (by its URL's `to`) received about one run. */
const forRun = (runId: string, to: string) =>
  receiver.received.filter(
    (each) =>
      each.path.endsWith(`?to=${to}`) && (JSON.parse(each.body) as WebhookPayload).data.run?.id === runId,
  );
const urlFor = (to: string) => `${receiver.url}?to=${to}`;

async function deliveriesOf(endpointId: string): Promise<WebhookDelivery[]> {
  return (await server.api.listWebhookDeliveries(endpointId, { limit: 500 })).data;
}

describe('webhook subscriptions', () => {
  it('retries a receiver that fails the first three attempts; each event is acknowledged once and logged', async () => {
    const created = await server.api.createWebhook({
      url: urlFor('flaky'),
      events: ['run.started', 'run.completed'],
      description: 'flaky',
    });
    const { id: endpointId, secret } = created.data;
    expect(secret).toMatch(/^whsec_/);
    let flakyRequests = 0;
    receiver.answer = () => (flakyRequests++ < 3 ? 500 : 200);
    const runId = await submitEcho('hooked');

    const acked = await waitFor(
      async () => forRun(runId, 'flaky').filter((each) => each.answered === 200),
      (list) => list.length >= 2,
      60_000,
    );
    expect(acked.map((each) => each.type).sort()).toEqual(['run.completed', 'run.started']);
    // Nothing more arrives for this run: each event was acknowledged exactly once.
    const deliveries = await waitFor(
      () => deliveriesOf(endpointId),
      (list) => list.length === 2 && list.every((d) => d.status === 'delivered'),
    );
    const acknowledged = receiver.acknowledged();
    for (const delivery of deliveries) expect(acknowledged.get(delivery.id)).toHaveLength(1);
    // The log holds every attempt, failures included, with its status code and latency.
    const attempts = deliveries.flatMap((d) => d.attempt_log);
    expect(attempts).toHaveLength(forRun(runId, 'flaky').length);
    expect(attempts.filter((a) => a.status_code === 500)).toHaveLength(3);
    expect(attempts.filter((a) => a.status_code === 200)).toHaveLength(2);
    for (const attempt of attempts) expect(attempt.latency_ms).toBeGreaterThanOrEqual(0);
    for (const delivery of deliveries) {
      expect(delivery.attempt_log.map((a) => a.attempt)).toEqual(delivery.attempt_log.map((_, i) => i + 1));
    }

    // Signed per Standard Webhooks: the reference verifier and the SDK's both accept it.
    const completed = acked.find((each) => each.type === 'run.completed')!;
    const verified = new Webhook(secret).verify(completed.body, completed.headers) as WebhookPayload;
    expect(verified.data.run?.status).toBe('completed');
    const payload = await verifyWebhook(completed.body, completed.headers, secret);
    expect(payload.data.run?.id).toBe(runId);
    // The body carries the run and a working download_url for every file output.
    const outputs = payload.data.run?.outputs ?? [];
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) {
      const file = await fetch(output.download_url);
      expect(file.status).toBe(200);
      expect(await file.text()).toContain('hooked');
    }
    // The retries carried the same webhook-id and the same bytes.
    const sameId = receiver.received.filter((each) => each.id === completed.id);
    expect(new Set(sameId.map((each) => each.body)).size).toBe(1);
    await server.api.deleteWebhook(endpointId);
  });

  it('rejects a tampered body and an old timestamp', async () => {
    const { data } = await server.api.createWebhook({ url: urlFor('tamper'), events: ['run.completed'] });
    receiver.answer = () => 200;
    const runId = await submitEcho('tamper');
    const [message] = await waitFor(
      async () => forRun(runId, 'tamper'),
      (list) => list.length >= 1,
    );
    const good = message!;
    await expect(verifyWebhook(good.body, good.headers, data.secret)).resolves.toBeTruthy();
    const tampered = good.body.replace('tamper', 'tampez');
    await expect(verifyWebhook(tampered, good.headers, data.secret)).rejects.toThrow(/signature/);
    expect(() => new Webhook(data.secret).verify(tampered, good.headers)).toThrow(/signature/);
    const later = new Date(Date.now() + 6 * 60_000);
    await expect(verifyWebhook(good.body, good.headers, data.secret, { now: later })).rejects.toThrow(
      /too old/,
    );
    // An old timestamp signed correctly is refused too, by both verifiers.
    const old = new Date(Date.now() - 6 * 60_000);
    const headers = {
      'webhook-id': good.id,
      'webhook-timestamp': String(Math.floor(old.getTime() / 1000)),
      'webhook-signature': new Webhook(data.secret).sign(good.id, old, good.body),
    };
    await expect(verifyWebhook(good.body, headers, data.secret)).rejects.toThrow(/too old/);
    expect(() => new Webhook(data.secret).verify(good.body, headers)).toThrow(/too old/);
    await expect(
      verifyWebhook(good.body, good.headers, 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ).rejects.toThrow();
    await server.api.deleteWebhook(data.id);
  });

  it('signs with old and new secrets during a rotation overlap', async () => {
    const { data } = await server.api.createWebhook({ url: urlFor('rotate'), events: ['run.completed'] });
    const rotated = (await server.api.rotateWebhookSecret(data.id, { overlap_seconds: 3600 })).data;
    expect(rotated.secret).not.toBe(data.secret);
    expect(rotated.secrets).toHaveLength(2);
    receiver.answer = () => 200;
    const runId = await submitEcho('rotate');
    const [message] = await waitFor(
      async () => forRun(runId, 'rotate'),
      (list) => list.length >= 1,
    );
    expect(message!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    await verifyWebhook(message!.body, message!.headers, data.secret);
    await verifyWebhook(message!.body, message!.headers, rotated.secret);
    new Webhook(rotated.secret).verify(message!.body, message!.headers);
    await server.api.deleteWebhook(data.id);
  });

  it('filters by event, sends a test event, redelivers on request, and disables an endpoint on 410', async () => {
    const { data } = await server.api.createWebhook({ url: urlFor('filter'), events: ['run.failed'] });
    receiver.answer = () => 200;
    const runId = await submitEcho('filtered');
    await waitFor(
      async () => (await server.api.getRun(runId)).data.status,
      (s) => s === 'completed',
    );
    const test = (await server.api.testWebhook(data.id)).data;
    const [got] = await waitFor(
      async () => receiver.received.filter((each) => each.id === test.id),
      (list) => list.length === 1,
    );
    expect(got!.type).toBe('webhook.test');
    // The run completed, and this endpoint only wanted run.failed: its log has the test event alone.
    expect((await deliveriesOf(data.id)).map((d) => d.event_type)).toEqual(['webhook.test']);
    await server.api.redeliverWebhook(data.id, test.id);
    await waitFor(
      async () => receiver.received.filter((each) => each.id === test.id),
      (list) => list.length === 2,
    );

    receiver.answer = () => 410;
    await server.api.testWebhook(data.id);
    const disabled = await waitFor(
      async () => (await server.api.getWebhook(data.id)).data,
      (endpoint) => !endpoint.enabled,
    );
    expect(disabled.disabled_reason).toMatch(/410/);
    const refused = await server.request(`/api/v1/admin/webhooks/${data.id}/test`, { method: 'POST' });
    expect(refused.status).toBe(409);
    const enabled = await server.api.updateWebhook(data.id, { enabled: true });
    expect(enabled.data.enabled).toBe(true);
    await server.api.deleteWebhook(data.id);
  });

  it('answers 400 for bad bodies and 404 for unknown endpoints', async () => {
    const badEvent = await server.request(
      '/api/v1/admin/webhooks',
      json({ url: receiver.url, events: ['run.x'] }),
    );
    expect(badEvent.status).toBe(400);
    const badUrl = await server.request('/api/v1/admin/webhooks', json({ url: 'ftp://example.com/x' }));
    expect(badUrl.status).toBe(400);
    expect(((await badUrl.json()) as { code: string }).code).toBe('INVALID_WEBHOOK_URL');
    const badSecret = await server.request(
      '/api/v1/admin/webhooks',
      json({ url: receiver.url, secret: 'abc' }),
    );
    expect(badSecret.status).toBe(400);
    expect((await server.request('/api/v1/admin/webhooks/ep_nope')).status).toBe(404);
    expect((await server.request('/api/v1/admin/webhooks/ep_nope/deliveries')).status).toBe(404);
  });
});

describe('per-run webhook_url', () => {
  it('POSTs the run end to the URL given at submission, signed with the project run secret', async () => {
    receiver.answer = () => 200;
    const runId = await submitEcho('per-run', { webhook_url: urlFor('run') });
    const [message] = await waitFor(
      async () => forRun(runId, 'run'),
      (list) => list.length >= 1,
    );
    expect(message!.type).toBe('run.completed');
    const secret = (await server.api.getRunWebhookSecret()).data.secret!;
    const payload = await verifyWebhook(message!.body, message!.headers, secret);
    expect(payload.data.run?.outputs[0]?.download_url).toMatch(/signature=/);
    // The run is not an input of the workflow, and its endpoint is listed by run id.
    const run = (await server.api.getRun(runId)).data;
    expect(run.inputs?.map((input) => input.path)).toEqual(['default_value_1']);
    const endpoints = (await server.api.listWebhooks({ runId })).data;
    expect(endpoints.map((e) => e.url)).toEqual([urlFor('run')]);
  });

  it("stores a run's endpoint before the run; a replay or a refused submission leaves none behind", async () => {
    const before = await runEndpointCount();
    const submit = (text: string) =>
      server.request('/api/v1/runs?workflow_id=text-echo', {
        method: 'POST',
        body: formOf({ default_value_1: text, webhook_url: urlFor('replay') }),
        headers: { 'idempotency-key': 'webhook-replay' },
      });
    const first = await submit('once');
    expect(first.status).toBe(201);
    const runId = ((await first.json()) as { data: { run_id: string } }).data.run_id;
    // The same request again answers the same run; the same key with other inputs is a conflict.
    expect((await submit('once')).status).toBe(200);
    expect((await submit('other')).status).toBe(409);
    expect(await runEndpointCount()).toBe(before + 1);
    expect((await server.api.listWebhooks({ runId })).data.map((e) => e.url)).toEqual([urlFor('replay')]);
  });
});

/** Endpoints of single runs, however many runs they belong to (the admin API lists them by run only). */
async function runEndpointCount(): Promise<number> {
  const sql = 'SELECT count(*) AS n FROM webhook_endpoints WHERE run_id IS NOT NULL';
  if (server.databaseUrl) return Number((await queryDatabase<{ n: string }>(server.databaseUrl, sql))[0]?.n);
  const sqlite = new BetterSqlite3(sqliteFile(server.dataDir), { readonly: true });
  try {
    return Number((sqlite.prepare(sql).get() as { n: number }).n);
  } finally {
    sqlite.close();
  }
}

describe('the address policy', () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startTestServer();
  });
  afterAll(async () => strict?.close());

  it('refuses private and loopback webhook URLs at create and at submit, and creates no run', async () => {
    for (const url of [
      'http://127.0.0.1:9/x',
      'http://10.1.2.3/x',
      'http://[::1]/x',
      'http://169.254.169.254/',
    ]) {
      const response = await strict.request('/api/v1/admin/webhooks', json({ url }));
      expect(response.status, url).toBe(400);
      expect(((await response.json()) as { errors: string }).errors).toMatch(/address/);
    }
    const before = (await strict.api.getRuns()).data.count;
    const submit = await strict.request('/api/v1/runs?workflow_id=text-echo', {
      method: 'POST',
      body: formOf({ default_value_1: 'x', webhook_url: 'http://192.168.1.10/hook' }),
    });
    expect(submit.status).toBe(400);
    expect(((await submit.json()) as { code: string }).code).toBe('INVALID_WEBHOOK_URL');
    expect((await strict.api.getRuns()).data.count).toBe(before);
  });
});
