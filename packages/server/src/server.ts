import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { KeyService } from './auth/key-service';
import { type BackendConfig, BackendPool } from './backends/backend-pool';
import { type EmbeddedEngine, startEmbeddedEngine } from './backends/embedded-engine';
import { resolveConfig, type ServerOptions } from './config/config';
import type { AppContext } from './context';
import { EventBus } from './events/event-bus';
import { buildApp } from './http/app';
import { InputFileStore } from './inputs/file-store';
import { QueueAdmission } from './limits/admission';
import { createLogger } from './logging/logger';
import { createMetrics } from './metrics/metrics';
import { LocalOutputStorage } from './outputs/output-storage';
import { UrlSigner } from './outputs/signed-urls';
import { RetentionSweeper } from './retention/retention';
import { RunService } from './runs/run-service';
import { downloadUrlBuilder } from './runs/run-view';
import { RunViews } from './runs/run-views';
import { SqliteStorage } from './storage/sqlite-storage';
import { WorkflowService } from './workflows/workflow-service';

export interface RunningServer {
  url: string;
  port: number;
  /** Set only on the first start with no key configured or stored; shown once. */
  generatedApiKey?: string;
  close(): Promise<void>;
}

const announceGeneratedKey = (key: string): void => {
  const line = '='.repeat(72);
  process.stdout.write(
    `\n${line}\n FlowScale server: no API key was configured, so one was generated.\n` +
      ` It is shown only this once (only its hash is stored). Save it now:\n\n   ${key}\n\n` +
      ` Send it as the X-API-KEY header. Set FLOWSCALE_API_KEY to choose your own.\n${line}\n\n`,
  );
};

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const config = resolveConfig(options);
  const log = createLogger(config.logLevel);
  const storage = await SqliteStorage.open(config.dataDir);
  let engine: EmbeddedEngine | undefined;
  try {
    const keys = new KeyService(storage);
    const generatedApiKey = await keys.bootstrap(config.apiKeys);
    const workflows = new WorkflowService(storage);
    await workflows.load();
    await workflows.deployFolder(config.workflowsDir, (message) => log.warn(message));

    let backendConfigs: BackendConfig[] = config.comfyuiUrls.map((url) => ({ id: url, url }));
    if (backendConfigs.length === 0) {
      engine = await startEmbeddedEngine(config.dataDir, config.logLevel);
      backendConfigs = [{ id: 'embedded', url: engine.url }];
    }

    const secret = await storage.setSettingIfAbsent('url_signing_secret', randomBytes(32).toString('hex'));
    const signer = new UrlSigner(secret, config.downloadUrlTtlSeconds);
    const bus = new EventBus();
    let publicUrl = config.publicUrl ?? '';
    const inputFiles = new InputFileStore(config.dataDir);
    const outputs = new LocalOutputStorage(config.dataDir);
    // The pool reports backend events to the run service, which dispatches through the pool: the pool is
    // bound late, behind a getter, before anything can call it (the pool starts after both exist).
    let pool: BackendPool | undefined;
    const getPool = (): BackendPool => pool as BackendPool;
    const runs = new RunService({
      storage,
      pool: getPool,
      inputFiles,
      outputs,
      bus,
      log,
      reconcileIntervalMs: config.reconcileIntervalMs,
    });
    pool = new BackendPool(backendConfigs, runs);
    const views = new RunViews(
      storage,
      bus,
      getPool,
      downloadUrlBuilder(() => publicUrl, signer),
    );
    const metrics = createMetrics(storage, () => runs, getPool);
    const ctx: AppContext = {
      config,
      log,
      storage,
      keys,
      workflows,
      runs,
      views,
      pool,
      bus,
      signer,
      outputs,
      inputFiles,
      metrics,
      admission: new QueueAdmission(config.maxQueuedRuns, () => runs.activeCount().queued),
      publicUrl: () => publicUrl,
    };
    const app = await buildApp(ctx);
    await runs.start();
    pool.start();
    await app.listen({ host: config.host, port: config.port });
    const retention = new RetentionSweeper({
      storage,
      inputFiles,
      outputs,
      log,
      days: config.retentionDays,
      intervalMs: config.retentionSweepIntervalMs,
    });
    retention.start();
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const localHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    const url = `http://${localHost.includes(':') ? `[${localHost}]` : localHost}:${port}`;
    publicUrl = config.publicUrl ?? url;
    log.info({ url, backends: backendConfigs.map((backend) => backend.url) }, 'FlowScale server listening');
    if (generatedApiKey) announceGeneratedKey(generatedApiKey);

    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closing ??= (async () => {
        await closeHttp(app, config.shutdownGraceMs);
        await retention.stop();
        pool?.stop();
        await runs.stop();
        await engine?.close();
        await storage.close();
      })();
      return closing;
    };
    return { url, port, ...(generatedApiKey ? { generatedApiKey } : {}), close };
  } catch (error) {
    await engine?.close().catch(() => undefined);
    await storage.close().catch(() => undefined);
    throw error;
  }
}

// In-flight requests get a grace period to finish on shutdown. A client that vanished while its request
// was still waiting (e.g. behind a proxy) must not hold the process open forever.
async function closeHttp(app: FastifyInstance, graceMs: number): Promise<void> {
  const force = setTimeout(() => app.server.closeAllConnections(), graceMs);
  force.unref();
  try {
    await app.close();
  } finally {
    clearTimeout(force);
  }
}
