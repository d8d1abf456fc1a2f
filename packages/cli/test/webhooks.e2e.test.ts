import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli';
import { E2E_TIMEOUT, startTestServer, type TestServer } from './helpers/server';

// A real receiver on a loopback port (allowed by the server's URL-input setting, on for this test only).
const received: Array<{ id: string; status: number }> = [];
let failNext = 0;
const receiver = http.createServer((request, response) => {
  request.resume().on('end', () => {
    const status = failNext-- > 0 ? 500 : 200;
    received.push({ id: String(request.headers['webhook-id']), status });
    response.writeHead(status).end();
  });
});
let server: TestServer;
let receiverUrl = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  server = await startTestServer({
    allowPrivateUrls: true,
    webhookScheduleMs: [0, 100, 100],
    webhookPollIntervalMs: 200,
  });
}, E2E_TIMEOUT);
afterAll(async () => {
  await server?.close();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
}, E2E_TIMEOUT);

const cli = (args: string[]) => runCli(args, { cwd: server.work, env: server.env });

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not reached; received ${JSON.stringify(received)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('flowscale webhooks', { timeout: E2E_TIMEOUT }, () => {
  it('create, list, test, deliveries, redeliver and delete', async () => {
    const created = await cli([
      'webhooks',
      'create',
      receiverUrl,
      '--events',
      'run.completed,run.failed',
      '--json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const endpoint = JSON.parse(created.stdout) as { id: string; secret: string; events: string[] };
    expect(endpoint.secret).toMatch(/^whsec_/);
    expect(endpoint.events).toEqual(['run.completed', 'run.failed']);

    const listed = await cli(['webhooks', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(endpoint.id);
    expect(listed.stdout).toContain('run.completed,run.failed');

    failNext = 1;
    const tested = await cli(['webhooks', 'test', endpoint.id, '--json']);
    expect(tested.code, tested.stderr).toBe(0);
    const deliveryId = (JSON.parse(tested.stdout) as { id: string }).id;
    await until(() => received.some((r) => r.id === deliveryId && r.status === 200));

    const log = await cli(['webhooks', 'deliveries', endpoint.id, '--json']);
    expect(log.code, log.stderr).toBe(0);
    const [delivery] = JSON.parse(log.stdout) as Array<{
      id: string;
      status: string;
      attempt_log: Array<{ status_code: number }>;
    }>;
    expect(delivery).toMatchObject({ id: deliveryId, status: 'delivered' });
    expect(delivery!.attempt_log.map((a) => a.status_code)).toEqual([500, 200]);
    const human = await cli(['webhooks', 'deliveries', endpoint.id]);
    expect(human.stdout).toMatch(/DELIVERY\s+EVENT\s+STATUS\s+ATTEMPT\s+CODE\s+LATENCY/);
    expect(human.stdout).toContain('500');

    const again = await cli(['webhooks', 'redeliver', endpoint.id, deliveryId]);
    expect(again.code, again.stderr).toBe(0);
    await until(() => received.filter((r) => r.id === deliveryId && r.status === 200).length === 2);

    const deleted = await cli(['webhooks', 'delete', endpoint.id]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await cli(['webhooks', 'list'])).stdout).toContain('no webhook endpoints');
    const gone = await cli(['webhooks', 'deliveries', endpoint.id]);
    expect(gone.code).toBe(4);
  });

  it('refuses a bad URL and an unknown event with a clear message', async () => {
    const badUrl = await cli(['webhooks', 'create', 'ftp://example.com/x']);
    expect(badUrl.code).not.toBe(0);
    expect(badUrl.stderr).toMatch(/only http and https/);
    const badEvent = await cli(['webhooks', 'create', receiverUrl, '--events', 'run.exploded']);
    expect(badEvent.code).toBe(2);
    expect(badEvent.stderr).toMatch(/unknown event run.exploded/);
  });
});
