import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { isTerminalEventType } from 'flowscale/events';
import type { Logger } from 'pino';
import { AuditLog } from './audit/audit-log';
import { KeyService } from './auth/key-service';
import { type BackendConfig, BackendPool } from './backends/backend-pool';
import { loadBackendTls } from './backends/backend-tls';
import { type EmbeddedEngine, startEmbeddedEngine } from './backends/embedded-engine';
import { openBlobStores } from './blobs/open-blob-stores';
import { type Cluster, clusterFor } from './cluster/cluster';
import { resolveConfig, type ServerOptions } from './config/config';
import { ensureDataDir } from './config/data-dir';
import { listen } from './config/listen';
import type { AppContext } from './context';
import { EventBus } from './events/event-bus';
import { PgEventRelay } from './events/pg-event-relay';
import { readingWrittenRuns } from './events/written-runs';
import { Fleet } from './fleet/fleet';
import { judgeGraph } from './fleet/runnability';
import { buildApp, listRoutes, type RouteSummary } from './http/app';
import { InputBlobs } from './inputs/input-blobs';
import { QueueAdmission } from './limits/admission';
import { createLogger } from './logging/logger';
import { createMetrics } from './metrics/metrics';
import { presignedOutputUrls, UrlSigner } from './outputs/signed-urls';
import { Placement } from './placement/placement';
import { ProjectService } from './projects/project-service';
import { RunAccess } from './projects/run-access';
import { RetentionSweeper } from './retention/retention';
import { RunService } from './runs/run-service';
import { downloadUrlBuilder } from './runs/run-view';
import { RunViews } from './runs/run-views';
import { openStores } from './storage/open-stores';
import { startTelemetry, type Telemetry } from './telemetry/telemetry';
import { Webhooks } from './webhooks/webhooks';
import { WorkflowService } from './workflows/workflow-service';

export interface RunningServer {
  url: string;
  port: number;
  /** Set only on the first start with no key configured or stored; shown once. */
  generatedApiKey?: string;
  /** Every route served, hidden ones included. */
  routes(): RouteSummary[];
  close(): Promise<void>;
}

