import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningEngine } from '@flowscale/engine';
import { afterAll, describe, expect, it } from 'vitest';
import { sdkClient, startTestEngine, TEST_KEY, tempDir, waitFor } from '../support/harness';

// The server runs as a child process, is killed with SIGKILL while runs are in flight, and is started
// again on the same data dir. Every run must end right: none lost, none duplicated, none stuck.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const children = new Set<ChildProcess>();

async function spawnServer(
  dataDir: string,
  comfyuiUrl?: string,
): Promise<{ child: ChildProcess; url: string }> {
  const args = ['--conditions=source', '--import', 'tsx', 'packages/server/src/bin.ts'];
  args.push('--port', '0', '--data-dir', dataDir, '--api-key', TEST_KEY, '--log-level', 'error');
  if (comfyuiUrl) args.push('--comfyui-url', comfyuiUrl);
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 60_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  return { child, url };
}

async function killHard(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

function filesStartingWith(dir: string, prefix: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => path.basename(file).startsWith(prefix));
}

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
