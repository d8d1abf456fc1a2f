import { describe, expect, it } from 'vitest';
import type { ApiKeyRecord, OutputRecord, WorkflowRecord } from '../../src/storage/records';
import { DATABASES, makeRun, nextTime, queued, useDatabase } from './databases';

const GiB = 1024 ** 3;

const readyFile = (runId: string, name: string, index: number, size = 10): OutputRecord => ({
  filename: `${name}_${String(index).padStart(5, '0')}_.png`,
  name,
  runId,
  nodeId: '3',
  contentType: 'image/png',
  size,
  storageKey: `${name}_${index}`,
  ready: true,
});

const workflow = (name: string, overrides: Partial<WorkflowRecord> = {}): WorkflowRecord => ({
  id: `wf-${name}`,
  name,
  description: 'déscription',
  graph: { '9': { class_type: 'SaveImage', inputs: { b: 1, a: 2 } } },
  manifest: { inputs: { prompt: { alias: 'p' } } },
  inputsJson: '[{"name":"prompt_6","type":"string"}]',
  outputsJson: '[{"name":"image_9","type":"image"}]',
  source: 'api',
  createdAt: nextTime(),
  updatedAt: nextTime(),
  projects: null,
  ...overrides,
});

const apiKey = (id: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  id,
  name: `key ${id}`,
  role: 'member',
  projectId: 'default',
  expiresAt: null,
  prefix: id.slice(0, 4),
  keyHash: `hash-${id}`,
  source: 'api',
  createdAt: nextTime(),
  lastUsedAt: null,
  revokedAt: null,
  ...overrides,
});

