import { describe, expect, it } from 'vitest';
import type { WebhookEndpointRecord } from '../../src/storage/webhook-records';
import { DATABASES, useDatabase } from './databases';

const at = (ms: number): string => new Date(Date.parse('2025-06-01T12:00:00.000Z') + ms).toISOString();

const endpoint = (id: string, fields: Partial<WebhookEndpointRecord> = {}): WebhookEndpointRecord => ({
  id,
  projectId: 'p1',
  url: 'https://example.com/hook',
  description: '',
  events: ['run.completed'],
  secrets: null,
  runId: null,
  disabledAt: null,
  disabledReason: null,
  failingSince: null,
  createdAt: at(0),
  updatedAt: at(0),
  ...fields,
});

// SQLite answers enabledEndpointsFor from memory (one process writes its file): every change of an
// endpoint must show in the very next answer, as a read of the table would.
describe.each(DATABASES)('enabled endpoints of a run on %s', (kind) => {
  const database = useDatabase(kind);

  it('follow every insert, disable, enable and delete at once', async () => {
    const stores = await database.open();
    const { webhooks } = stores;
    const enabledFor = async (projectId: string, runId: string) =>
      (await webhooks.enabledEndpointsFor(projectId, runId)).map((e) => e.id).sort();
    expect(await enabledFor('p1', 'run-1')).toEqual([]);

    await webhooks.insertEndpoint(endpoint('project-hook'));
    await webhooks.insertEndpoint(endpoint('run-hook', { runId: 'run-1' }));
    await webhooks.insertEndpoint(endpoint('other-project', { projectId: 'p2' }));
    await webhooks.insertEndpoint(endpoint('born-disabled', { disabledAt: at(1), disabledReason: 'x' }));
    expect(await enabledFor('p1', 'run-1')).toEqual(['project-hook', 'run-hook']);
    expect(await enabledFor('p1', 'run-2')).toEqual(['project-hook']);
    expect(await enabledFor('p2', 'run-1')).toEqual(['other-project', 'run-hook']);

    await webhooks.updateEndpoint('project-hook', { disabledAt: at(2), disabledReason: 'failing' }, at(2));
    expect(await enabledFor('p1', 'run-2')).toEqual([]);
    await webhooks.updateEndpoint('born-disabled', { disabledAt: null, disabledReason: null }, at(3));
    expect(await enabledFor('p1', 'run-2')).toEqual(['born-disabled']);
    await webhooks.updateEndpoint('born-disabled', { events: ['run.failed'] }, at(4));
    expect((await webhooks.enabledEndpointsFor('p1', 'run-2'))[0]?.events).toEqual(['run.failed']);

    expect(await webhooks.deleteEndpoint('run-hook')).toBe(true);
    expect(await enabledFor('p1', 'run-1')).toEqual(['born-disabled']);
    expect(await webhooks.deleteEndpoint('run-hook')).toBe(false);
    await expect(webhooks.insertEndpoint(endpoint('born-disabled'))).rejects.toThrow();
    expect(await enabledFor('p1', 'run-1')).toEqual(['born-disabled']);
  });

  it('a change made while the endpoints are being read shows in the next answer', async () => {
    const stores = await database.open();
    const { webhooks } = stores;
    const reading = webhooks.enabledEndpointsFor('p1', 'run-1');
    const inserting = webhooks.insertEndpoint(endpoint('late'));
    await Promise.all([reading, inserting]);
    expect((await webhooks.enabledEndpointsFor('p1', 'run-1')).map((e) => e.id)).toEqual(['late']);
  });
});
