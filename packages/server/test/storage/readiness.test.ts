import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness';
import { ADMIN_URL, queryDatabase } from '../support/postgres';
import { DATABASES } from './databases';

describe.each(DATABASES)('GET /readyz on %s', (kind) => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('answers 200 ready without an API key while the database answers', async () => {
    server = await startTestServer({ database: kind });
    expect(Boolean(server.databaseUrl)).toBe(kind === 'postgres');
    const response = await server.request('/readyz', { key: null });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready' });
  });

  if (kind === 'postgres') {
    it('answers 503 with the reason once the database is gone, and the server keeps serving', async () => {
      server = await startTestServer({ database: kind });
      const name = new URL(server.databaseUrl!).pathname.slice(1);
      await queryDatabase(ADMIN_URL, `drop database "${name}" with (force)`);
      const response = await server.request('/readyz', { key: null });
      expect(response.status).toBe(503);
      const body = await response.json();
      expect(body.status).toBe('unavailable');
      expect(body.reason).toContain(`database "${name}" does not exist`);
      // Liveness is not readiness: the process is fine, only its database is not.
      expect((await server.request('/healthz', { key: null })).status).toBe(200);
    });
  }
});
