import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { formOf, sleep, startTestServer, type TestServer, waitFor } from '../support/harness';

// Projects (tenants) on a real server and engine, on both databases: roles, key expiry, the audit log, and
// that a key of one project finds nothing of another's on any run endpoint (HTTP, SSE and WebSocket).

const TEXT_GRAPH = {
  '1': { class_type: 'FSLoadText', inputs: { default_value: 'hello', label: 'text' } },
  '3': {
    class_type: 'FSSaveText',
    inputs: { text: ['1', 0], filename_prefix: 'FlowScale', label: 'result' },
  },
};

interface Envelope {
  status: string;
  // biome-ignore lint/suspicious/noExplicitAny: test reads of JSON envelopes
  data?: any;
  errors?: string;
  code?: string;
}

describe.each(['sqlite', 'postgres'] as const)('projects on %s', { timeout: 120_000 }, (database) => {
  let server: TestServer;
  const keys: Record<'acme' | 'acmeViewer' | 'acme2' | 'globex', string> = {
    acme: '',
    acmeViewer: '',
    acme2: '',
    globex: '',
  };

  const call = async (key: string, path: string, init: RequestInit = {}): Promise<[number, Envelope]> => {
    const response = await server.request(path, { ...init, key });
    const text = await response.text();
    return [response.status, text ? JSON.parse(text) : {}];
  };
  const admin = (path: string, body?: unknown): Promise<[number, Envelope]> =>
    call(server.key, path, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
  const submit = (key: string, workflow: string, fields: Record<string, string>, headers = {}) =>
    call(key, `/api/v1/runs?workflow_id=${workflow}`, { method: 'POST', body: formOf(fields), headers });
  const finished = (id: string) =>
    waitFor(
      () => call(server.key, `/api/v1/runs/${id}`),
      ([, body]) => ['completed', 'failed', 'cancelled'].includes(body.data?.status),
      60_000,
    );
  const notFound = (id: string) => ({ status: 'error', errors: `Unknown run: ${id}`, code: 'RUN_NOT_FOUND' });

  beforeAll(async () => {
    server = await startTestServer({ database });
    for (const name of ['acme', 'globex'])
      expect((await admin('/api/v1/admin/projects', { name }))[0]).toBe(201);
    const make = async (name: string, role: string, project: string) => {
      const [status, body] = await admin('/api/v1/admin/keys', { name, role, project });
      expect(status).toBe(201);
      return body.data.key as string;
    };
    keys.acme = await make('acme app', 'member', 'acme');
    keys.acmeViewer = await make('acme dashboard', 'viewer', 'acme');
    keys.acme2 = await make('acme worker', 'user', 'acme');
    keys.globex = await make('globex app', 'member', 'globex');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('creates projects and keys in them by name or id; `user` is taken as member', async () => {
    const [, projects] = await admin('/api/v1/admin/projects');
    const names = projects.data.map((project: { name: string }) => project.name);
    expect(names).toEqual(expect.arrayContaining(['default', 'acme', 'globex']));
    const acme = projects.data.find((project: { name: string }) => project.name === 'acme');
    const [status, created] = await admin('/api/v1/admin/keys', { name: 'by id', project: acme.id });
    expect(status).toBe(201);
    expect(created.data).toMatchObject({ role: 'member', project: 'acme', project_id: acme.id });
    expect(created.data.key).toMatch(/^fs_/);

    expect(await admin('/api/v1/admin/projects', { name: 'acme' })).toEqual([
      409,
      expect.objectContaining({ code: 'PROJECT_EXISTS' }),
    ]);
    expect(await admin('/api/v1/admin/keys', { name: 'x', project: 'nowhere' })).toEqual([
      404,
      expect.objectContaining({ code: 'PROJECT_NOT_FOUND' }),
    ]);
    const [, listed] = await admin('/api/v1/admin/keys');
    const worker = listed.data.find((key: { name: string }) => key.name === 'acme worker');
    expect(worker).toMatchObject({ role: 'member', project: 'acme' });
    const configured = listed.data.find((key: { name: string }) => key.name === 'configured #1');
    expect(configured).toMatchObject({ role: 'admin', project: 'default', project_id: 'default' });
  });

  it('roles: a member cannot administer; a viewer reads but cannot run or cancel', async () => {
    expect((await call(keys.acme, '/api/v1/admin/keys'))[0]).toBe(403);
    expect((await call(keys.acme, '/api/v1/admin/projects', { method: 'POST' }))[0]).toBe(403);
    const [ran, run] = await submit(keys.acme, 'text-echo', { default_value_1: 'member' });
    expect(ran).toBe(201);
    const [viewerRun, refused] = await submit(keys.acmeViewer, 'text-echo', { default_value_1: 'v' });
    expect(viewerRun).toBe(403);
    expect(refused.code).toBe('FORBIDDEN');
    const cancel = await call(keys.acmeViewer, `/api/v1/runs/${run.data.run_id}/cancel`, { method: 'POST' });
    expect(cancel[0]).toBe(403);
    const [read, record] = await call(keys.acmeViewer, `/api/v1/runs/${run.data.run_id}`);
    expect(read).toBe(200);
    expect(record.data.project_id).not.toBe('default');
    expect((await call(keys.acmeViewer, '/api/v1/runs'))[0]).toBe(200);
  });

  it('a key of another project gets the unknown-run 404 for a run, its output, its events and its file URL', async () => {
    const [, submitted] = await submit(keys.acme, 'solid-color', {});
    const id = submitted.data.run_id as string;
    const [, done] = await finished(id);
    expect(done.data.status).toBe('completed');
    const filename = done.data.outputs[0].filename as string;

    const unknownId = randomUUID();
    expect(await call(keys.globex, `/api/v1/runs/${unknownId}`)).toEqual([404, notFound(unknownId)]);
    expect(await call(keys.globex, `/api/v1/runs/${id}`)).toEqual([404, notFound(id)]);
    expect(await call(keys.globex, `/api/v1/runs/${id}/cancel`, { method: 'POST' })).toEqual([
      404,
      notFound(id),
    ]);
    expect(await call(keys.globex, `/api/v1/runs/${id}/events`)).toEqual([404, notFound(id)]);
    const [outputStatus, output] = await call(keys.globex, `/api/v1/runs/output?filename=${filename}`);
    const [, never] = await call(keys.globex, '/api/v1/runs/output?filename=image_9_NOSUCHNAME');
    expect(outputStatus).toBe(404);
    expect(output).toEqual({ ...never, errors: never.errors!.replace('image_9_NOSUCHNAME', filename) });
    const [, listed] = await call(keys.globex, '/api/v1/runs?page_size=100');
    expect(listed.data.runs.map((run: { id: string }) => run.id)).not.toContain(id);

    // Its own project (any role) and an admin see all of it, file URL included.
    const [mine, signed] = await call(keys.acmeViewer, `/api/v1/runs/output?filename=${filename}`);
    expect(mine).toBe(200);
    expect((await fetch(signed.data.download_url)).status).toBe(200);
    const events = await server.request(`/api/v1/runs/${id}/events`, { key: keys.acmeViewer });
    expect([events.status, await events.text()]).toEqual([200, expect.stringContaining('run.completed')]);
    expect((await call(server.key, `/api/v1/runs/${id}`))[0]).toBe(200);
    const [, all] = await call(server.key, '/api/v1/runs?page_size=100');
    expect(all.data.runs.map((run: { id: string }) => run.id)).toContain(id);
    const [, own] = await call(keys.acme, '/api/v1/runs?page_size=100');
    expect(
      own.data.runs.every((run: { project_id: string }) => run.project_id === done.data.project_id),
    ).toBe(true);
  });

  it('WebSocket: a socket of another project hears nothing of the run, subscribed or not', async () => {
    const wsUrl = `${server.url.replace(/^http/, 'ws')}/api/v1/ws`;
    const open = async (key: string) => {
      const socket = new WebSocket(wsUrl, { headers: { 'x-api-key': key } });
      const messages: Array<{ type: string; data: { run_id?: string; status?: string } }> = [];
      socket.on('message', (raw) => messages.push(JSON.parse(String(raw))));
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      return { socket, messages };
    };
    const own = await open(keys.acme);
    const everyRun = await open(keys.globex);
    const named = await open(keys.globex);
    const [, submitted] = await submit(keys.acme, 'slow-delay', { default_value_1: 'ws', value_4: '0.5' });
    const id = submitted.data.run_id as string;
    named.socket.send(JSON.stringify({ type: 'client_event', data: { action: 'subscribe', runId: id } }));
    await finished(id);
    await waitFor(
      async () => own.messages,
      (messages) => messages.some((m) => m.data.run_id === id && m.data.status === 'completed'),
    );
    await sleep(300);
    for (const socket of [everyRun, named]) {
      expect(socket.messages.filter((m) => m.type === 'run_status_update')).toEqual([]);
    }
    expect(named.messages).toEqual([{ type: 'subscribed', data: { runId: id } }]);
    for (const socket of [own, everyRun, named]) socket.socket.close();
  });

  it('idempotency keys belong to the project: shared by its keys, separate from other projects', async () => {
    const key = `order-${randomUUID()}`;
    const fields = { default_value_1: 'once' };
    const [first, run] = await submit(keys.acme, 'text-echo', fields, { 'idempotency-key': key });
    const [again, replay] = await submit(keys.acme2, 'text-echo', fields, { 'idempotency-key': key });
    const [other, separate] = await submit(keys.globex, 'text-echo', fields, { 'idempotency-key': key });
    expect([first, again, other]).toEqual([201, 200, 201]);
    expect(replay.data.run_id).toBe(run.data.run_id);
    expect(separate.data.run_id).not.toBe(run.data.run_id);
  });

  it('getQueue shows a project only its own runs, as [position, run_id], never a graph or prompt id', async () => {
    const [, submitted] = await submit(keys.acme, 'slow-delay', { default_value_1: 'q', value_4: '3' });
    const id = submitted.data.run_id as string;
    const [, record] = await call(server.key, `/api/v1/runs/${id}`);
    // The admin's view is ComfyUI's own, prompt ids and graphs included.
    await waitFor(
      () => call(server.key, '/api/v1/comfy/queue'),
      ([, body]) => JSON.stringify(body).includes(record.data.prompt_id),
    );
    const [, acmeQueue] = await call(keys.acme, '/api/v1/comfy/queue');
    const entries = [...acmeQueue.data[0].queue.queue_running, ...acmeQueue.data[0].queue.queue_pending];
    expect(entries).toContainEqual([expect.any(Number), id]);
    expect(JSON.stringify(acmeQueue)).not.toContain(record.data.prompt_id);
    // Globex sees neither acme's run nor any prompt id; at most its own runs (an earlier test's may
    // still be finishing on a busy machine).
    const [, globexQueue] = await call(keys.globex, '/api/v1/comfy/queue');
    const globexEntries = [
      ...globexQueue.data[0].queue.queue_running,
      ...globexQueue.data[0].queue.queue_pending,
    ] as [number, string][];
    expect(JSON.stringify(globexQueue)).not.toContain(id);
    expect(JSON.stringify(globexQueue)).not.toContain(record.data.prompt_id);
    for (const [, runId] of globexEntries) {
      const [status] = await call(keys.globex, `/api/v1/runs/${runId}`);
      expect(status, runId).toBe(200);
    }
    await call(keys.acme, `/api/v1/runs/${id}/cancel`, { method: 'POST' });
  });

  it('a workflow restricted to projects is unknown to the others', async () => {
    const [deployed, workflow] = await admin('/api/v1/admin/workflows', {
      name: 'acme-only',
      workflow: TEXT_GRAPH,
      projects: ['acme'],
    });
    expect(deployed).toBe(201);
    const names = async (key: string) =>
      (await call(key, '/api/v1/comfy/workflows'))[1].data.map((w: { name: string }) => w.name);
    expect(await names(keys.acme)).toContain('acme-only');
    expect(await names(keys.globex)).not.toContain('acme-only');
    expect(await names(keys.globex)).toContain('text-echo');
    expect((await call(keys.globex, `/api/v1/comfy/workflows/${workflow.data.id}`))[0]).toBe(404);
    const [refused, body] = await submit(keys.globex, 'acme-only', {});
    expect([refused, body.code]).toEqual([404, 'WORKFLOW_NOT_FOUND']);
    expect((await submit(keys.acme, 'acme-only', {}))[0]).toBe(201);
    expect((await call(server.key, '/api/v1/admin/workflows/acme-only', { method: 'DELETE' }))[0]).toBe(200);
  });

  it('an expired key is refused with a message saying so; an expiry in the past is refused', async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const [, created] = await admin('/api/v1/admin/keys', {
      name: 'short',
      project: 'acme',
      expires_at: expiresAt,
    });
    expect((await call(created.data.key, '/api/v1/runs'))[0]).toBe(200);
    const [status, body] = await waitFor(
      () => call(created.data.key, '/api/v1/runs'),
      ([code]) => code !== 200,
    );
    expect(status).toBe(401);
    expect(body.code).toBe('KEY_EXPIRED');
    expect(body.errors).toContain('expired');
    const [past] = await admin('/api/v1/admin/keys', { name: 'old', expires_at: '2001-01-01T00:00:00Z' });
    expect(past).toBe(422);
  });

  it('the audit log records who created, revoked, deployed and deleted, for admins only', async () => {
    const [, created] = await admin('/api/v1/admin/keys', { name: 'audited', project: 'globex' });
    await call(server.key, `/api/v1/admin/keys/${created.data.id}`, { method: 'DELETE' });
    const [status, audit] = await admin('/api/v1/admin/audit?limit=500');
    expect(status).toBe(200);
    const actions = audit.data.map((entry: { action: string }) => entry.action);
    for (const action of ['project.create', 'key.create', 'key.revoke', 'workflow.deploy', 'workflow.delete'])
      expect(actions).toContain(action);
    const revoke = audit.data.find((entry: { action: string }) => entry.action === 'key.revoke');
    expect(revoke).toMatchObject({ target: created.data.id, actor: { name: 'configured #1' } });
    expect(Date.parse(revoke.at)).toBeGreaterThan(Date.now() - 60_000);
    expect(audit.data[0].at >= audit.data.at(-1).at).toBe(true);
    const [onlyKeys] = await admin('/api/v1/admin/audit?action=key.revoke');
    expect(onlyKeys).toBe(200);
    expect((await call(keys.acme, '/api/v1/admin/audit'))[0]).toBe(403);
  });

  it('metadata is stored, returned and filterable; bad or oversized metadata is a 400 and no run', async () => {
    const tag = randomUUID();
    const [, first] = await submit(keys.acme, 'text-echo', {
      default_value_1: 'm',
      metadata: JSON.stringify({ batch: tag, customer: 'c1', n: 3, vip: true }),
    });
    await submit(keys.acme, 'text-echo', {
      metadata: JSON.stringify({ batch: tag, customer: 'c2', vip: false }),
    });
    await submit(keys.globex, 'text-echo', { metadata: JSON.stringify({ batch: tag, customer: 'c1' }) });
    const [, record] = await call(keys.acme, `/api/v1/runs/${first.data.run_id}`);
    expect(record.data.metadata).toEqual({ batch: tag, customer: 'c1', n: 3, vip: true });
    expect(record.data.inputs.map((input: { path: string }) => input.path)).toEqual(['default_value_1']);
    const ids = async (key: string, query: string) =>
      (await call(key, `/api/v1/runs?metadata.batch=${tag}&${query}`))[1].data.runs.map(
        (run: { id: string }) => run.id,
      );
    expect(await ids(keys.acme, 'metadata.customer=c1')).toEqual([first.data.run_id]);
    expect(await ids(keys.acme, 'metadata.n=3')).toEqual([first.data.run_id]);
    expect(await ids(keys.acme, 'metadata.vip=true')).toEqual([first.data.run_id]);
    expect(await ids(keys.acme, '')).toHaveLength(2);
    expect(await ids(keys.globex, '')).toHaveLength(1);
    expect(await ids(server.key, '')).toHaveLength(3);
    expect((await call(keys.acme, '/api/v1/runs?metadata.bad%20key=1'))[0]).toBe(400);

    const [, before] = await call(server.key, '/api/v1/runs');
    for (const metadata of ['{not json', '[1,2]', JSON.stringify({ big: 'x'.repeat(9000) })]) {
      const [status, body] = await submit(keys.acme, 'text-echo', { metadata });
      expect([status, body.code]).toEqual([400, 'INVALID_METADATA']);
    }
    const [, after] = await call(server.key, '/api/v1/runs');
    expect(after.data.count).toBe(before.data.count);
  });

  it('quotas: past a limit a run is refused with 429, Retry-After and the quota as code (413 for size)', async () => {
    await admin('/api/v1/admin/projects', { name: 'initech' });
    const [, made] = await admin('/api/v1/admin/keys', { name: 'initech app', project: 'initech' });
    const key = made.data.key as string;
    const limits = (body: unknown) =>
      call(server.key, '/api/v1/admin/projects/initech/limits', {
        method: 'PUT',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    const count = async () => (await call(key, '/api/v1/runs'))[1].data.count as number;

    expect((await limits({ concurrent_runs: 1 }))[0]).toBe(200);
    const [, slow] = await submit(key, 'slow-delay', { default_value_1: 'quota', value_4: '3' });
    const refused = await server.request('/api/v1/runs?workflow_id=text-echo', {
      key,
      method: 'POST',
      body: formOf({ default_value_1: 'over' }),
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await refused.json()).code).toBe('QUOTA_CONCURRENT_RUNS');
    expect(await count()).toBe(1);
    await call(key, `/api/v1/runs/${slow.data.run_id}/cancel`, { method: 'POST' });

    expect((await limits({ runs_per_day: 1 }))[0]).toBe(200);
    const [daily, body] = await submit(key, 'text-echo', {});
    expect([daily, body.code]).toEqual([429, 'QUOTA_RUNS_PER_DAY']);
    expect((await limits({ max_input_bytes: 10 }))[0]).toBe(200);
    const [size, big] = await submit(key, 'text-echo', { default_value_1: 'x'.repeat(100) });
    expect([size, big.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(await count()).toBe(1);
    expect((await limits({ runs_per_hour: 1 }))[0]).toBe(422);
    expect((await limits({}))[0]).toBe(200);
    expect((await submit(key, 'text-echo', {}))[0]).toBe(201);
    const [, audit] = await admin('/api/v1/admin/audit?action=project.limits');
    expect(audit.data.length).toBeGreaterThanOrEqual(4);
  });
});
