import path from 'node:path';
import type { RunningEngine } from '@flowscale/engine';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { children, filesStartingWith, killHard, spawnServer } from '../support/child-server';
import { sdkClient, TEST_KEY, tempDir, waitFor } from '../support/harness';

// Child processes and real engines on a shared 2-core box: generous limits, only to stop hangs.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

// The server runs as a child process, is killed with SIGKILL while runs are in flight, and is started
// again on the same data dir. Every run must end right: none lost, none duplicated, none stuck.
let engine: RunningEngine | undefined;
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await engine?.close();
});

describe('restart with runs in flight', () => {
  it('external backend: after kill -9, every run completes exactly once', async () => {
    const engineDir = tempDir('restart-engine');
    const { startEngine } = await import('@flowscale/engine');
    engine = await startEngine({ port: 0, dataDir: engineDir, logLevel: 'error' });
    const dataDir = tempDir('restart-data');
    const first = await spawnServer(dataDir, engine.url);
    const api = sdkClient(first.url, TEST_KEY);
    const runIds: string[] = [];
    for (let index = 0; index < 5; index++) {
      const submitted = await api.executeWorkflow('slow-delay', {
        default_value_1: `r${index}`,
        value_4: 0.4,
      });
      runIds.push(submitted.data.run_id);
    }
    await waitFor(
      async () => (await api.getRun(runIds[0]!)).data.status,
      (status) => status === 'running',
    );
    await killHard(first.child);

    const second = await spawnServer(dataDir, engine.url);
    const api2 = sdkClient(second.url, TEST_KEY);
    const runs = await Promise.all(
      runIds.map((runId) =>
        waitFor(
          async () => (await api2.getRun(runId)).data,
          (run) => ['completed', 'failed', 'cancelled'].includes(run.status),
          60_000,
        ),
      ),
    );
    expect(runs.map((run) => run.status)).toEqual(runIds.map(() => 'completed'));
    for (const [index, run] of runs.entries()) {
      const outputName = run.output_names![0]!;
      const output = await api2.getOutput(outputName);
      expect(output?.data.file_content).toBe(`r${index}`);
      // One file on the engine per output name: the prompt was executed once, not twice.
      expect(filesStartingWith(path.join(engineDir, 'output'), outputName)).toHaveLength(1);
    }
    // The event log stayed gap-free across the restart.
    const seqs: number[] = [];
    await api2.subscribeRunEvents(runIds[4]!, { onEvent: (event) => seqs.push(event.data.seq) }).done;
    expect(seqs).toEqual(seqs.map((_, index) => index + 1));
    await killHard(second.child);
  });

  it('embedded engine: runs lost with the killed process are dispatched again and complete', async () => {
    const dataDir = tempDir('restart-embedded');
    const first = await spawnServer(dataDir);
    const api = sdkClient(first.url, TEST_KEY);
    const runIds: string[] = [];
    for (let index = 0; index < 3; index++) {
      runIds.push(
        (await api.executeWorkflow('slow-delay', { default_value_1: `e${index}`, value_4: 0.5 })).data.run_id,
      );
    }
    await killHard(first.child);
    const second = await spawnServer(dataDir);
    const api2 = sdkClient(second.url, TEST_KEY);
    for (const [index, runId] of runIds.entries()) {
      const run = await waitFor(
        async () => (await api2.getRun(runId)).data,
        (record) => ['completed', 'failed', 'cancelled'].includes(record.status),
        60_000,
      );
      expect(run.status).toBe('completed');
      expect((await api2.getOutput(run.output_names![0]!))?.data.file_content).toBe(`e${index}`);
    }
    const all = await api2.getRuns(undefined, { pageSize: 100 });
    expect(all.data.count).toBe(3);
    await killHard(second.child);
  });
});
