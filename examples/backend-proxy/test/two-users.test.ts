import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@flowscale/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../src/app';

// Two signed-in users behind the Express example's proxy, over a real server and engine: each sees,
// follows and cancels only their own runs, and cannot pose as the other in the run's metadata.

const ADMIN_KEY = 'two-users-admin-key-0123456789';
let tmp: string;
let server: Awaited<ReturnType<typeof startServer>>;
let backend: http.Server;
let url: string;
const tokens: Record<string, string> = {};

const as = (user: string, path: string, init: RequestInit = {}) =>
  fetch(`${url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${tokens[user]}`, ...(init.headers as Record<string, string>) },
  });
const json = async (response: Response) => [response.status, await response.json()] as const;
const run = async (user: string, fields: Record<string, string>, query = '') => {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  const [status, body] = await json(
    await as(user, `/api/v1/runs?workflow_id=text-echo${query}`, { method: 'POST', body: form }),
  );
  expect(status).toBe(201);
  return body.data.run_id as string;
};
const adminRead = async (path: string) =>
  (await fetch(`${server.url}${path}`, { headers: { 'x-api-key': ADMIN_KEY } })).json();

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fs-two-users-'));
  server = await startServer({
    port: 0,
    dataDir: join(tmp, 'server'),
    apiKeys: [ADMIN_KEY],
    logLevel: 'silent',
  });
  // The proxy holds a member key of its own project, not the admin key.
  const headers = { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' };
  await fetch(`${server.url}/api/v1/admin/projects`, { method: 'POST', headers, body: '{"name":"web"}' });
  const created = await fetch(`${server.url}/api/v1/admin/keys`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name: 'web proxy', role: 'member', project: 'web' }),
  });
  const { data } = await created.json();
  backend = http.createServer(
    createBackend({
      flowscaleUrl: server.url,
      flowscaleApiKey: data.key,
      jwtSecret: 'two-users-secret',
      users: { alice: 'a-pass', bob: 'b-pass' },
    }),
  );
  backend.listen(0, '127.0.0.1');
  await new Promise((resolve) => backend.once('listening', resolve));
  url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  for (const [user, password] of [
    ['alice', 'a-pass'],
    ['bob', 'b-pass'],
  ]) {
    const login = await fetch(`${url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: user, password }),
    });
    tokens[user!] = (await login.json()).token;
  }
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => backend?.close(resolve));
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('two users through the Express example', { timeout: 60_000 }, () => {
  it("a user reads, follows and cancels only their own runs; another's run id is the unknown-run 404", async () => {
    const id = await run('alice', { default_value_1: 'alice only' });
    let record: { data: { status: string; outputs: Array<{ filename: string }> } } | undefined;
    for (let tries = 0; tries < 200 && record?.data.status !== 'completed'; tries++) {
      record = await (await as('alice', `/api/v1/runs/${id}`)).json();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(record?.data.status).toBe('completed');
    const notFound = { status: 'error', errors: `Unknown run: ${id}`, code: 'RUN_NOT_FOUND' };
    expect(await json(await as('bob', `/api/v1/runs/${id}`))).toEqual([404, notFound]);
    expect(await json(await as('bob', `/api/v1/runs/${id}/events`))).toEqual([404, notFound]);
    expect(await json(await as('bob', `/api/v1/runs/${id}/cancel`, { method: 'POST' }))).toEqual([
      404,
      notFound,
    ]);
    const filename = record!.data.outputs[0]!.filename;
    expect((await as('bob', `/api/v1/runs/output?filename=${filename}`)).status).toBe(404);
    expect((await as('alice', `/api/v1/runs/output?filename=${filename}`)).status).toBe(200);
    const events = await as('alice', `/api/v1/runs/${id}/events`);
    expect(await events.text()).toContain('run.completed');

    const [, bobs] = await json(await as('bob', '/api/v1/runs?page_size=100'));
    expect(bobs.data.runs.map((r: { id: string }) => r.id)).not.toContain(id);
    const [, alices] = await json(await as('alice', '/api/v1/runs?page_size=100'));
    expect(alices.data.runs.map((r: { id: string }) => r.id)).toContain(id);
  });

  it('the browser cannot record another user as the owner, in the body or the query', async () => {
    const forged = JSON.stringify({ proxy_user: 'alice', note: 'mine' });
    const id = await run(
      'bob',
      { default_value_1: 'bob', metadata: forged },
      `&metadata=${encodeURIComponent(forged)}`,
    );
    const stored = await adminRead(`/api/v1/runs/${id}`);
    expect(stored.data.metadata).toEqual({ proxy_user: 'bob', note: 'mine' });
    expect((await as('alice', `/api/v1/runs/${id}`)).status).toBe(404);
    expect((await as('bob', `/api/v1/runs/${id}`)).status).toBe(200);
  });
});