describe.each(DATABASES)('record stores on %s', (kind) => {
  const database = useDatabase(kind);

  it('outputs: save upserts; find takes a filename, or a bare name (its first ready file, else the placeholder)', async () => {
    const stores = await database.open();
    const run = makeRun();
    await stores.runs.insert(run, queued);
    const name = run.outputNames[0]!;
    expect((await stores.outputs.find(name))?.ready).toBe(false);

    const second = readyFile(run.id, name, 2);
    const first = readyFile(run.id, name, 1, 3 * GiB);
    await stores.outputs.save(second);
    await stores.outputs.save(first);
    expect(await stores.outputs.find(name)).toEqual(first);
    expect(await stores.outputs.find(second.filename)).toEqual(second);
    // Saving again updates what it says about the file.
    await stores.outputs.save({ ...second, size: 99, contentType: 'image/webp', storageKey: 'moved' });
    expect(await stores.outputs.find(second.filename)).toEqual({
      ...second,
      size: 99,
      contentType: 'image/webp',
      storageKey: 'moved',
    });
    expect(await stores.outputs.find('no-such-output')).toBeUndefined();
  });

  it('outputs: listExpired finds ready files of finished runs older than the cutoff; delete forgets them and their pending placeholders', async () => {
    const stores = await database.open();
    const finished = makeRun({ outputNames: ['a_3_fin00001', 'b_4_fin00001'] });
    const unfinished = makeRun();
    await stores.runs.insert(finished, queued);
    await stores.runs.insert(unfinished, queued);
    const f1 = readyFile(finished.id, 'a_3_fin00001', 1);
    const f2 = readyFile(finished.id, 'a_3_fin00001', 2);
    await stores.outputs.save(f1);
    await stores.outputs.save(f2);
    await stores.outputs.save(readyFile(unfinished.id, unfinished.outputNames[0]!, 1));
    await stores.runs.update(finished.id, { status: 'completed' });

    const future = new Date(Date.now() + 60_000).toISOString();
    const past = new Date(Date.now() - 60_000).toISOString();
    expect(await stores.outputs.listExpired(future, 10)).toEqual([f1, f2]);
    expect(await stores.outputs.listExpired(future, 1)).toEqual([f1]);
    expect(await stores.outputs.listExpired(past, 10)).toEqual([]);

    await stores.outputs.delete([f1, f2]);
    expect(await stores.outputs.find(f1.filename)).toBeUndefined();
    expect(await stores.outputs.find('a_3_fin00001')).toBeUndefined();
    // The other output of that run never came; its placeholder goes too, as the run's files are gone.
    expect(await stores.outputs.find('b_4_fin00001')).toBeUndefined();
    expect(await stores.outputs.find(unfinished.outputNames[0]!)).toMatchObject({ ready: true });
    await stores.outputs.delete([]);
  });

  it('workflows: upsert keeps the first createdAt; get, getByName, list in byte order, delete', async () => {
    const stores = await database.open();
    const lower = workflow('a-flow');
    const upper = workflow('B-flow');
    expect(await stores.workflows.upsert(lower)).toEqual(lower);
    await stores.workflows.upsert(upper);
    const redeployed = await stores.workflows.upsert({
      ...lower,
      description: 'new',
      createdAt: nextTime(),
      updatedAt: nextTime(),
    });
    expect(redeployed.createdAt).toBe(lower.createdAt);
    expect(redeployed.description).toBe('new');
    expect(await stores.workflows.get(lower.id)).toEqual(redeployed);
    expect(await stores.workflows.getByName('B-flow')).toEqual(upper);
    // Exact text: the JSON columns are handed back as written.
    expect((await stores.workflows.get(upper.id))?.inputsJson).toBe(upper.inputsJson);
    expect(JSON.stringify((await stores.workflows.get(upper.id))?.graph)).toBe(JSON.stringify(upper.graph));
    expect((await stores.workflows.list()).map((record) => record.name)).toEqual(['B-flow', 'a-flow']);
    expect(await stores.workflows.delete(upper.id)).toBe(true);
    expect(await stores.workflows.delete(upper.id)).toBe(false);
    expect(await stores.workflows.get(upper.id)).toBeUndefined();
    expect(await stores.workflows.getByName('B-flow')).toBeUndefined();
    // No manifest is stored as null.
    await stores.workflows.upsert(workflow('plain', { manifest: null }));
    expect((await stores.workflows.getByName('plain'))?.manifest).toBeNull();
  });

  it('keys: insert, findByHash, list, revoke once, touch, countUsable, and a re-inserted hash is usable again', async () => {
    const stores = await database.open();
    const k1 = apiKey('k1');
    const k2 = apiKey('k2', { role: 'admin', source: 'config' });
    const k3 = apiKey('k3', { source: 'config' });
    for (const key of [k1, k2, k3]) await stores.keys.insert(key);
    expect(await stores.keys.findByHash('hash-k2')).toEqual(k2);
    expect(await stores.keys.findByHash('nope')).toBeUndefined();
    expect(await stores.keys.list()).toEqual([k1, k2, k3]);
    expect(await stores.keys.countUsable()).toBe(3);

    const at = nextTime();
    expect(await stores.keys.revoke('k1', at)).toBe(true);
    expect(await stores.keys.revoke('k1', nextTime())).toBe(false);
    expect((await stores.keys.findByHash('hash-k1'))?.revokedAt).toBe(at);
    await stores.keys.revokeConfigKeysExcept(['hash-k2'], at);
    expect((await stores.keys.findByHash('hash-k3'))?.revokedAt).toBe(at);
    expect((await stores.keys.findByHash('hash-k2'))?.revokedAt).toBeNull();
    expect(await stores.keys.countUsable()).toBe(1);
    await stores.keys.revokeConfigKeysExcept([], at);
    expect(await stores.keys.countUsable()).toBe(0);

    const used = nextTime();
    await stores.keys.touch('k2', used);
    expect((await stores.keys.findByHash('hash-k2'))?.lastUsedAt).toBe(used);
    // A configured key named again comes back with the role it is given now.
    await stores.keys.insert({ ...k3, id: 'k3-again', role: 'admin' });
    expect(await stores.keys.findByHash('hash-k3')).toMatchObject({
      id: 'k3',
      role: 'admin',
      revokedAt: null,
    });
  });

  it('idempotency: find answers the first run of a key; deleteOlderThan forgets old keys', async () => {
    const stores = await database.open();
    const old = makeRun({ createdAt: '2020-01-01T00:00:00.000Z' });
    const fresh = makeRun();
    await stores.runs.insert(old, queued, { scope: 's', key: 'old', requestHash: 'h1' });
    await stores.runs.insert(fresh, queued, { scope: 's', key: 'fresh', requestHash: 'h2' });
    expect(await stores.idempotency.find('s', 'old')).toEqual({ requestHash: 'h1', runId: old.id });
    expect(await stores.idempotency.find('other', 'old')).toBeUndefined();
    expect(await stores.idempotency.deleteOlderThan('2021-01-01T00:00:00.000Z')).toBe(1);
    expect(await stores.idempotency.find('s', 'old')).toBeUndefined();
    expect(await stores.idempotency.find('s', 'fresh')).toEqual({ requestHash: 'h2', runId: fresh.id });
    // The key is free again: a new request under it creates a new run.
    expect(
      (await stores.runs.insert(makeRun(), queued, { scope: 's', key: 'old', requestHash: 'h3' })).kind,
    ).toBe('created');
  });

  it('input file records: record is idempotent per hash; delete forgets it', async () => {
    const stores = await database.open();
    const file = { sha256: 'a'.repeat(64), size: 5 * GiB, filename: 'ïmage.png', content_type: 'image/png' };
    await stores.inputFiles.record(file);
    await stores.inputFiles.record({ ...file, filename: 'again.png' });
    const rows = await database.rows('input_files');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      sha256: file.sha256,
      original_name: 'ïmage.png',
      content_type: 'image/png',
    });
    expect(Number(rows[0]!.size)).toBe(5 * GiB);
    await stores.inputFiles.delete(file.sha256);
    expect(await database.rows('input_files')).toEqual([]);
  });

  it('settings: the first value written wins', async () => {
    const stores = await database.open();
    expect(await stores.settings.get('secret')).toBeUndefined();
    expect(await stores.settings.setIfAbsent('secret', 'one')).toBe('one');
    expect(await stores.settings.setIfAbsent('secret', 'two')).toBe('one');
    expect(await stores.settings.get('secret')).toBe('one');
  });

  it(`names its kind, answers ping while open, and refuses once closed`, async () => {
    const stores = await database.open();
    expect(stores.kind).toBe(kind);
    await expect(stores.ping()).resolves.toBeUndefined();
    await stores.close();
    await expect(stores.ping()).rejects.toThrow();
  });
});