const announceGeneratedKey = (key: string): void => {
  const line = '='.repeat(72);
  process.stderr.write(
    `\n${line}\n FlowScale server: no API key was configured, so one was generated.\n` +
      ` It is shown only this once (only its hash is stored). Save it now:\n\n   ${key}\n\n` +
      ` Send it as the X-API-KEY header. Set FLOWSCALE_API_KEY to choose your own.\n${line}\n\n`,
  );
};

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const config = resolveConfig(options);
  ensureDataDir(config.dataDir);
  const log = createLogger(config.logLevel);
  // First: a bucket that cannot be used stops the start before anything else is opened.
  const blobs = await openBlobStores(config);
  const stores = await openStores(config, (error) =>
    log.warn({ err: error }, 'An idle database connection failed; the pool replaces it'),
  ).catch((error: unknown) => {
    blobs.close();
    throw error;
  });
  let engine: EmbeddedEngine | undefined;
  let cluster: Cluster | undefined;
  let relay: PgEventRelay | undefined;
  let webhooksStarted: Webhooks | undefined;
  let telemetry: Telemetry | undefined;
  try {
    telemetry = await startTelemetry(log);
    const keys = new KeyService(stores.keys);
    const generatedApiKey = await keys.bootstrap(config.apiKeys);
    const workflows = new WorkflowService(stores.workflows);
    await workflows.load();

    const tls = loadBackendTls(config.comfyuiCaFile, config.comfyuiTlsInsecure);
    let backendConfigs: BackendConfig[] = config.comfyuiUrls.map((url) => ({ id: url, url, tls }));
    if (backendConfigs.length === 0) {
      engine = await startEmbeddedEngine(config.dataDir, config.logLevel, config.maxFileBytes);
      backendConfigs = [{ id: 'embedded', url: engine.url }];
    }

    const secret = await stores.settings.setIfAbsent('url_signing_secret', randomBytes(32).toString('hex'));
    const signer = new UrlSigner(secret, config.downloadUrlTtlSeconds);
    const bus = new EventBus();
    let publicUrl = config.publicUrl ?? '';
    const inputFiles = new InputBlobs(blobs.inputs, blobs.tmpDir);
    const outputs = blobs.outputs;
    const downloadUrl = downloadUrlBuilder(
      () => publicUrl,
      signer,
      config.s3?.downloads === 'presigned'
        ? presignedOutputUrls(outputs, config.downloadUrlTtlSeconds)
        : undefined,
    );
    // The pool reports backend events to the run service, which dispatches through the pool: the pool is
    // bound late, behind a getter, before anything can call it (the pool starts after both exist).
    let pool: BackendPool | undefined;
    const getPool = (): BackendPool => pool as BackendPool;
    // Replicas on one Postgres hear each other's run events (SSE and WebSocket subscribers anywhere), on
    // the one LISTEN session the relay holds; the cluster's doorbells ride on it too.
    if (stores.kind === 'postgres' && config.databaseUrl) {
      relay = new PgEventRelay({ bus, store: stores.events, connectionString: config.databaseUrl, log });
    }
    const listenSession = relay;
    cluster = listenSession
      ? clusterFor(
          config,
          stores.kind,
          backendConfigs,
          engine !== undefined,
          log,
          (channel, onNotice, onListening) => listenSession.listenAlso(channel, onNotice, onListening),
        )
      : undefined;
    const access = new RunAccess(stores.runs);
    const fleet = new Fleet(getPool, log, config.inventoryRefreshMs);
    const placement = new Placement({
      pool: getPool,
      fleet,
      policy: config.placement,
      affinityWaitMs: config.affinityWaitMs,
      maxRunsPerBackend: config.maxRunsPerBackend,
    });
    const runs = new RunService({
      stores,
      access,
      pool: getPool,
      inputFiles,
      outputs,
      bus,
      log,
      reconcileIntervalMs: config.reconcileIntervalMs,
      queueTimeoutMs: config.queueTimeoutMs,
      partitionDeadlineMs: config.partitionDeadlineMs,
      maxRunsPerBackend: config.maxRunsPerBackend,
      inventoryOf: (backend) => fleet.current(backend),
      placement,
      ...(cluster ? { queue: cluster } : {}),
      ...(telemetry ? { tracing: telemetry.runs } : {}),
    });
    pool = new BackendPool(
      backendConfigs,
      fleet.listenerFor(cluster ? cluster.poolListener(runs) : runs),
      undefined,
      log,
      config.backendHeartbeatMs,
    );
    useFleet(workflows, fleet, log);
    // The shipped workflows are judged against what the backends have, so their inventory is read first;
    // a backend that does not answer in time leaves them `unknown`, re-judged when it does.
    await Promise.race([fleet.refreshAll(), sleep(config.inventoryStartupWaitMs)]);
    await workflows.deployFolder(config.workflowsDir, (message) => log.warn(message));
    fleet.start();
    const fleetWide = cluster;
    const views = new RunViews(stores.runs, bus, getPool, downloadUrl, {
      soleWriter: !fleetWide,
      ...(fleetWide ? { reachable: () => fleetWide.reachableAnywhere() } : {}),
    });
    const metrics = createMetrics(stores.runs, () => runs, getPool, bus);
    metrics.observeRuns(bus);
    const webhooks = new Webhooks({
      store: stores.webhooks,
      // Deliveries are built from the run as each event left it, without reading it back.
      runs: readingWrittenRuns(stores.runs, bus),
      viewRun: (run) => views.view(run),
      log,
      settings: {
        scheduleMs: config.webhookScheduleMs,
        timeoutMs: config.webhookTimeoutMs,
        disableAfterMs: config.webhookDisableAfterMs,
        pollIntervalMs: config.webhookPollIntervalMs,
        allowPrivate: config.allowPrivateUrls,
      },
      soleWriter: stores.kind === 'sqlite',
    });
    const ctx: AppContext = {
      config,
      log,
      stores,
      keys,
      projects: new ProjectService(stores.projects, { soleWriter: !cluster }),
      access,
      audit: new AuditLog(stores.audit, log),
      workflows,
      runs,
      views,
      pool,
      fleet,
      bus,
      signer,
      downloadUrl,
      outputs,
      inputFiles,
      metrics,
      ...(telemetry ? { telemetry } : {}),
      admission: new QueueAdmission(config.maxQueuedRuns, () =>
        cluster ? cluster.queuedCount() : runs.activeCount().queued,
      ),
      ...(cluster?.rateLimiter ? { sharedRateLimit: cluster.rateLimiter } : {}),
      webhooks,
      publicUrl: () => publicUrl,
    };
    const app = await buildApp(ctx);
    await relay?.start();
    // Before the runs resume, so the events of runs recovered at start are delivered too.
    await webhooks.start(bus);
    webhooksStarted = webhooks;
    await runs.start();
    if (cluster) {
      const started = cluster;
      await started.start(runs, pool);
      // A run that ends here frees room on a backend this replica owns: look for queued runs now, not at the
      // next poll. Only this replica's own writes matter (other replicas wake themselves), and an all-runs
      // subscription would make the event relay follow and poll every run of the fleet.
      bus.onWritten((event) => {
        if (isTerminalEventType(event.type)) started.wake();
      });
    } else {
      pool.start();
    }
    await listen(app, config.host, config.port);
    const retention = new RetentionSweeper({
      stores,
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
    log.info(
      {
        url,
        backends: backendConfigs.map((backend) => backend.url),
        database: stores.kind,
        files: [inputFiles.blobs.location, outputs.location],
      },
      'FlowScale server listening',
    );
    if (generatedApiKey) announceGeneratedKey(generatedApiKey);

    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closing ??= (async () => {
        await closeHttp(app, config.shutdownGraceMs);
        await retention.stop();
        await cluster?.stop();
        await relay?.stop();
        fleet.stop();
        placement.stop();
        pool?.stop();
        await runs.stop();
        await webhooks.stop();
        await engine?.close();
        await stores.close();
        blobs.close();
        await telemetry?.shutdown();
      })();
      return closing;
    };
    return {
      url,
      port,
      ...(generatedApiKey ? { generatedApiKey } : {}),
      routes: () => listRoutes(app),
      close,
    };
  } catch (error) {
    await webhooksStarted?.stop().catch(() => undefined);
    await engine?.close().catch(() => undefined);
    await cluster?.stop().catch(() => undefined);
    await relay?.stop().catch(() => undefined);
    await stores.close().catch(() => undefined);
    blobs.close();
    await telemetry?.shutdown();
    throw error;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Deploys and re-checks judge workflows against the fleet; each change of the fleet re-checks them all. */
function useFleet(workflows: WorkflowService, fleet: Fleet, log: Logger): void {
  workflows.useFleet({
    nodeInfo: (classType) => fleet.nodeInfo(classType),
    judge: (graph, apiInputs) => judgeGraph(graph, fleet, apiInputs),
  });
  let chain = Promise.resolve();
  fleet.onChange(() => {
    chain = chain
      .then(() => workflows.recheck())
      .catch((error: unknown) => log.error({ err: error }, 're-checking workflows failed'));
  });
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
