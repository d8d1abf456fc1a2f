import { describe, expect, it } from 'vitest';
import type { Stores } from '../../src/storage/stores';
import type { WebhookDeliveryRecord, WebhookEndpointRecord } from '../../src/storage/webhook-records';
import { DATABASES, makeRun, queued, useDatabase } from './databases';

const T0 = Date.parse('2025-06-01T12:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();

const endpoint = (id: string): WebhookEndpointRecord => ({
  id,
  projectId: 'default',
  url: 'https://example.com/hook',
  description: '',
  events: ['run.completed'],
  secrets: [{ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', createdAt: at(0), expiresAt: null }],
  runId: null,
  disabledAt: null,
  disabledReason: null,
  failingSince: null,
  createdAt: at(0),
  updatedAt: at(0),
});

const delivery = (id: string, endpointId: string, due: number): WebhookDeliveryRecord => ({
  id,
  endpointId,
  projectId: 'default',
  eventType: 'run.completed',
  runId: null,
  payload: '{"type":"run.completed"}',
  status: 'pending',
  attempts: 0,
  step: 0,
  nextAttemptAt: at(due),
  lastStatusCode: null,
  lastError: null,
  createdAt: at(0),
  updatedAt: at(0),
  deliveredAt: null,
});

const outcome = {
  status: 'delivered' as const,
  step: 0,
  nextAttemptAt: null,
  lastStatusCode: 200,
  lastError: null,
  deliveredAt: at(1),
};
const attemptOf = (id: string, attempt: number) => ({
  deliveryId: id,
  attempt,
  endpointId: 'ep',
  startedAt: at(1),
  statusCode: 200,
  latencyMs: 3,
  error: null,
});

describe.each(DATABASES)('the webhook delivery queue on %s', (kind) => {
  const database = useDatabase(kind);

  it('several store instances claiming at once: every delivery is claimed by exactly one', async () => {
    const first = await database.open();
    const others: Stores[] = [first, await database.open(), await database.open(), await database.open()];
    await first.webhooks.insertEndpoint(endpoint('ep'));
    const ids = Array.from({ length: 300 }, (_, index) => `msg_${String(index).padStart(4, '0')}`);
    await first.webhooks.insertDeliveries(ids.map((id) => delivery(id, 'ep', 0)));
    const claimedBy = new Map<string, number>();
    await Promise.all(
      others.map(async (stores, instance) => {
        for (;;) {
          const claimed = await stores.webhooks.claimDue(at(10), 7, at(60_000), `token-${instance}`);
          if (claimed.length === 0) return;
          for (const each of claimed) {
            expect(claimedBy.has(each.id), `${each.id} claimed twice`).toBe(false);
            claimedBy.set(each.id, instance);
            expect(each.attempts).toBe(1);
          }
        }
      }),
    );
    expect([...claimedBy.keys()].sort()).toEqual(ids);
    // On Postgres the claims really were spread over the instances (SKIP LOCKED, not one winner).
    if (kind === 'postgres') expect(new Set(claimedBy.values()).size).toBeGreaterThan(1);
  });

  it('a claim is fenced: a lapsed holder cannot record, the new holder gets the next attempt number', async () => {
    const stores = await database.open();
    await stores.webhooks.insertEndpoint(endpoint('ep'));
    await stores.webhooks.insertDeliveries([delivery('msg_a', 'ep', 0), delivery('msg_later', 'ep', 5000)]);
    const [first] = await stores.webhooks.claimDue(at(10), 10, at(1000), 'old');
    expect(first?.id).toBe('msg_a');
    // Still leased: nobody else gets it, and the later one is not due.
    expect(await stores.webhooks.claimDue(at(500), 10, at(2000), 'other')).toEqual([]);
    // The holder died; its lease passed: claimed again, as attempt 2.
    // It says when the lapsed claim was made, so the lost attempt can be logged.
    expect(first?.lapsedClaimAt).toBeNull();
    const [again] = await stores.webhooks.claimDue(at(1500), 10, at(3000), 'new');
    expect(again).toMatchObject({ id: 'msg_a', attempts: 2, claimToken: 'new', lapsedClaimAt: at(10) });
    const lost = { ...attemptOf('msg_a', 1), statusCode: null, error: 'lost' };
    const recorded = await stores.webhooks.finishAttempts(
      [
        { token: 'old', attempts: [attemptOf('msg_a', 1)], outcome },
        { token: 'new', attempts: [lost, attemptOf('msg_a', 2)], outcome },
      ],
      at(1600),
    );
    expect(recorded).toEqual([false, true]);
    expect(await stores.webhooks.getDelivery('msg_a')).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(await stores.webhooks.listAttempts(['msg_a'])).toMatchObject([
      { attempt: 1, statusCode: null, error: 'lost' },
      { attempt: 2, statusCode: 200 },
    ]);
    expect(await stores.webhooks.nextDueAt()).toBe(at(5000));
    // Redelivery makes it pending and due again; deleting the endpoint takes its log with it.
    expect(await stores.webhooks.redeliver('msg_a', at(2000))).toBe(true);
    expect((await stores.webhooks.claimDue(at(2000), 10, at(9000), 'r')).map((d) => d.id)).toEqual(['msg_a']);
    expect(await stores.webhooks.deleteEndpoint('ep')).toBe(true);
    expect(await database.rows('webhook_deliveries')).toEqual([]);
    expect(await database.rows('webhook_attempts')).toEqual([]);
  });

  it('a renewed claim holds past its first lease; expired claims are free at once', async () => {
    const stores = await database.open();
    await stores.webhooks.insertEndpoint(endpoint('ep'));
    await stores.webhooks.insertDeliveries([delivery('msg_a', 'ep', 0), delivery('msg_b', 'ep', 0)]);
    const claimed = await stores.webhooks.claimDue(at(10), 10, at(1000), 'held');
    expect(claimed.map((d) => d.id).sort()).toEqual(['msg_a', 'msg_b']);
    // Only msg_a's holder renews; a stale token renews nothing.
    await stores.webhooks.extendClaims([{ id: 'msg_a', token: 'held' }], at(5000));
    await stores.webhooks.extendClaims([{ id: 'msg_b', token: 'stale' }], at(5000));
    expect((await stores.webhooks.claimDue(at(2000), 10, at(3000), 'next')).map((d) => d.id)).toEqual([
      'msg_b',
    ]);
    // A sole writer starting again lets every claim go: msg_a is due now, not at 5000.
    expect(await stores.webhooks.expireClaims(at(2500))).toBe(2);
    const [taken] = await stores.webhooks.claimDue(at(2600), 10, at(9000), 'restarted');
    expect(taken).toMatchObject({ id: 'msg_a', attempts: 2, lapsedClaimAt: at(10) });
  });

  it("an attempt's record carries its endpoint's failure streak, the batch's last word winning", async () => {
    const stores = await database.open();
    await stores.webhooks.insertEndpoint(endpoint('ep'));
    await stores.webhooks.insertDeliveries([delivery('msg_a', 'ep', 0), delivery('msg_b', 'ep', 0)]);
    await stores.webhooks.claimDue(at(10), 10, at(1000), 't');
    const failed = { ...outcome, status: 'pending' as const, nextAttemptAt: at(500), deliveredAt: null };
    await stores.webhooks.finishAttempts(
      [
        {
          token: 't',
          attempts: [attemptOf('msg_a', 1)],
          outcome: failed,
          streak: { endpointId: 'ep', failingSince: at(20) },
        },
        {
          token: 't',
          attempts: [attemptOf('msg_b', 1)],
          outcome,
          streak: { endpointId: 'ep', failingSince: null },
        },
      ],
      at(30),
    );
    expect(await stores.webhooks.getEndpoint('ep')).toMatchObject({ failingSince: null });
    await stores.webhooks.claimDue(at(600), 10, at(1000), 'u');
    await stores.webhooks.finishAttempts(
      [
        {
          token: 'u',
          attempts: [attemptOf('msg_a', 2)],
          outcome: failed,
          streak: { endpointId: 'ep', failingSince: at(600) },
        },
      ],
      at(610),
    );
    expect(await stores.webhooks.getEndpoint('ep')).toMatchObject({ failingSince: at(600) });
    expect((await stores.webhooks.getDelivery('msg_a'))?.status).toBe('pending');
  });

  it('storing the same deliveries twice stores them once, and takes the outbox row', async () => {
    const stores = await database.open();
    await stores.webhooks.insertEndpoint(endpoint('ep'));
    await stores.webhooks.insertDeliveries([delivery('msg_a', 'ep', 0)], { runId: 'run-x', seq: 3 });
    await stores.webhooks.insertDeliveries([delivery('msg_a', 'ep', 0)], { runId: 'run-x', seq: 3 });
    expect(await database.rows('webhook_deliveries')).toHaveLength(1);
    expect(await stores.webhooks.outboxEvents(at(1e12), 10)).toEqual([]);
  });

  it('a webhook event commits its outbox row with it, only when an enabled endpoint may want it', async () => {
    const stores = await database.open();
    const alone = makeRun();
    await stores.runs.insert(alone, queued);
    // No endpoint yet: the event costs no outbox row.
    await stores.events.append(alone.id, 'run.started', {}, { status: 'running' });
    expect(await database.rows('webhook_outbox')).toEqual([]);
    await stores.webhooks.insertEndpoint(endpoint('ep'));
    const run = makeRun();
    await stores.runs.insert(run, queued);
    await stores.events.append(run.id, 'run.progress', { progress: 5 }, { progress: 5 });
    const done = await stores.events.append(run.id, 'run.completed', {}, { status: 'completed' });
    const swept = await stores.webhooks.outboxEvents(at(1e12), 10);
    expect(swept).toMatchObject([{ runId: run.id, seq: done.seq, type: 'run.completed' }]);
    await stores.webhooks.insertDeliveries([delivery('msg_a', 'ep', 0)], { runId: run.id, seq: done.seq });
    expect(await stores.webhooks.outboxEvents(at(1e12), 10)).toEqual([]);
  });

  it('keeps endpoints, their secrets and filters, and the first run-secret writer wins', async () => {
    const stores = await database.open();
    await stores.webhooks.insertEndpoint(endpoint('ep1'));
    await stores.webhooks.insertEndpoint({
      ...endpoint('ep2'),
      runId: 'run-1',
      secrets: null,
      projectId: 'p2',
    });
    expect(await stores.webhooks.getEndpoint('ep1')).toEqual(endpoint('ep1'));
    expect((await stores.webhooks.listEndpoints({ projectId: 'default' })).map((e) => e.id)).toEqual(['ep1']);
    expect((await stores.webhooks.listEndpoints({ runId: 'run-1' })).map((e) => e.id)).toEqual(['ep2']);
    expect((await stores.webhooks.enabledEndpointsFor('default', 'run-1')).map((e) => e.id).sort()).toEqual([
      'ep1',
      'ep2',
    ]);
    await stores.webhooks.updateEndpoint('ep1', { disabledAt: at(5), disabledReason: 'x' }, at(5));
    expect((await stores.webhooks.enabledEndpointsFor('default', 'run-2')).map((e) => e.id)).toEqual([]);
    const mine = [{ secret: 'whsec_a', createdAt: at(0), expiresAt: null }];
    const theirs = [{ secret: 'whsec_b', createdAt: at(0), expiresAt: null }];
    expect(await stores.webhooks.initSigningSecrets('default', mine, at(0))).toEqual(mine);
    expect(await stores.webhooks.initSigningSecrets('default', theirs, at(0))).toEqual(mine);
    await stores.webhooks.setSigningSecrets('default', theirs, at(1));
    expect(await stores.webhooks.getSigningSecrets('default')).toEqual(theirs);
  });
});
