import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formOf, startTestServer, type TestServer, waitFor } from '../support/harness';
import { solidPng } from '../support/png';

// Real engine on a shared 2-core box: generous limits, only to stop hangs.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const DAY_MS = 24 * 60 * 60 * 1000;
let server: TestServer;
let db: BetterSqlite3.Database;

beforeAll(async () => {
  server = await startTestServer({ retentionDays: 2, retentionSweepIntervalMs: 100 });
  // A second connection to the server's own database, only to backdate timestamps (WAL allows it).
  db = new BetterSqlite3(path.join(server.dataDir, 'flowscale.db'));
  db.pragma('busy_timeout = 5000');
});
afterAll(async () => {
  db?.close();
  await server?.close();
});

const inputPath = (sha256: string): string => path.join(server.dataDir, 'inputs', sha256);
const backdate = (file: string, days: number): void => {
  const when = new Date(Date.now() - days * DAY_MS);
  fs.utimesSync(file, when, when);
};
/** Submits an image run; returns its id and the content hash its input is stored under. */
const submitImage = async (rgb: [number, number, number]): Promise<[string, string]> => {
  const png = solidPng(2, 2, rgb);
  const response = await server.request('/api/v1/runs?workflow_id=invert-image', {
    method: 'POST',
    body: formOf({ image_1: new Blob([new Uint8Array(png)], { type: 'image/png' }) }),
  });
  expect(response.status).toBe(201);
  return [(await response.json()).data.run_id as string, createHash('sha256').update(png).digest('hex')];
};
const runRecord = async (runId: string) =>
  (await (await server.request(`/api/v1/runs/${runId}`)).json()).data;
const finished = (runId: string) =>
  waitFor(
    () => runRecord(runId),
    (run) => ['completed', 'failed', 'cancelled'].includes(run.status),
  );

describe('retention (FLOWSCALE_RETENTION_DAYS)', () => {
  it('deletes input and output files older than the period, keeps newer ones and inputs of unfinished runs', async () => {
    const [oldId, oldSha] = await submitImage([10, 20, 30]);
    const [newId, newSha] = await submitImage([40, 50, 60]);
    const oldRun = await finished(oldId);
    const newRun = await finished(newId);
    expect([oldRun.status, newRun.status]).toEqual(['completed', 'completed']);
    const oldOutput = oldRun.outputs[0].filename as string;
    const newOutput = newRun.outputs[0].filename as string;
    expect(fs.existsSync(inputPath(oldSha))).toBe(true);

    // A run that cannot finish yet (the engine is busy with a slow one) holds an old input.
    const blocker = (
      await (
        await server.request('/api/v1/runs?workflow_id=slow-delay', {
          method: 'POST',
          body: formOf({ default_value_1: 'x', value_4: '3' }),
        })
      ).json()
    ).data.run_id as string;
    const [waitingId, waitingSha] = await submitImage([70, 80, 90]);

    backdate(inputPath(oldSha), 3);
    backdate(inputPath(waitingSha), 3);
    db.prepare('UPDATE outputs SET created_at = ? WHERE run_id = ?').run(
      new Date(Date.now() - 3 * DAY_MS).toISOString(),
      oldRun._id,
    );

    await waitFor(
      async () => fs.existsSync(inputPath(oldSha)),
      (exists) => !exists,
    );
    const outputDir = path.join(server.dataDir, 'outputs');
    await waitFor(
      async () => fs.existsSync(path.join(outputDir, oldOutput)),
      (exists) => !exists,
    );
    expect(fs.existsSync(inputPath(newSha)), 'newer input kept').toBe(true);
    expect(fs.existsSync(path.join(outputDir, newOutput)), 'newer output kept').toBe(true);
    expect((await runRecord(waitingId)).status, 'still unfinished').toMatch(/queued|running/);
    expect(fs.existsSync(inputPath(waitingSha)), 'input of an unfinished run kept').toBe(true);

    // The run record stays; asking for the deleted output is a clear 404 that says why.
    expect((await runRecord(oldRun._id)).status).toBe('completed');
    const gone = await server.request(`/api/v1/runs/output?filename=${oldOutput}`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({
      code: 'OUTPUT_NOT_FOUND',
      errors: expect.stringContaining('deleted after 2 days'),
    });
    const kept = await server.request(`/api/v1/runs/output?filename=${newOutput}`);
    expect(kept.status).toBe(200);
    const count = db.prepare('SELECT COUNT(*) AS n FROM input_files WHERE sha256 = ?').get(oldSha) as {
      n: number;
    };
    expect(count.n, 'its input_files row is gone too').toBe(0);

    // Once the waiting run finishes, its (old) input goes at the next sweep.
    await finished(blocker);
    expect((await finished(waitingId)).status).toBe('completed');
    await waitFor(
      async () => fs.existsSync(inputPath(waitingSha)),
      (exists) => !exists,
    );
  });
});
