import fs from 'node:fs';
import path from 'node:path';
import type { RunRecord } from 'flowscale';
import type { FlowscaleAdminAPI } from 'flowscale/admin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChildServer,
  filesStartingWith,
  killHard,
  spawnEngine,
  spawnServer,
} from '../support/child-server';
import { sdkClient, TEST_KEY, tempDir, waitFor } from '../support/harness';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { startRelay } from '../support/relay';

// Three replicas and two engines, each its own process, on one Postgres: the scale-out of issue 10.
const TERMINAL = ['completed', 'failed', 'cancelled'];
const LEASE_TTL_MS = 2000;

let database: TestDatabase;
const engineDirs: string[] = [];
const engines: ChildServer[] = [];
const replicas: ChildServer[] = [];
let sharedDataDir: string;

async function startReplica(): Promise<ChildServer> {
  const args = ['--api-key', TEST_KEY, '--log-level', 'error', '--database-url', database.url];
  for (const engine of engines) args.push('--comfyui-url', engine.url);
  const replica = await spawnServer(sharedDataDir, undefined, args, {
    FLOWSCALE_LEASE_TTL_MS: String(LEASE_TTL_MS),
  });
  replicas.push(replica);
  return replica;
}

const port = (url: string): number => Number(new URL(url).port);
const apiOf = (replica: ChildServer): FlowscaleAdminAPI => sdkClient(replica.url, TEST_KEY);
const alive = (): ChildServer[] =>
  replicas.filter((replica) => replica.child.exitCode === null && !replica.child.killed);

/** Files an engine wrote for an output name: one per execution of its save node. */
const executions = (outputName: string): number =>
  engineDirs.reduce((sum, dir) => sum + filesStartingWith(path.join(dir, 'output'), outputName).length, 0);

async function settle(api: () => FlowscaleAdminAPI, runIds: string[], timeoutMs = 120_000) {
  const runs: RunRecord[] = [];
  for (const runId of runIds) {
    runs.push(
      await waitFor(
        async () => (await api().getRun(runId)).data,
        (run) => TERMINAL.includes(run.status),
        timeoutMs,
      ),
    );
  }
  return runs;
}

beforeAll(async () => {
  database = await createTestDatabase('cluster');
  sharedDataDir = tempDir('cluster-data');
  for (let index = 0; index < 2; index++) {
    const dir = tempDir(`cluster-engine-${index}`);
    engineDirs.push(dir);
    engines.push(await spawnEngine(dir));
  }
  // One at a time: the first migrates, the others find the schema in place.
  for (let index = 0; index < 3; index++) await startReplica();
}, 180_000);

afterAll(async () => {
  const running = [...replicas, ...engines].filter(
    (c) => c.child.exitCode === null && c.child.signalCode === null,
  );
  await Promise.all(running.map((c) => killHard(c.child).catch(() => undefined)));
  await database?.drop();
  for (const dir of [sharedDataDir, ...engineDirs]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('three replicas on one Postgres', () => {
  it('1,000 runs submitted round-robin: all complete, none lost, none executed twice', async () => {
    const apis = replicas.map(apiOf);
    const runIds: string[] = new Array(1000);
    let next = 0;
    const submitter = async (): Promise<void> => {
      for (let index = next++; index < runIds.length; index = next++) {
        const api = apis[index % apis.length]!;
        runIds[index] = (
          await api.executeWorkflow('text-echo', { default_value_1: `r${index}` })
        ).data.run_id;
      }
    };
    await Promise.all(Array.from({ length: 16 }, submitter));
    const runs = await settle(() => apis[0]!, runIds);
    expect(
      runs.filter((run) => run.status !== 'completed').map((run) => [run._id, run.status, run.error]),
    ).toEqual([]);
    // Every output is right, and every prompt ran exactly once on one of the engines.
    for (const [index, run] of runs.entries()) {
      const outputName = run.output_names![0]!;
      if (index % 50 === 0) {
        const output = await apis[(index + 1) % 3]!.getOutput(outputName);
        expect(output?.data.file_content).toBe(`r${index} from FlowScale`);
      }
      expect(executions(outputName)).toBe(1);
    }
  }, 300_000);

  it('a subscriber on one replica receives every event of a run another replica accepted', async () => {
    const [a, b] = [apiOf(replicas[0]!), apiOf(replicas[1]!)];
    const submitted = await a.executeWorkflow('slow-delay', { default_value_1: 'across', value_4: 0.3 });
    const seqs: number[] = [];
    const types: string[] = [];
    await b.subscribeRunEvents(submitted.data.run_id, {
      onEvent: (event) => {
        seqs.push(event.data.seq);
        types.push(String(event.event));
      },
    }).done;
    expect(seqs).toEqual(seqs.map((_, index) => index + 1));
    expect(types[0]).toBe('run.queued');
    expect(types.at(-1)).toBe('run.completed');
  }, 60_000);

  it('kill -9 of a replica with runs in flight: every run ends once, and a follower resumes through the balancer', async () => {
    const victim = replicas[0]!;
    // Every connection goes to the victim while it lives, then round-robin over the survivors.
    let turn = 0;
    const balancer = await startRelay(() => {
      const live = alive();
      return port(live.includes(victim) ? victim.url : live[turn++ % live.length]!.url);
    });
    try {
      const direct = replicas.map(apiOf);
      const runIds: string[] = [];
      for (let index = 0; index < 12; index++) {
        const submitted = await direct[index % 3]!.executeWorkflow('slow-delay', {
          default_value_1: `k${index}`,
          value_4: 0.5,
        });
        runIds.push(submitted.data.run_id);
      }
      // A client following a run through the balancer, attached to whichever replica it lands on.
      let submitted: (runId: string) => void = () => undefined;
      const followedRun = new Promise<string>((resolve) => {
        submitted = resolve;
      });
      const follower = sdkClient(balancer.url, TEST_KEY).executeWorkflowAsync(
        'slow-delay',
        { default_value_1: 'followed', value_4: 1.5 },
        undefined,
        500,
        120_000,
        {
          onIntermediateResponse: (update) => {
            if (update.type === 'workflow_submitted') submitted(update.runId);
          },
        },
      );
      // Its run is accepted (by the victim) and its event stream attached before the kill.
      const followedId = await followedRun;
      await waitFor(
        async () => (await direct[1]!.getRun(followedId)).data.status,
        (status) => status === 'running',
      );
      await waitFor(
        async () => (await direct[0]!.getRun(runIds[0]!)).data.status,
        (status) => status !== 'queued',
      );
      await killHard(victim.child);
      balancer.cutAll(); // connections through the dead replica die with it

      const survivor = () => apiOf(alive()[0]!);
      const runs = await settle(survivor, runIds, 120_000);
      expect(runs.map((run) => run.status)).toEqual(runIds.map(() => 'completed'));
      for (const [index, run] of runs.entries()) {
        expect(executions(run.output_names![0]!)).toBe(1);
        expect((await survivor().getOutput(run.output_names![0]!))?.data.file_content).toBe(`k${index}`);
        // The event log has no gap and no duplicate, across the takeover.
        const seqs: number[] = [];
        await survivor().subscribeRunEvents(run._id, { onEvent: (event) => seqs.push(event.data.seq) }).done;
        expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      }
      const result = await follower;
      expect(result.data[0]?.file_content).toBe('followed');
    } finally {
      await balancer.close();
    }
  }, 240_000);
});
